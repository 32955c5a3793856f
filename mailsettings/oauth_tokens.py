"""The tokens of OAuth2 bindings at rest: store what the provider returned (rotation included), lock a binding's
row for a refresh, mark it for a new sign-in, and discard them when the binding is turned off.

No network here. Revocation at the provider is diagnostics' work: it registers a revoker
(`oauth_revoker_register`), called after the commit that discarded the tokens, with the refresh token in memory
only (never in a task message).
"""
from __future__ import annotations

import datetime
import logging
from collections.abc import Callable, Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from accounts.services import audit_record
from mailsettings.models_oauth import OAuthClient, OAuthCredential, OAuthStatus

logger = logging.getLogger(__name__)

# (provider_id, organization_id, client, refresh_token) -> None; best effort, never raises into the caller.
Revoker = Callable[[str, int, OAuthClient | None, str], None]
_revokers: list[Revoker] = []


def oauth_revoker_register(revoker: Revoker) -> None:
    if revoker not in _revokers:
        _revokers.append(revoker)


def expires_at_of(token: Mapping[str, Any], *, now: datetime.datetime | None = None) -> datetime.datetime | None:
    """When the access token expires: `expires_in` (seconds, RFC 6749) or `expires_at` (epoch, Authlib)."""
    now = now or timezone.now()
    if token.get("expires_in") not in (None, ""):
        return now + datetime.timedelta(seconds=int(token["expires_in"]))
    if token.get("expires_at") not in (None, ""):
        return datetime.datetime.fromtimestamp(int(token["expires_at"]), tz=datetime.UTC)
    return None


@sensitive_variables("token")
def oauth_credential_fill(credential: OAuthCredential, token: Mapping[str, Any]) -> list[str]:
    """Put a token response on the row (not saved). A refresh that returns no refresh token keeps the old one;
    one that returns a new one replaces it (Microsoft rotates on every use). Returns the changed fields."""
    credential.access_token = token["access_token"]
    changed = ["access_token", "expires_at", "status", "last_error", "refreshed_at"]
    if token.get("refresh_token"):
        credential.refresh_token = token["refresh_token"]
        changed.append("refresh_token")
    if token.get("scope"):
        scope = token["scope"]
        credential.scopes = " ".join(scope) if isinstance(scope, list | tuple) else str(scope)
        changed.append("scopes")
    credential.expires_at = expires_at_of(token)
    credential.status = OAuthStatus.ACTIVE
    credential.last_error = ""
    credential.refreshed_at = timezone.now()
    return changed


def oauth_credential_locked(*, account_id: int) -> OAuthCredential | None:
    """The binding's credential row, locked until the caller's transaction ends: two workers never refresh one
    binding at once (the second waits, then finds a fresh token). Call inside transaction.atomic()."""
    return (
        OAuthCredential.objects.select_for_update(of=("self",))
        .select_related("account", "client")
        .filter(account_id=account_id, account__disabled_at__isnull=True)
        .first()
    )


@sensitive_variables("token")
def oauth_tokens_store(*, credential: OAuthCredential, token: Mapping[str, Any]) -> OAuthCredential:
    """Save a refreshed token on a locked credential row; an account waiting for a new sign-in is pending again."""
    from mailsettings.models import AccountStatus

    changed = oauth_credential_fill(credential, token)
    credential.save(update_fields=[*changed, "updated_at"])
    account = credential.account
    if account.status == AccountStatus.REAUTH_REQUIRED:
        account.status, account.last_error_code = AccountStatus.PENDING, ""
        account.save(update_fields=["status", "last_error_code"])
    return credential


def oauth_reauth_required(*, credential: OAuthCredential, reason: str) -> None:
    """The provider refused the refresh token for good (revoked, password changed, unused for months, consent
    withdrawn): the tokens are useless and the owner must sign in again. Audited. The account's status is the
    caller's to record (diagnostics records it as a check's, so the owner is told like of any failure)."""
    credential.access_token = credential.refresh_token = ""
    credential.status = OAuthStatus.REAUTH_REQUIRED
    credential.last_error = reason[:64]
    credential.save(update_fields=["access_token", "refresh_token", "status", "last_error", "updated_at"])
    account = credential.account
    audit_record(action="mail_account.oauth_reauth_required", actor=None, organization=account.organization,
                 target=account, details={"provider": credential.provider, "reason": reason[:64],
                                          "owner_id": account.owner_id})


@sensitive_variables("refresh_token")
def oauth_credential_discard(*, account) -> None:
    """Delete a binding's tokens (it is being turned off, inside the caller's transaction); after the commit the
    registered revokers ask the provider to revoke the refresh token."""
    credential = (OAuthCredential.objects.select_for_update(of=("self",)).filter(account=account)
                  .select_related("client").first())
    if credential is None:
        return
    refresh_token = credential.refresh_token or credential.access_token
    provider, organization_id, client = credential.provider, account.organization_id, credential.client
    credential.access_token = credential.refresh_token = ""
    credential.status = OAuthStatus.REVOKED
    credential.expires_at = None
    credential.save(update_fields=["access_token", "refresh_token", "status", "expires_at", "updated_at"])
    if not refresh_token:
        return

    def revoke() -> None:
        for revoker in list(_revokers):
            try:
                revoker(provider, organization_id, client, refresh_token)
            except Exception:  # revocation is best effort: the tokens are gone here whatever the provider says
                logger.warning("revoking the %s refresh token of account %s failed", provider, account.pk)

    transaction.on_commit(revoke)
