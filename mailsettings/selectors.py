"""Reads of mail accounts. Every read of tenant data starts from the actor: their organization, their role,
their lock (through mail_settings_check_access)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import F, QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from config.errors import InvalidInput, NotFound
from locks.errors import SettingsLocked
from mailsettings.access import mail_settings_check_access
from mailsettings.addresses import AddressError, normalize_address, parse_address
from mailsettings.discovery import Detection, detect
from mailsettings.errors import NoOwnMailSettings
from mailsettings.filters import MailAccountFilter
from mailsettings.models import MailAccount
from mailsettings.provider_table import PROTOCOLS


def _tenant_accounts(*, actor: User) -> QuerySet[MailAccount]:
    qs = MailAccount.objects.select_related("owner", "organization", "oauth_credential")
    if actor.is_superuser:
        return qs
    if actor.organization_id is None:
        return qs.none()
    return qs.filter(organization_id=actor.organization_id)


def mail_account_list(*, actor: User, filters: Mapping[str, Any] | None = None) -> QuerySet[MailAccount]:
    """A standard user's own accounts; an admin's organization's; an operator's all. Turned-off ones included.

    A locked standard user is refused (their list is their own settings). A locked admin still manages the
    other users' accounts, so the list is theirs minus their own account.
    """
    qs = _tenant_accounts(actor=actor)
    if actor.is_superuser:
        pass
    elif actor.is_org_admin:
        try:
            mail_settings_check_access(actor=actor, owner=actor)
        except SettingsLocked:
            qs = qs.exclude(owner=actor)
    else:
        mail_settings_check_access(actor=actor, owner=actor)
        qs = qs.filter(owner=actor)
    filterset = MailAccountFilter(data=dict(filters or {}), queryset=qs)
    if not filterset.is_valid():
        raise InvalidInput(fields={name: list(messages) for name, messages in filterset.errors.items()})
    return filterset.qs


def mail_account_get(*, actor: User, account_id: int) -> MailAccount:
    """One account the actor may reach, or 404 (another tenant's account is indistinguishable from none)."""
    account = _tenant_accounts(actor=actor).filter(pk=account_id).first()
    if account is None:
        raise NotFound()
    mail_settings_check_access(actor=actor, owner=account.owner)
    return account


def mail_account_own_get(*, actor: User) -> MailAccount | None:
    """The actor's own active account, or None when they have not registered one (or turned it off).

    Refused for operators (NoOwnMailSettings) and, through mail_settings_check_access, for a user whose own
    settings are locked, admins included (SettingsLocked: scenarios T7/T9 of docs/scenarios.md)."""
    if actor.organization_id is None:
        raise NoOwnMailSettings()
    mail_settings_check_access(actor=actor, owner=actor)
    return _tenant_accounts(actor=actor).filter(owner=actor, disabled_at__isnull=True).first()


def mail_account_owner_get(*, actor: User, owner_id: Any) -> User:
    """The user an account is registered for: the actor by default; another user of the organization for an
    admin. Anyone else is 404 (mail_settings_check_access decides, when the service is called)."""
    if owner_id in (None, ""):
        return actor
    qs = User.objects.all() if actor.is_superuser else User.objects.filter(organization_id=actor.organization_id)
    try:
        owner = qs.filter(pk=int(owner_id)).first()
    except (TypeError, ValueError):
        raise InvalidInput(fields={"owner": [_("Give the id of a user of your organization.")]}) from None
    if owner is None:
        raise NotFound()
    return owner


def mail_account_active_for_recheck() -> QuerySet[MailAccount]:
    """Every active binding, never-checked and longest-unchecked first (the periodic re-check; no actor)."""
    return (
        MailAccount.objects.select_related("owner", "organization")
        .filter(disabled_at__isnull=True)
        .order_by(F("last_checked_at").asc(nulls_first=True), "id")
    )


# --- form helpers: availability and provider detection ----------------------------------------------------------


def _check_tool_access(*, actor: User) -> None:
    # The tools serve the registration form. A standard user registers only for themselves, so their lock
    # refuses them here too; an admin (locked or not) still registers for the organization's other users.
    if actor.is_superuser or actor.is_org_admin:
        return
    mail_settings_check_access(actor=actor, owner=actor)


def _parse(address: Any) -> str:
    if address is None or (isinstance(address, str) and not address.strip()):
        raise InvalidInput(fields={"address": [_("This field is required.")]})
    try:
        return normalize_address(address)
    except AddressError as exc:
        raise InvalidInput(fields={"address": [exc.message]}) from None


def address_availability(*, actor: User, address: Any) -> dict[str, Any]:
    """Whether an address may be bound now. Never says who holds it: that is for the 409 of a registration."""
    _check_tool_access(actor=actor)
    normalized = _parse(address)
    taken = MailAccount.objects.filter(address_normalized=normalized, disabled_at__isnull=True).exists()
    return {"address": normalized, "available": not taken, "code": "address_in_use" if taken else None}


def provider_detect(*, actor: User, address: Any, protocol: Any = None, network: bool = True) -> Detection:
    """The provider behind an address and the settings to use. network=False answers from local knowledge at once;
    otherwise the network methods run within DISCOVERY_DEADLINE (probes rate-limited per user and per domain).
    Network trouble is a note in the answer, never an error."""
    _check_tool_access(actor=actor)
    _parse(address)
    protocol = (protocol or "imap").strip().lower()
    if protocol not in PROTOCOLS:
        raise InvalidInput(fields={"protocol": [_("Choose imap or pop3.")]})
    return detect(parse_address(address), protocol=protocol, network=network, actor_id=actor.pk)
