"""Helpers of the OAuth2 tests: the operator's generic provider pointed at the test authorization server, and the
person's visit to its consent page (HTTP, without a browser)."""
from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
import requests

from tests.servers.oauth_server import APP_CLIENT_ID, APP_CLIENT_SECRET

PROVIDER_NAME = "Example Mail"
SCOPES = ["openid", "email", "offline_access", "mail"]


@pytest.fixture
def oauth_provider(settings, oauth_server, test_ca):
    """The generic provider of this deployment is the test server; it serves addresses @example.test."""
    settings.OAUTH_GENERIC_NAME = PROVIDER_NAME
    settings.OAUTH_GENERIC_DISCOVERY_URL = oauth_server.discovery_url
    settings.OAUTH_GENERIC_CLIENT_ID = APP_CLIENT_ID
    settings.OAUTH_GENERIC_CLIENT_SECRET = APP_CLIENT_SECRET
    settings.OAUTH_GENERIC_SCOPES = list(SCOPES)
    settings.OAUTH_GENERIC_DOMAINS = ["example.test"]
    settings.OAUTH_CA_FILE = str(test_ca.ca_pem)
    # The provider sends the browser back here (the test client only reads the path; browser tests use the live
    # server's URL instead).
    settings.OAUTH_REDIRECT_BASE_URL = "http://localhost:9"
    return oauth_server


def consent(authorization_url: str, *, user: str, ca_file, allow: bool = True) -> str:
    """What the person does at the provider: sign in as `user` and press Allow (or Deny). Returns the callback URL
    the provider redirects to (path and query, ready for Django's test client)."""
    page = requests.get(authorization_url, verify=str(ca_file), timeout=10)
    assert page.status_code == 200, page.text
    answer = requests.post(authorization_url, data={"user": user, "decision": "allow" if allow else "deny"},
                           verify=str(ca_file), allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    location = urlparse(answer.headers["Location"])
    return f"{location.path}?{location.query}"


def query_of(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlparse(url).query).items()}


def oauth_form(dovecot, smtp_oauth, *, address: str, protocol: str = "imap", provider: str = "generic") -> dict:
    """The new-account form as the browser posts it with "Sign in with ...": servers, no password."""
    port = dovecot.imaps_port if protocol == "imap" else dovecot.pop3s_port
    return {
        "address": address, "protocol": protocol, "incoming_host": "localhost", "incoming_port": str(port),
        "incoming_security": "ssl", "smtp_host": "localhost", "smtp_port": str(smtp_oauth.port),
        "smtp_security": "ssl", "smtp_same_credentials": "on", "oauth_provider": provider,
    }


def bind_with_oauth(user, *, dovecot, smtp_oauth, ca_file, address: str, protocol: str = "imap",
                    signed_in_as: str | None = None):
    """`user` binds `address` through the pages' sign-in; returns the account (the callback queued its check)."""
    from django.test import Client

    from mailsettings.models import MailAccount

    client = Client()
    client.force_login(user)
    start = client.post("/settings/email/oauth/start/", oauth_form(dovecot, smtp_oauth, address=address,
                                                                   protocol=protocol))
    assert start.status_code == 302, start.content.decode()[:2000]
    done = client.get(consent(start["Location"], user=signed_in_as or address, ca_file=ca_file))
    assert done.status_code == 302, done.content.decode()[:2000]
    return MailAccount.objects.get(owner=user, disabled_at__isnull=True)


def issue_token(server, *, user: str, ca_file, scope: str = "openid email offline_access mail") -> dict:
    """A token of the test server for `user`, as an app gets it (code with PKCE), without Django."""
    from authlib.common.security import generate_token
    from authlib.integrations.requests_client import OAuth2Session

    session = OAuth2Session(APP_CLIENT_ID, APP_CLIENT_SECRET, scope=scope, redirect_uri="http://localhost:9/cb",
                            code_challenge_method="S256", token_endpoint_auth_method="client_secret_post")
    verifier = generate_token(48)
    url, _state = session.create_authorization_url(f"{server.issuer}/authorize", code_verifier=verifier)
    code = query_of(consent(url, user=user, ca_file=ca_file))["code"]
    return session.fetch_token(f"{server.issuer}/token", code=code, code_verifier=verifier, verify=str(ca_file))
