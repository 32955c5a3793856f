"""The workers' token refresh. One binding is refreshed by one worker at a time: the credential's row is locked
for the whole exchange (PostgreSQL: SELECT ... FOR UPDATE), so a second worker waits, then finds the new token and
sends nothing. A refusal for good (invalid_grant) asks the owner to sign in again; a transient failure is retried
by the caller, and never counts as a revoked grant.
"""
from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from config.celery import app
from diagnostics.oauth import http
from diagnostics.results import Code
from mailsettings.models import AccountStatus
from mailsettings.models_oauth import OAuthStatus
from mailsettings.oauth_providers import oauth_setup
from mailsettings.oauth_tokens import oauth_credential_locked, oauth_reauth_required, oauth_tokens_store
from mailsettings.services import mail_account_record_check

# Published by name through the Celery app: the task module imports this one, never the reverse.
REFRESH_TASK = "diagnostics.tasks_oauth.refresh_token"

logger = logging.getLogger(__name__)


class ReauthRequired(Exception):
    """The binding has no usable grant: its owner must sign in again."""


class RefreshUnavailable(Exception):
    """The provider could not be asked now (timeout, 5xx): try again later."""


@dataclass(frozen=True)
class AccessToken:
    value: str
    scopes: list[str]
    refreshed: bool  # a new token was fetched by this call


def _due(expires_at: datetime.datetime | None, *, margin: int) -> bool:
    return expires_at is None or expires_at <= timezone.now() + datetime.timedelta(seconds=margin)


@sensitive_variables("token", "refresh_token")
def oauth_access_token(*, account_id: int, force: bool = False, margin: int | None = None) -> AccessToken:
    """A usable access token of the binding, refreshed first when it expires within `margin` seconds (or when
    `force`: a server just refused it). Raises ReauthRequired or RefreshUnavailable."""
    margin = settings.OAUTH_REFRESH_MARGIN if margin is None else margin
    refused = False
    with transaction.atomic():
        credential = oauth_credential_locked(account_id=account_id)
        if credential is None or credential.status != OAuthStatus.ACTIVE or not credential.refresh_token:
            if credential is not None and credential.access_token and not force and not _due(
                    credential.expires_at, margin=0):
                # No refresh token (a provider that gives none) but a live access token: use it while it lasts.
                return AccessToken(credential.access_token, credential.scope_list, refreshed=False)
            raise ReauthRequired()
        if not force and credential.access_token and not _due(credential.expires_at, margin=margin):
            return AccessToken(credential.access_token, credential.scope_list, refreshed=False)
        setup = oauth_setup(provider_id=credential.provider, organization_id=credential.account.organization_id,
                            client=credential.client)
        if setup is None:
            raise RefreshUnavailable("provider_not_configured")
        try:
            token = http.refresh(setup, refresh_token=credential.refresh_token)
        except http.OAuthTransient as exc:
            logger.info("refreshing the token of account %s failed for now: %s", account_id, exc)
            raise RefreshUnavailable(str(exc)) from None
        except http.OAuthRefused as exc:
            # Committed with the row (not rolled back with an exception): the owner must sign in again.
            logger.info("the provider refused the refresh token of account %s: %s", account_id, exc.error)
            oauth_reauth_required(credential=credential, reason=exc.error)
            _account_needs_sign_in(credential.account)
            refused = True
        else:
            oauth_tokens_store(credential=credential, token=token)
    if refused:
        raise ReauthRequired()
    _schedule_refresh(account_id, credential.expires_at)
    return AccessToken(credential.access_token, credential.scope_list, refreshed=True)


def _account_needs_sign_in(account) -> None:
    """The account's status becomes reauth_required as a check's result would: the health streak moves and
    `mail_account.status_changed` is written, so the owner is notified as of any other failure."""
    from diagnostics.health.services import account_status_locked, health_after_check

    now = timezone.now()
    previous = account_status_locked(account_id=account.pk)
    if mail_account_record_check(account=account, status=AccountStatus.REAUTH_REQUIRED,
                                 error_code=str(Code.REAUTH_REQUIRED), checked_at=now):
        health_after_check(account=account, previous_status=previous, status=AccountStatus.REAUTH_REQUIRED,
                           outcome=str(Code.REAUTH_REQUIRED), checked_at=now)


def _schedule_refresh(account_id: int, expires_at: datetime.datetime | None) -> None:
    """A task shortly before the new token expires (the beat sweep is the safety net if it is lost)."""
    if expires_at is None:
        return
    eta = expires_at - datetime.timedelta(seconds=settings.OAUTH_REFRESH_MARGIN)

    def publish() -> None:
        try:
            app.send_task(REFRESH_TASK, args=[account_id], eta=max(eta, timezone.now()))
        except Exception:  # the broker is down: the beat sweep refreshes it in time anyway
            logger.warning("could not schedule the token refresh of account %s", account_id)

    transaction.on_commit(publish)


def oauth_schedule_after_sign_in(*, account_id: int, expires_at: datetime.datetime | None) -> None:
    _schedule_refresh(account_id, expires_at)
