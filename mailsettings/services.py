"""Writes of mail accounts: register, update, change password, turn off and on, record a check.

Every operation of a person starts with mail_settings_check_access (tenant, role and lock: one place). Every
change is an AuditEvent naming the changed fields, never a secret's value. The database constraints are the last
word on "one active binding per address / per user": the pre-checks only give the common case a friendly answer.
"""
from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.db.models import Case, CharField, Q, TextField, Value, When
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables

from accounts.models import User
from accounts.services import audit_record
from config.db import violated_constraint
from config.errors import InvalidInput, NotFound
from mailsettings import password_rule
from mailsettings.access import mail_settings_check_access
from mailsettings.errors import AccountChanged, AccountExists, AddressInUse
from mailsettings.models import AccountStatus, AuthMethod, MailAccount
from mailsettings.oauth_tokens import oauth_credential_discard
from mailsettings.secrets import secret_rotate
from mailsettings.validation import (
    CONNECTION_FIELDS,
    mail_account_clean,
    password_clean,
    password_refuse_for_oauth,
)

ADDRESS_CONSTRAINT = "one_active_binding_per_address"
USER_CONSTRAINT = "one_active_binding_per_user"

APPLY_TO = ("incoming", "outgoing", "both")
# Statuses a check may record; "disabled" belongs to disable/enable only.
CHECK_STATUSES = frozenset({
    AccountStatus.PENDING, AccountStatus.CONNECTED, AccountStatus.AUTH_FAILED, AccountStatus.CONNECTION_FAILED,
    AccountStatus.REAUTH_REQUIRED,
})


# --- conflicts --------------------------------------------------------------------------------------------------


def _address_in_use(*, actor: User, address_normalized: str) -> AddressInUse:
    """The 409 for a taken address; who holds it is told only to an admin of the holder's organization."""
    holder = (
        MailAccount.objects.select_related("owner")
        .filter(address_normalized=address_normalized, disabled_at__isnull=True)
        .first()
    )
    extra: dict[str, Any] = {}
    if holder is not None and actor.is_org_admin and actor.organization_id == holder.organization_id:
        extra["holder"] = {"id": holder.owner_id, "email": holder.owner.email}
    return AddressInUse(extra=extra)


def _check_free(
    *, actor: User, owner: User | None, address_normalized: str | None, exclude_pk: int | None = None
) -> None:
    """Friendly pre-check of both rules; the constraints still decide under a race."""
    active = MailAccount.objects.filter(disabled_at__isnull=True)
    if exclude_pk is not None:
        active = active.exclude(pk=exclude_pk)
    if owner is not None and active.filter(owner=owner).exists():
        raise AccountExists()
    if address_normalized is not None and active.filter(address_normalized=address_normalized).exists():
        raise _address_in_use(actor=actor, address_normalized=address_normalized)


def _save_audited(
    *,
    actor: User | None,
    account: MailAccount,
    action: str,
    fields: Iterable[str],
    update_fields: list[str] | None = None,
    details: Mapping[str, Any] | None = None,
) -> MailAccount:
    """Save and audit in one savepoint; turn a broken binding constraint into the product's 409."""
    fields = sorted(set(fields) - {"address_normalized"})
    try:
        with transaction.atomic():
            account.save(update_fields=update_fields)
            audit_record(
                action=action,
                actor=actor,
                organization=account.organization,
                target=account,
                details={"fields": fields, "owner_id": account.owner_id, **(details or {})},
            )
    except IntegrityError as exc:
        constraint = violated_constraint(exc)
        if account.pk is not None and not account._state.adding:
            account.refresh_from_db()  # the caller must not keep values the database refused
        if constraint == ADDRESS_CONSTRAINT:
            raise _address_in_use(actor=actor, address_normalized=account.address_normalized) from None
        if constraint == USER_CONSTRAINT:
            raise AccountExists() from None
        raise
    return account


def _unchecked_status(account: MailAccount) -> str:
    # A password cleared by the password rule must be entered again before any sign-in: the status says so.
    return AccountStatus.NEEDS_PASSWORD if account.missing_passwords else AccountStatus.PENDING


def _reset_check(account: MailAccount, changed: list[str]) -> None:
    # New connection settings make the last check's answer stale; a turned-off account stays "disabled".
    if account.is_active:
        account.status = _unchecked_status(account)
        account.last_error_code = ""
        changed += ["status", "last_error_code"]


def _row_locked(account: MailAccount) -> MailAccount:
    """The account as the database holds it now, its row locked until the caller's transaction ends.

    Every write computes from this row, not from the caller's copy: two simultaneous changes queue one after the
    other (the second sees the first), and a copy read before someone turned the account off cannot write into
    the turned-off row. Must be called inside transaction.atomic() (SQLite has no row locks; it writes one at a
    time anyway).
    """
    fresh = (
        MailAccount.objects.select_for_update(of=("self",))
        .select_related("owner", "organization")
        .filter(pk=account.pk)
        .first()
    )
    if fresh is None:
        raise NotFound()
    return fresh


def _refuse_if_turned_off_meanwhile(account: MailAccount, fresh: MailAccount) -> None:
    if account.is_active and not fresh.is_active:
        raise AccountChanged()


def _sync(target: MailAccount, source: MailAccount) -> MailAccount:
    """Give the caller's copy the values written, so code holding it sees what the database holds."""
    if target is not source:
        for field in MailAccount._meta.concrete_fields:
            setattr(target, field.attname, getattr(source, field.attname))
    return source


# --- operations of a person ----------------------------------------------------------------------------------


@sensitive_variables("data", "cleaned")
def mail_account_register(*, actor: User, owner: User, data: Mapping[str, Any]) -> MailAccount:
    """Register `owner`'s IMAP/POP3 + SMTP account (the actor's own, or an admin's for a user of the org)."""
    mail_settings_check_access(actor=actor, owner=owner)
    if owner.organization_id is None:
        raise InvalidInput(fields={"owner": [_("Mail accounts belong to users of an organization.")]})
    cleaned = mail_account_clean(data=data)
    _check_free(actor=actor, owner=owner, address_normalized=cleaned["address_normalized"])
    account = MailAccount(
        owner=owner, organization_id=owner.organization_id, status=AccountStatus.PENDING, **cleaned
    )
    return _save_audited(actor=actor, account=account, action="mail_account.registered", fields=cleaned)


@sensitive_variables("data", "cleaned")
def mail_account_update(*, actor: User, account: MailAccount, data: Mapping[str, Any]) -> MailAccount:
    """Change some settings of an account (only the keys given), computed from the row as it is now."""
    mail_settings_check_access(actor=actor, owner=account.owner)
    with transaction.atomic():
        fresh = _row_locked(account)
        _refuse_if_turned_off_meanwhile(account, fresh)
        cleaned = mail_account_clean(data=data, account=fresh)
        changed = [name for name, value in cleaned.items() if getattr(fresh, name) != value]
        if not changed:
            return _sync(account, fresh)  # nothing changed: no write, no audit event
        # The password rule: the owner brings the password with a change of where it is sent; anyone else's
        # change clears the password that would have gone to the new place.
        missing = password_rule.passwords_missing(account=fresh, cleaned=cleaned)
        if missing and actor.pk == fresh.owner_id:
            raise password_rule.password_required_error(missing)
        token_moved = password_rule.token_moved(account=fresh, cleaned=cleaned)  # the same rule, OAuth2 bindings
        if token_moved and actor.pk == fresh.owner_id:
            raise password_rule.sign_in_required_error(token_moved)
        if "address_normalized" in changed and fresh.is_active:
            _check_free(
                actor=actor, owner=None, address_normalized=cleaned["address_normalized"], exclude_pk=fresh.pk
            )
        for name in changed:
            setattr(fresh, name, cleaned[name])
        cleared = password_rule.passwords_clear(fresh, missing)
        changed += [name for name in cleared if name not in changed]
        audited = list(changed)
        if CONNECTION_FIELDS.intersection(changed):
            _reset_check(fresh, changed)
        if token_moved:
            oauth_credential_discard(account=fresh)  # its tokens go (revoked after commit): the owner signs in again
            cleared.append("oauth_tokens")
            if fresh.is_active:
                fresh.status = AccountStatus.REAUTH_REQUIRED
                changed += [name for name in ("status", "last_error_code") if name not in changed]
        _save_audited(
            actor=actor, account=fresh, action="mail_account.updated", fields=audited,
            update_fields=[*changed, "updated_at"], details={"passwords_cleared": cleared} if cleared else None,
        )
    return _sync(account, fresh)


@sensitive_variables("password", "changes")
def mail_account_password_change(
    *, actor: User, account: MailAccount, password: str, apply_to: str | None = None
) -> MailAccount:
    """Set a new password for the incoming server, the outgoing one, or both (scenario T4 of docs/scenarios.md).

    `apply_to` defaults to "both" when the account uses the same credentials for sending. Changing only one side
    of a same-credentials account gives SMTP its own credentials, so the other side keeps its password. Computed
    from the locked row: an incoming and an outgoing change at the same moment both survive.
    """
    mail_settings_check_access(actor=actor, owner=account.owner)
    password_refuse_for_oauth(account=account)
    if apply_to not in (None, "", *APPLY_TO):
        raise InvalidInput(fields={"apply_to": [_("Choose incoming, outgoing or both.")]})
    password = password_clean(value=password)
    with transaction.atomic():
        fresh = _row_locked(account)
        _refuse_if_turned_off_meanwhile(account, fresh)
        if apply_to is None or apply_to == "":
            if not fresh.smtp_same_credentials:
                message = _("Choose where the new password applies: incoming, outgoing or both.")
                raise InvalidInput(fields={"apply_to": [message]})
            apply_to = "both"

        changes: dict[str, Any] = {}
        if fresh.smtp_same_credentials and apply_to != "both":
            # Split the shared login: SMTP keeps the same username and the password that is not changing.
            changes.update(
                smtp_same_credentials=False,
                smtp_username=fresh.incoming_username,
                smtp_password=fresh.incoming_password,
            )
        if apply_to in ("incoming", "both"):
            changes["incoming_password"] = password
        if apply_to in ("outgoing", "both") and not (fresh.smtp_same_credentials and apply_to == "both"):
            changes["smtp_password"] = password
        for name, value in changes.items():
            setattr(fresh, name, value)
        changed = list(changes)
        audited = list(changed)
        _reset_check(fresh, changed)
        _save_audited(
            actor=actor, account=fresh, action="mail_account.password_changed", fields=audited,
            update_fields=[*changed, "updated_at"], details={"apply_to": apply_to},
        )
    return _sync(account, fresh)


def mail_account_disable(*, actor: User, account: MailAccount) -> MailAccount:
    """Turn the binding off: kept for history, its address and its owner's slot are free again."""
    mail_settings_check_access(actor=actor, owner=account.owner)
    with transaction.atomic():
        fresh = _row_locked(account)
        if not fresh.is_active:
            return _sync(account, fresh)  # already off (perhaps by someone else a moment ago): nothing to do
        fresh.disabled_at = timezone.now()
        fresh.status = AccountStatus.DISABLED
        _save_audited(
            actor=actor, account=fresh, action="mail_account.disabled", fields=["disabled_at", "status"],
            update_fields=["disabled_at", "status", "updated_at"],
        )
        oauth_credential_discard(account=fresh)  # an OAuth2 binding's tokens go with it (revoked after commit)
    return _sync(account, fresh)


def mail_account_enable(*, actor: User, account: MailAccount) -> MailAccount:
    """Turn a binding back on, if its address and its owner's slot are still free; it must be checked again."""
    mail_settings_check_access(actor=actor, owner=account.owner)
    with transaction.atomic():
        fresh = _row_locked(account)
        if fresh.is_active:
            return _sync(account, fresh)
        _check_free(
            actor=actor, owner=fresh.owner, address_normalized=fresh.address_normalized, exclude_pk=fresh.pk
        )
        fresh.disabled_at = None
        fresh.status = _unchecked_status(fresh)
        fresh.last_error_code = ""
        if fresh.auth_method == AuthMethod.OAUTH2:
            fresh.status = AccountStatus.REAUTH_REQUIRED  # its tokens went when it was turned off
        _save_audited(
            actor=actor, account=fresh, action="mail_account.enabled", fields=["disabled_at", "status"],
            update_fields=["disabled_at", "status", "last_error_code", "updated_at"],
        )
    return _sync(account, fresh)


# --- the system's operations (no person, no access check) -----------------------------------------------------


def mail_account_record_check(
    *, account: MailAccount, status: str, error_code: str = "", checked_at: datetime.datetime | None = None
) -> bool:
    """Record a check's outcome (diagnostics). Returns False when it was dropped.

    `checked_at` is when the check read the settings (its start). The result is dropped when the account was
    turned off, when its settings changed after `checked_at` (the answer is about settings that no longer
    exist), or when a later check was already recorded. An account waiting for a password keeps that status:
    only the owner's password ends it (a check without sign-in cannot say the account works).
    """
    if status not in CHECK_STATUSES:
        raise ValueError(f"a check cannot set status {status!r}")
    checked_at = checked_at or timezone.now()
    error_code = (error_code or "")[:64]
    waiting = AccountStatus.NEEDS_PASSWORD
    new_status = Case(When(status=waiting, then=Value(waiting)), default=Value(status), output_field=CharField())
    rows = (
        MailAccount.objects.filter(pk=account.pk, disabled_at__isnull=True, updated_at__lte=checked_at)
        .filter(Q(last_checked_at__isnull=True) | Q(last_checked_at__lte=checked_at))
    )
    with transaction.atomic():
        updated = rows.update(status=new_status, last_error_code=error_code, last_checked_at=checked_at)
        if updated:
            status = MailAccount.objects.filter(pk=account.pk).values_list("status", flat=True).get()
    if updated:
        account.status, account.last_error_code, account.last_checked_at = status, error_code, checked_at
    return bool(updated)


# --- secrets at rest ------------------------------------------------------------------------------------------

SECRET_COLUMNS = ("incoming_password", "smtp_password")


def _under_first_key(token: str) -> bool:
    first = settings.FIELD_ENCRYPTION_KEYS[0]
    try:
        Fernet(first.encode() if isinstance(first, str) else first).decrypt(token.encode())
    except InvalidToken:
        return False
    return True


def mail_account_secrets_rotate() -> dict[str, int]:
    """Re-encrypt every stored password under the first of FIELD_ENCRYPTION_KEYS; then the others can go.

    Works on the ciphertext (never holds a plaintext longer than MultiFernet.rotate does) and writes each row
    only if it is unchanged since it was read, so a password changed meanwhile is not overwritten.
    Returns {"touched": rows re-encrypted, "current": rows already under the first key, "changed": rows skipped
    because they changed under us (they were written under the first key by that change)}.
    """
    raw = {f"raw_{name}": Cast(name, output_field=TextField()) for name in SECRET_COLUMNS}
    counts = {"touched": 0, "current": 0, "changed": 0}
    rows = MailAccount.objects.annotate(**raw).values_list("pk", *raw).order_by("pk")
    for pk, *tokens in rows.iterator(chunk_size=500):
        old = dict(zip(SECRET_COLUMNS, tokens, strict=True))
        stale = {name: token for name, token in old.items() if token and not _under_first_key(token)}
        if not stale:
            counts["current"] += 1
            continue
        try:
            new = {name: Value(secret_rotate(token), output_field=TextField()) for name, token in stale.items()}
        except InvalidToken:
            # Never print the token: it is the ciphertext of a password.
            raise ImproperlyConfigured(
                f"Mail account {pk} has a password that no key in FIELD_ENCRYPTION_KEYS decrypts."
            ) from None
        unchanged = {f"raw_{name}": token for name, token in old.items()}
        updated = MailAccount.objects.annotate(**raw).filter(pk=pk, **unchanged).update(**new)
        counts["touched" if updated else "changed"] += 1
    return counts
