"""The ONE check of "may this person touch these mail settings?". Every mail-settings operation — API, pages,
admin, diagnostics of an account — calls it, so a locked user is refused in one place, not per view."""
from __future__ import annotations

from accounts.models import User
from config.errors import NotFound
from locks.errors import SettingsLocked
from locks.selectors import settings_lock_active


def mail_settings_check_access(*, actor: User, owner: User) -> None:
    """Raise unless `actor` may view or change the mail settings of `owner`.

    - Another organization's user is indistinguishable from none (404, never 403).
    - A standard user reaches only their own settings; an admin reaches every user's of their organization.
    - A user whose settings are locked is refused their own settings (admin or not): that is the lock
      (docs/scenarios.md T7/T9).
      Other admins still manage the locked user's account: that is the point of the lock.
    """
    if not actor.is_superuser:
        if actor.organization_id is None or actor.organization_id != owner.organization_id:
            raise NotFound()
        if actor.pk != owner.pk and not actor.is_org_admin:
            raise NotFound()
    if actor.pk == owner.pk:
        lock = settings_lock_active(user=actor)
        if lock is not None:
            raise SettingsLocked.for_lock(lock)
