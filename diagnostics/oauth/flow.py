"""The authorization-code flow shared by the pages and the API: start (PKCE S256, `state` bound to the pending
binding and, for the pages, to the browser session) and the callback that stores the tokens and binds the account.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.views.decorators.debug import sensitive_variables

from accounts.models import User
from diagnostics.oauth import http
from diagnostics.oauth.refresh import oauth_schedule_after_sign_in
from mailsettings.models import MailAccount
from mailsettings.models_oauth import OAuthFlow
from mailsettings.oauth_errors import (
    OAuthDenied,
    OAuthExchangeFailed,
    OAuthProviderUnavailable,
)
from mailsettings.oauth_flows import mail_account_oauth_bind, oauth_flow_begin, oauth_flow_setup, oauth_flow_take

SESSION_KEY = "mailbind_oauth_states"  # the states of sign-ins this browser started (a short list)
MAX_SESSION_STATES = 5


def callback_url(request) -> str:
    from django.conf import settings

    path = reverse("email-oauth-callback")
    base = settings.OAUTH_REDIRECT_BASE_URL
    return f"{base}{path}" if base else request.build_absolute_uri(path)


@sensitive_variables("state", "verifier")
def oauth_start(*, request, actor: User, owner: User, provider_id: Any, data: Mapping[str, Any],
                via_api: bool) -> tuple[str, str, OAuthFlow]:
    """(authorization_url, state, flow). The page flow also keeps the state in the browser's session."""
    redirect_uri = callback_url(request)
    with transaction.atomic():
        flow, setup, state, verifier = oauth_flow_begin(
            actor=actor, owner=owner, provider_id=provider_id, data=data, redirect_uri=redirect_uri,
            via_api=via_api,
        )
        try:
            url = http.authorization_url(setup, redirect_uri=redirect_uri, state=state, code_verifier=verifier,
                                         login_hint=flow.pending.get("address", ""))
        except (http.OAuthTransient, http.OAuthRefused):
            raise OAuthProviderUnavailable() from None  # discovery failed: no flow is left behind
    if not via_api:
        states = [*request.session.get(SESSION_KEY, [])[-(MAX_SESSION_STATES - 1):], state]
        request.session[SESSION_KEY] = states
    return url, state, flow


def _session_state(request, state: str) -> str | None:
    states = request.session.get(SESSION_KEY, []) if hasattr(request, "session") else []
    if state in states:
        request.session[SESSION_KEY] = [s for s in states if s != state]
        return state
    return None


@sensitive_variables("code", "token")
def oauth_complete(*, request, state: Any, code: Any, error: Any) -> tuple[MailAccount, OAuthFlow]:
    """The callback: consume the flow (a replay or a forged state finds none), then the provider's answer: denied,
    or a code to exchange (with the flow's PKCE verifier) for tokens whose address must be the pending one."""
    flow = oauth_flow_take(state=state, session_state=_session_state(request, state if isinstance(state, str)
                                                                       else ""))
    if error:
        raise OAuthDenied() if error == "access_denied" else OAuthExchangeFailed()
    if not isinstance(code, str) or not code:
        raise OAuthExchangeFailed()
    setup = oauth_flow_setup(flow)
    try:
        token = http.exchange_code(setup, code=code, code_verifier=flow.code_verifier, redirect_uri=flow.redirect_uri)
        email = http.vouched_email(setup, token)
    except http.OAuthTransient:
        raise OAuthProviderUnavailable() from None
    except http.OAuthRefused:
        raise OAuthExchangeFailed() from None
    account = mail_account_oauth_bind(flow=flow, token=token, vouched_email=email)
    oauth_schedule_after_sign_in(account_id=account.pk, expires_at=account.oauth_credential.expires_at)
    return account, flow
