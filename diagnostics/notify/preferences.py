"""An administrator's own notification choices (the daily digest)."""
from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from accounts.models import User
from config.errors import PermissionDenied
from diagnostics.notify.models import NotificationPreference


def daily_digest_get(*, user: User) -> bool:
    return NotificationPreference.objects.filter(user=user, daily_digest=True).exists()


def daily_digest_set(*, user: User, enabled: bool) -> bool:
    """Turn the signed-in administrator's daily digest on or off (only for themselves, never for someone else)."""
    if not user.is_org_admin:
        raise PermissionDenied(_("The daily digest is for administrators of an organization."))
    NotificationPreference.objects.update_or_create(user=user, defaults={"daily_digest": bool(enabled)})
    return bool(enabled)
