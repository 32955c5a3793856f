"""The Google and Microsoft presets against their documented endpoints and scopes, the operator's generic
provider, and which client an organization signs in through. Pure configuration: nothing is fetched."""
from __future__ import annotations

import pytest

from mailsettings.models_oauth import OAuthClient
from mailsettings.oauth_providers import GOOGLE, microsoft, oauth_option, oauth_provider_for, oauth_setup


def test_google_uses_its_documented_endpoints_and_the_full_mail_scope():
    # developers.google.com/identity/protocols/oauth2/web-server; discovery document of accounts.google.com
    assert GOOGLE.authorization_endpoint == "https://accounts.google.com/o/oauth2/v2/auth"
    assert GOOGLE.token_endpoint == "https://oauth2.googleapis.com/token"
    assert GOOGLE.revocation_endpoint == "https://oauth2.googleapis.com/revoke"
    assert GOOGLE.issuer == "https://accounts.google.com"
    # developers.google.com/gmail/imap/xoauth2-protocol: IMAP, POP and SMTP need https://mail.google.com/
    assert GOOGLE.mail_scopes == ("https://mail.google.com/",)
    assert {"openid", "email"} <= set(GOOGLE.scopes)
    assert GOOGLE.authorize_params == {"access_type": "offline", "prompt": "consent"}  # a refresh token each time
    assert set(GOOGLE.mail_providers) == {"gmail", "google_workspace"} and GOOGLE.app_passwords


def test_microsoft_uses_the_v2_endpoints_of_the_tenant_and_the_outlook_mail_scopes():
    # learn.microsoft.com/exchange/client-developer/legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application
    preset = microsoft()
    assert preset.authorization_endpoint == "https://login.microsoftonline.com/common/oauth2/v2.0/authorize"
    assert preset.token_endpoint == "https://login.microsoftonline.com/common/oauth2/v2.0/token"
    assert set(preset.mail_scopes) == {
        "https://outlook.office.com/IMAP.AccessAsUser.All", "https://outlook.office.com/POP.AccessAsUser.All",
        "https://outlook.office.com/SMTP.Send",
    }
    assert {"openid", "email", "offline_access"} <= set(preset.scopes)  # offline_access: a refresh token
    assert preset.revocation_endpoint == ""  # Microsoft has no RFC 7009 endpoint
    assert not preset.app_passwords  # basic authentication is retired
    tenant = microsoft("contoso.onmicrosoft.com")
    assert tenant.token_endpoint == "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"


def test_the_provider_follows_the_detected_mail_provider_or_the_generic_domains(settings):
    assert oauth_provider_for(mail_provider_id="gmail", domain="gmail.com") == "google"
    assert oauth_provider_for(mail_provider_id="google_workspace", domain="acme.test") == "google"
    assert oauth_provider_for(mail_provider_id="microsoft_365", domain="acme.test") == "microsoft"
    assert oauth_provider_for(mail_provider_id="outlook_com", domain="outlook.com") == "microsoft"
    assert oauth_provider_for(mail_provider_id="yahoo", domain="yahoo.com") is None
    settings.OAUTH_GENERIC_DISCOVERY_URL = "https://id.example.test/.well-known/openid-configuration"
    settings.OAUTH_GENERIC_DOMAINS = ["example.test"]
    assert oauth_provider_for(mail_provider_id=None, domain="example.test") == "generic"


@pytest.mark.django_db
def test_an_organizations_own_client_wins_over_the_operators(settings, org1, org2):
    settings.OAUTH_GOOGLE_CLIENT_ID, settings.OAUTH_GOOGLE_CLIENT_SECRET = "operator-id", "operator-secret"
    OAuthClient.objects.create(organization=org1, provider="google", client_id="acme-id", client_secret="acme-s")
    OAuthClient.objects.create(organization=org1, provider="microsoft", client_id="ms-id", client_secret="ms-s",
                               tenant="acme.onmicrosoft.com")
    assert oauth_setup(provider_id="google", organization_id=org1.pk).client_id == "acme-id"
    assert oauth_setup(provider_id="google", organization_id=org2.pk).client_id == "operator-id"
    ms = oauth_setup(provider_id="microsoft", organization_id=org1.pk)
    assert ms.client_secret == "ms-s" and "acme.onmicrosoft.com" in ms.provider.token_endpoint
    assert oauth_setup(provider_id="microsoft", organization_id=org2.pk) is None  # none configured: no button
    assert oauth_setup(provider_id="nonsense", organization_id=org1.pk) is None


@pytest.mark.django_db
def test_the_form_offers_sign_in_only_where_a_client_is_configured(settings, org1):
    assert oauth_option(mail_provider_id="gmail", domain="gmail.com", organization_id=org1.pk) is None
    settings.OAUTH_GOOGLE_CLIENT_ID = "operator-id"
    offer = oauth_option(mail_provider_id="gmail", domain="gmail.com", organization_id=org1.pk)
    assert offer == {"provider": "google", "name": "Google", "label": "Sign in with Google",
                     "passwords_allowed": True}
