"""Talking to an OAuth2 provider over HTTPS with Authlib's requests client: OpenID discovery, the authorization
URL (PKCE S256), the code exchange, refresh, revocation (RFC 7009) and the address the provider vouches for.

Failures are sorted as a worker must: `OAuthTransient` (timeout, connection refused, 5xx, temporarily_unavailable:
try again later) and `OAuthRefused` (the provider's answer is final, e.g. invalid_grant). Nothing here logs a token
or an Authorization header. The endpoints are the operator's configuration (presets or their discovery document),
never a user's input.
"""
from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass
from typing import Any

import requests
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from django.conf import settings
from django.core.cache import cache
from django.views.decorators.debug import sensitive_variables

from mailsettings.oauth_providers import OAuthSetup

DISCOVERY_CACHE_SECONDS = 3600
MAX_DOCUMENT_BYTES = 256 * 1024
_TRANSIENT_ERRORS = {"temporarily_unavailable", "server_error"}


class OAuthTransient(Exception):
    """The provider could not answer now (network, 5xx): nothing is known about the grant."""


class OAuthRefused(Exception):
    """The provider's final answer: `error` is its RFC 6749 error code (invalid_grant...)."""

    def __init__(self, error: str):
        self.error = (error or "refused")[:64]
        super().__init__(self.error)


@dataclass(frozen=True)
class Endpoints:
    authorization: str
    token: str
    revocation: str = ""
    userinfo: str = ""
    issuer: str = ""


def _verify() -> str | bool:
    return settings.OAUTH_CA_FILE or True


def _get_json(url: str, **kwargs: Any) -> dict:
    try:
        response = requests.get(url, timeout=settings.OAUTH_HTTP_TIMEOUT, verify=_verify(), stream=True, **kwargs)
        body = response.raw.read(MAX_DOCUMENT_BYTES + 1, decode_content=True)
    except requests.RequestException as exc:
        raise OAuthTransient(type(exc).__name__) from None
    if response.status_code >= 500 or len(body) > MAX_DOCUMENT_BYTES:
        raise OAuthTransient(f"http_{response.status_code}")
    if response.status_code >= 400:
        raise OAuthRefused(f"http_{response.status_code}")
    try:
        document = json.loads(body)
    except ValueError:
        raise OAuthTransient("not_json") from None
    if not isinstance(document, dict):
        raise OAuthTransient("not_json")
    return document


def endpoints(setup: OAuthSetup) -> Endpoints:
    """The provider's endpoints: the preset's, else its OpenID discovery document (cached for an hour)."""
    provider = setup.provider
    if not provider.discovery_url:
        return Endpoints(provider.authorization_endpoint, provider.token_endpoint, provider.revocation_endpoint,
                         provider.userinfo_endpoint, provider.issuer)
    key = "oauth:discovery:" + provider.discovery_url
    document = cache.get(key)
    if document is None:
        document = _get_json(provider.discovery_url)
        if not document.get("authorization_endpoint") or not document.get("token_endpoint"):
            raise OAuthTransient("discovery_incomplete")
        cache.set(key, document, DISCOVERY_CACHE_SECONDS)
    return Endpoints(document["authorization_endpoint"], document["token_endpoint"],
                     document.get("revocation_endpoint", ""), document.get("userinfo_endpoint", ""),
                     document.get("issuer", ""))


def _raise_transient_on_5xx(response: requests.Response) -> requests.Response:
    if response.status_code >= 500:
        raise OAuthTransient(f"http_{response.status_code}")
    return response


def _session(setup: OAuthSetup, *, redirect_uri: str | None = None) -> OAuth2Session:
    session = OAuth2Session(
        setup.client_id, setup.client_secret, scope=" ".join(setup.provider.scopes), redirect_uri=redirect_uri,
        code_challenge_method="S256", token_endpoint_auth_method="client_secret_post",  # noqa: S106
        revocation_endpoint_auth_method="client_secret_post", default_timeout=settings.OAUTH_HTTP_TIMEOUT,
    )
    session.register_compliance_hook("access_token_response", _raise_transient_on_5xx)
    session.register_compliance_hook("refresh_token_response", _raise_transient_on_5xx)
    return session


@sensitive_variables("state", "code_verifier")
def authorization_url(setup: OAuthSetup, *, redirect_uri: str, state: str, code_verifier: str,
                      login_hint: str = "") -> str:
    """Where the person signs in: code flow with PKCE S256 (the challenge only; the verifier stays with us)."""
    params = dict(setup.provider.authorize_params)
    if login_hint:
        params["login_hint"] = login_hint
    url, _state = _session(setup, redirect_uri=redirect_uri).create_authorization_url(
        endpoints(setup).authorization, state=state, code_verifier=code_verifier, **params
    )
    return url


@sensitive_variables("code", "code_verifier")
def exchange_code(setup: OAuthSetup, *, code: str, code_verifier: str, redirect_uri: str) -> dict:
    """The callback's code for tokens. OAuthRefused for a replayed code or a wrong verifier (invalid_grant)."""
    return _token_call(lambda session, url: session.fetch_token(
        url, grant_type="authorization_code", code=code, code_verifier=code_verifier, verify=_verify()),
        setup, redirect_uri=redirect_uri)


@sensitive_variables("refresh_token")
def refresh(setup: OAuthSetup, *, refresh_token: str) -> dict:
    """A new access token (and, where the provider rotates them, a new refresh token)."""
    return _token_call(lambda session, url: session.refresh_token(url, refresh_token=refresh_token,
                                                                  verify=_verify()), setup)


def _token_call(call, setup: OAuthSetup, *, redirect_uri: str | None = None) -> dict:
    session = _session(setup, redirect_uri=redirect_uri)
    try:
        token = call(session, endpoints(setup).token)
    except OAuthError as exc:
        if exc.error in _TRANSIENT_ERRORS:
            raise OAuthTransient(exc.error) from None
        raise OAuthRefused(exc.error) from None
    except requests.RequestException as exc:
        raise OAuthTransient(type(exc).__name__) from None
    except ValueError:  # a body that is not JSON
        raise OAuthTransient("not_json") from None
    finally:
        session.close()
    if not token.get("access_token"):
        raise OAuthRefused("no_access_token")
    return dict(token)


@sensitive_variables("token")
def revoke(setup: OAuthSetup, *, token: str) -> bool:
    """Ask the provider to revoke a refresh token (RFC 7009). False when it has no revocation endpoint."""
    url = endpoints(setup).revocation
    if not url:
        return False
    session = _session(setup)
    try:
        response = session.revoke_token(url, token=token, token_type_hint="refresh_token", verify=_verify())  # noqa: S106
    except requests.RequestException as exc:
        raise OAuthTransient(type(exc).__name__) from None
    finally:
        session.close()
    return response.status_code == 200


def _jwt_claims(id_token: str) -> dict:
    """The claims of an ID token received directly from the token endpoint over TLS. OpenID Connect Core 3.1.3.7
    lets TLS server validation stand in for the signature check in this case; audience and expiry are checked."""
    try:
        payload = id_token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return {}
    return claims if isinstance(claims, dict) else {}


@sensitive_variables("token")
def vouched_email(setup: OAuthSetup, token: dict) -> str:
    """The address the provider vouches for: the ID token's verified email (Microsoft: its preferred_username, the
    mailbox's sign-in name), else the userinfo endpoint's. Empty when the provider says nothing usable."""
    claims = _jwt_claims(token["id_token"]) if token.get("id_token") else {}
    if claims:
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if setup.client_id in audiences and float(claims.get("exp", 0)) > time.time():
            email = _verified_email(claims, microsoft=setup.provider.id == "microsoft")
            if email:
                return email
    url = endpoints(setup).userinfo
    if not url:
        return ""
    info = _get_json(url, headers={"Authorization": f"Bearer {token['access_token']}"})
    return _verified_email(info, microsoft=setup.provider.id == "microsoft")


def _verified_email(claims: dict, *, microsoft: bool) -> str:
    email = claims.get("email")
    if isinstance(email, str) and email and claims.get("email_verified", True) not in (False, "false"):
        return email
    if microsoft and isinstance(claims.get("preferred_username"), str) and "@" in claims["preferred_username"]:
        return claims["preferred_username"]
    return ""
