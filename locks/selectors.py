"""Reads of locks. Everything that reads tenant data takes the organization and filters by it."""
from __future__ import annotations

from django.db.models import Exists, OuterRef

from locks.models import SettingsLock


def settings_lock_active(*, user) -> SettingsLock | None:
    """The user's unreleased lock, if any."""
    if user is None or not user.is_authenticated:
        return None
    return SettingsLock.objects.select_related("locked_by").filter(user=user, released_at__isnull=True).first()


def settings_lock_exists_for(user_ref=None) -> Exists:
    """An `Exists` expression for annotating users: does the user (OuterRef("pk") by default) hold a lock?"""
    return Exists(
        SettingsLock.objects.filter(user=user_ref if user_ref is not None else OuterRef("pk"), released_at__isnull=True)
    )
