"""Writes of locks: an admin locks or releases a user's mail settings.

The database decides races, not a read before the write: a lock is an INSERT that the partial unique constraint
`one_unreleased_lock_per_user` refuses when the user is already locked, and a release is a conditional
UPDATE ... WHERE released_at IS NULL that only one of two simultaneous admins can win.
"""
from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.services import audit_record
from config.db import violated_constraint
from config.errors import NotFound, PermissionDenied
from locks.errors import AlreadyLocked, CannotLockOwnSettings, CannotUnlockOwnSettings, LockedAdminRestricted, NotLocked
from locks.models import SettingsLock
from locks.selectors import settings_lock_active

LOCK_CONSTRAINT = "one_unreleased_lock_per_user"

ACTION_LOCKED = "settings_lock.created"
ACTION_RELEASED = "settings_lock.released"
VIA_COMMAND = "unlock_settings command"


def settings_lock_check_manager(*, actor: User, user: User) -> None:
    """Raise unless `actor` may lock or unlock the settings of `user`.

    Another organization's user is indistinguishable from none (404); in the same organization only admins
    manage locks (403). Operators (superusers) may act on any organization's user from the Django admin.
    """
    if user.organization_id is None:
        raise NotFound()  # operators have no mail settings to lock
    if actor.is_superuser and actor.is_active:
        return
    if not actor.is_active or actor.organization_id is None or actor.organization_id != user.organization_id:
        raise NotFound()
    if not actor.is_org_admin:
        raise PermissionDenied()


def locked_admin_check(actor: User) -> None:
    """Refuse an admin whose own mail settings are locked: managing users or locking others would get around it.

    Registered by LocksConfig.ready() in accounts.services.user_management_guards (accounts must not import
    locks). Releasing other people's locks stays allowed: it only gives settings back.
    """
    if settings_lock_active(user=actor) is not None:
        raise LockedAdminRestricted()


def settings_lock_create(*, actor: User, user: User, reason: str = "") -> SettingsLock:
    """Lock `user`'s mail settings. 409 `already_locked` when a lock is in place, even one taken a moment ago."""
    settings_lock_check_manager(actor=actor, user=user)
    if actor.pk == user.pk:
        raise CannotLockOwnSettings()
    locked_admin_check(actor)
    reason = (reason or "").strip()[: SettingsLock._meta.get_field("reason").max_length]
    try:
        with transaction.atomic():
            lock = SettingsLock.objects.create(
                user=user, organization_id=user.organization_id, locked_by=actor, reason=reason
            )
            audit_record(
                action=ACTION_LOCKED, actor=actor, organization=user.organization, target=user,
                details={"lock_id": lock.pk, "reason": reason},
            )
    except IntegrityError as error:
        if violated_constraint(error) != LOCK_CONSTRAINT:
            raise
        raise AlreadyLocked.for_lock(settings_lock_active(user=user)) from None
    return lock


def _release(
    *, user: User, released_by: User | None, reason: str, audit_actor: User | None, details: dict
) -> SettingsLock:
    reason = (reason or "").strip()[: SettingsLock._meta.get_field("release_reason").max_length]
    with transaction.atomic():
        # Only one of two simultaneous releases matches `released_at IS NULL`; the loser updates 0 rows.
        now = timezone.now()
        candidate = SettingsLock.objects.filter(user=user, released_at__isnull=True).values_list("pk", flat=True)
        lock_id = candidate.first()
        if lock_id is None:
            raise NotLocked()
        updated = SettingsLock.objects.filter(pk=lock_id, released_at__isnull=True).update(
            released_at=now, released_by=released_by, release_reason=reason
        )
        if updated != 1:
            raise NotLocked()
        lock = SettingsLock.objects.select_related("user", "locked_by", "released_by").get(pk=lock_id)
        audit_record(
            action=ACTION_RELEASED, actor=audit_actor, organization=user.organization, target=user,
            details={"lock_id": lock.pk, "reason": reason, **details},
        )
    return lock


def settings_lock_release(*, actor: User, user: User, reason: str = "") -> SettingsLock:
    """Release `user`'s lock. A locked admin cannot release their own (403); 409 `not_locked` when nothing is
    locked, including when another admin released it a moment ago."""
    settings_lock_check_manager(actor=actor, user=user)
    if actor.pk == user.pk:
        if settings_lock_active(user=user) is None:
            raise NotLocked()
        raise CannotUnlockOwnSettings()
    return _release(user=user, released_by=actor, reason=reason, audit_actor=actor, details={})


def settings_lock_release_by_operator(
    *, user: User, operator: str, reason: str = "", operator_user: User | None = None
) -> SettingsLock:
    """The operators' way out when no other admin of the organization is left (`manage.py unlock_settings`).

    With `operator_user` (an active superuser: an operator's own account of the service) the audit event has
    them as actor and the lock names them as who released it. Without one, the operator is only a shell login:
    no actor, no released_by. Either way the details name the command and the shell login.
    """
    if operator_user is not None and not (operator_user.is_superuser and operator_user.is_active):
        raise PermissionDenied(_("Only an operator (an active superuser) can be named as the operator."))
    if user.organization_id is None:
        raise NotFound()
    return _release(
        user=user, released_by=operator_user, reason=reason, audit_actor=operator_user,
        details={"via": VIA_COMMAND, "operator": operator},
    )
