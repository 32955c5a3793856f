"""Revocation at the provider when a binding is turned off (registered with mailsettings at start-up)."""
from __future__ import annotations

import logging

from django.views.decorators.debug import sensitive_variables

from diagnostics.oauth import http
from mailsettings.models_oauth import OAuthClient
from mailsettings.oauth_providers import oauth_setup

logger = logging.getLogger(__name__)


@sensitive_variables("refresh_token")
def revoke_refresh_token(provider_id: str, organization_id: int, client: OAuthClient | None,
                         refresh_token: str) -> None:
    """Best effort and bounded by OAUTH_HTTP_TIMEOUT: the tokens are already deleted here whatever happens."""
    setup = oauth_setup(provider_id=provider_id, organization_id=organization_id, client=client)
    if setup is None:
        return
    try:
        revoked = http.revoke(setup, token=refresh_token)
    except (http.OAuthTransient, http.OAuthRefused) as exc:
        logger.warning("the %s provider did not confirm a revocation: %s", provider_id, exc)
        return
    if not revoked:
        logger.info("the %s provider offers no revocation endpoint: the tokens were deleted here", provider_id)
