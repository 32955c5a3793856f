"""The provider-facing pieces that need no network: the address an ID token vouches for (received directly from
the token endpoint over TLS), and the Google and Microsoft authorization URLs the pages send people to."""
from __future__ import annotations

import base64
import json
import time

import pytest
from django.test import Client

from diagnostics.oauth.http import vouched_email
from mailsettings.oauth_providers import GOOGLE, OAuthSetup, microsoft
from tests.oauth_helpers import query_of


def _jwt(claims: dict) -> str:
    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")
    return f"{part({'alg': 'RS256'})}.{part(claims)}.signature"


def test_microsofts_id_token_vouches_with_preferred_username_for_our_client_only():
    setup = OAuthSetup(provider=microsoft(), client_id="our-app", client_secret="s")
    claims = {"aud": "our-app", "exp": time.time() + 600, "preferred_username": "Someone@Contoso.com"}
    assert vouched_email(setup, {"id_token": _jwt(claims), "access_token": "x"}) == "Someone@Contoso.com"
    # Another app's token, or an expired one, vouches for nothing (Microsoft has no userinfo for mail tokens).
    assert vouched_email(setup, {"id_token": _jwt({**claims, "aud": "other"}), "access_token": "x"}) == ""
    assert vouched_email(setup, {"id_token": _jwt({**claims, "exp": time.time() - 1}), "access_token": "x"}) == ""


def test_googles_id_token_needs_a_verified_email():
    setup = OAuthSetup(provider=GOOGLE, client_id="our-app", client_secret="s")
    claims = {"aud": "our-app", "exp": time.time() + 600, "email": "a@gmail.com", "email_verified": True}
    assert vouched_email(setup, {"id_token": _jwt(claims), "access_token": "x"}) == "a@gmail.com"


@pytest.mark.django_db
@pytest.mark.parametrize(("provider", "address", "host"), [
    ("google", "someone@gmail.com", "accounts.google.com"),
    ("microsoft", "someone@outlook.com", "login.microsoftonline.com"),
])
def test_the_start_page_sends_people_to_the_providers_documented_authorization_endpoint(
        settings, user_s, provider, address, host):
    settings.OAUTH_GOOGLE_CLIENT_ID = settings.OAUTH_MICROSOFT_CLIENT_ID = "operator-app"
    settings.OAUTH_REDIRECT_BASE_URL = "https://mailbind.example.com"
    client = Client()
    client.force_login(user_s)
    response = client.post("/settings/email/oauth/start/", {
        "address": address, "protocol": "imap", "oauth_provider": provider,
        "incoming_host": "outlook.office365.com" if provider == "microsoft" else "imap.gmail.com",
        "incoming_security": "ssl", "smtp_security": "starttls",
        "smtp_host": "smtp.office365.com" if provider == "microsoft" else "smtp.gmail.com",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    url = response["Location"]
    assert url.startswith(f"https://{host}/")
    params = query_of(url)
    assert params["client_id"] == "operator-app" and params["response_type"] == "code"
    assert params["redirect_uri"] == "https://mailbind.example.com/settings/email/oauth/callback/"
    assert params["code_challenge_method"] == "S256" and len(params["code_challenge"]) == 43
    assert params["login_hint"] == address
    scopes = params["scope"].split()
    if provider == "google":
        assert "https://mail.google.com/" in scopes and params["access_type"] == "offline"
    else:
        assert "https://outlook.office.com/IMAP.AccessAsUser.All" in scopes and "offline_access" in scopes
