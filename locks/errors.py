from django.utils.translation import gettext_lazy as _

from config.errors import Conflict, PermissionDenied


def _lock_facts(lock) -> dict:
    # Who locked and since when: what a refused person needs to know whom to ask.
    return {"locked_by": lock.locked_by_name, "locked_at": lock.locked_at.isoformat()}


class SettingsLocked(PermissionDenied):
    code = "settings_locked"
    default_message = _(
        "You don't have permission to change these mail settings. Contact your organization's administrator."
    )

    @classmethod
    def for_lock(cls, lock) -> "SettingsLocked":
        return cls(extra=_lock_facts(lock))


class CannotUnlockOwnSettings(PermissionDenied):
    code = "cannot_unlock_own_settings"
    default_message = _("Your settings were locked by an administrator. Ask another administrator to unlock them.")


class CannotLockOwnSettings(PermissionDenied):
    code = "cannot_lock_own_settings"
    # Nobody could undo it but another admin; an organization with one admin would be stuck until an operator.
    default_message = _("You cannot lock your own mail settings. Ask another administrator.")


class LockedAdminRestricted(PermissionDenied):
    """An admin whose own settings are locked could otherwise get around the lock through other people."""

    code = "locked_admin_restricted"
    default_message = _(
        "Your mail settings are locked, so you can't manage users or locks until another administrator unlocks them."
    )


class AlreadyLocked(Conflict):
    code = "already_locked"
    default_message = _("This user's mail settings are already locked.")

    @classmethod
    def for_lock(cls, lock) -> "AlreadyLocked":
        """The 409 naming the lock in place; without one (released meanwhile) just the sentence."""
        return cls(extra=_lock_facts(lock)) if lock is not None else cls()


class NotLocked(Conflict):
    code = "not_locked"
    default_message = _("This user's mail settings are not locked.")
