"""Reads of locks."""
from __future__ import annotations

from locks.models import SettingsLock


def settings_lock_active(*, user) -> SettingsLock | None:
    """The user's unreleased lock, if any."""
    if user is None or not user.is_authenticated:
        return None
    return SettingsLock.objects.select_related("locked_by").filter(user=user, released_at__isnull=True).first()
