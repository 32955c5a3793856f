"""Celery entry points of OAuth2 token refresh: thin, ids only (a token never travels through the broker)."""
from __future__ import annotations

import datetime

from celery import shared_task
from django.conf import settings
from django.db import OperationalError
from django.utils import timezone

from diagnostics.oauth.refresh import ReauthRequired, RefreshUnavailable, oauth_access_token
from mailsettings.models_oauth import OAuthCredential, OAuthStatus


@shared_task(
    acks_late=True,
    autoretry_for=(RefreshUnavailable, OperationalError),  # a timeout or 5xx is tried again, never "revoked"
    retry_backoff=30,
    retry_backoff_max=600,
    max_retries=6,
    soft_time_limit=60,
    time_limit=90,
    ignore_result=True,
)
def refresh_token(account_id: int) -> str:
    """Refresh one binding's access token if it expires soon (idempotent: a fresh token is left alone)."""
    try:
        token = oauth_access_token(account_id=account_id)
    except ReauthRequired:
        return "reauth_required"
    return "refreshed" if token.refreshed else "fresh"


@shared_task(ignore_result=True, soft_time_limit=60, time_limit=90)
def refresh_due_tokens() -> int:
    """Beat's safety net: queue a refresh for every active binding whose token expires within two margins."""
    horizon = timezone.now() + datetime.timedelta(seconds=2 * settings.OAUTH_REFRESH_MARGIN)
    due = OAuthCredential.objects.filter(
        status=OAuthStatus.ACTIVE, account__disabled_at__isnull=True, expires_at__lte=horizon,
    ).exclude(refresh_token="").values_list("account_id", flat=True)
    count = 0
    for account_id in due.iterator():
        refresh_token.delay(account_id)
        count += 1
    return count
