from django.utils.translation import gettext_lazy as _

from config.errors import Conflict, PermissionDenied


class SettingsLocked(PermissionDenied):
    code = "settings_locked"
    default_message = _(
        "You don't have permission to change these mail settings. Contact your organization's administrator."
    )

    @classmethod
    def for_lock(cls, lock) -> "SettingsLocked":
        locked_by = lock.locked_by.get_full_name() if lock.locked_by else None
        return cls(extra={"locked_by": locked_by, "locked_at": lock.locked_at.isoformat()})


class CannotUnlockOwnSettings(PermissionDenied):
    code = "cannot_unlock_own_settings"
    default_message = _("Your settings were locked by an administrator. Ask another administrator to unlock them.")


class AlreadyLocked(Conflict):
    code = "already_locked"
    default_message = _("This user's mail settings are already locked.")


class NotLocked(Conflict):
    code = "not_locked"
    default_message = _("This user's mail settings are not locked.")
