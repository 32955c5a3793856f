"""OAuth2 providers: the Google and Microsoft presets (documented endpoints and scopes) and the operator's generic
OpenID provider, with the client each organization signs in through. Pure configuration: nothing here opens a
connection (the generic provider's endpoints come from OpenID discovery, which diagnostics fetches).

Sources: Google's "OAuth 2.0 for Web Server Applications" and "XOAUTH2 mechanism" pages and its discovery document
(accounts.google.com/.well-known/openid-configuration); Microsoft's "Authenticate an IMAP, POP or SMTP connection
using OAuth" and "OAuth 2.0 authorization code flow" pages.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from mailsettings.models_oauth import OAuthClient, OAuthProviderId

GOOGLE_MAIL_SCOPE = "https://mail.google.com/"
MICROSOFT_SCOPES = (
    "https://outlook.office.com/IMAP.AccessAsUser.All",
    "https://outlook.office.com/POP.AccessAsUser.All",
    "https://outlook.office.com/SMTP.Send",
)
# Without these the provider gives no refresh token (offline) or does not say whose mailbox it is (openid email).
IDENTITY_SCOPES = ("openid", "email")


@dataclass(frozen=True)
class OAuthProvider:
    id: str
    name: str  # shown in "Sign in with {name}"
    scopes: tuple[str, ...]
    authorization_endpoint: str = ""
    token_endpoint: str = ""
    revocation_endpoint: str = ""  # empty: the provider cannot revoke a refresh token for us
    userinfo_endpoint: str = ""
    discovery_url: str = ""  # endpoints left empty above come from here
    issuer: str = ""
    authorize_params: dict[str, str] = field(default_factory=dict)
    mail_providers: tuple[str, ...] = ()  # ids of mailsettings.provider_table providers it signs in to
    domains: tuple[str, ...] = ()  # address domains it serves (the generic provider)
    app_passwords: bool = False  # whether a password (an app password) still works as the alternative

    @property
    def mail_scopes(self) -> tuple[str, ...]:
        return tuple(s for s in self.scopes if s not in (*IDENTITY_SCOPES, "offline_access"))


GOOGLE = OAuthProvider(
    id=OAuthProviderId.GOOGLE,
    name="Google",
    scopes=(*IDENTITY_SCOPES, GOOGLE_MAIL_SCOPE),
    authorization_endpoint="https://accounts.google.com/o/oauth2/v2/auth",
    token_endpoint="https://oauth2.googleapis.com/token",  # noqa: S106 - a URL
    revocation_endpoint="https://oauth2.googleapis.com/revoke",
    userinfo_endpoint="https://openidconnect.googleapis.com/v1/userinfo",
    issuer="https://accounts.google.com",
    # offline: a refresh token; consent: asked again, so a second sign-in gets a refresh token too.
    authorize_params={"access_type": "offline", "prompt": "consent"},
    mail_providers=("gmail", "google_workspace"),
    app_passwords=True,  # with 2-Step Verification, where the Workspace admin allows them
)


def microsoft(tenant: str = "") -> OAuthProvider:
    """Microsoft identity platform v2. `tenant`: a tenant id or domain, or common / organizations / consumers."""
    tenant = tenant or "common"
    base = f"https://login.microsoftonline.com/{tenant}/oauth2/v2.0"
    return OAuthProvider(
        id=OAuthProviderId.MICROSOFT,
        name="Microsoft",
        scopes=(*IDENTITY_SCOPES, "offline_access", *MICROSOFT_SCOPES),
        authorization_endpoint=f"{base}/authorize",
        token_endpoint=f"{base}/token",
        # No RFC 7009 endpoint: turning off deletes the tokens here; the user removes the app's access at Microsoft.
        issuer=f"https://login.microsoftonline.com/{tenant}/v2.0",
        mail_providers=("outlook_com", "microsoft_365"),
        app_passwords=False,  # basic authentication is retired for IMAP, POP and SMTP AUTH
    )


def generic() -> OAuthProvider | None:
    """The operator's OpenID / OAuth2 provider (OAUTH_GENERIC_*), or None when it is not configured."""
    if not settings.OAUTH_GENERIC_DISCOVERY_URL:
        return None
    return OAuthProvider(
        id=OAuthProviderId.GENERIC,
        name=settings.OAUTH_GENERIC_NAME or "OpenID",
        scopes=tuple(settings.OAUTH_GENERIC_SCOPES),
        discovery_url=settings.OAUTH_GENERIC_DISCOVERY_URL,
        domains=tuple(d.lower() for d in settings.OAUTH_GENERIC_DOMAINS),
        app_passwords=settings.OAUTH_GENERIC_PASSWORDS_ALLOWED,
    )


@dataclass(frozen=True)
class OAuthSetup:
    """A provider and the client an organization signs in through: its own (registered in the admin) or the
    operator's from the environment. `client` is the OAuthClient row when it is the organization's."""

    provider: OAuthProvider
    client_id: str
    client_secret: str = field(repr=False)
    client: OAuthClient | None = None

    def describe(self) -> dict[str, Any]:
        return {"id": self.provider.id, "name": self.provider.name}


def _environment_client(provider_id: str) -> tuple[str, str]:
    prefix = {"google": "OAUTH_GOOGLE", "microsoft": "OAUTH_MICROSOFT", "generic": "OAUTH_GENERIC"}[provider_id]
    return getattr(settings, f"{prefix}_CLIENT_ID", ""), getattr(settings, f"{prefix}_CLIENT_SECRET", "")


def oauth_setup(*, provider_id: str, organization_id: int | None, client: OAuthClient | None = None
                ) -> OAuthSetup | None:
    """The provider with the client to use for an organization, or None when it cannot be used (not configured).
    `client`: the OAuthClient a binding was made with (a refresh must use the same client)."""
    if provider_id not in OAuthProviderId.values:
        return None
    if client is None and organization_id is not None and provider_id != OAuthProviderId.GENERIC:
        client = OAuthClient.objects.filter(organization_id=organization_id, provider=provider_id).first()
    if provider_id == OAuthProviderId.GENERIC:
        provider = generic()
    elif provider_id == OAuthProviderId.GOOGLE:
        provider = GOOGLE
    else:
        provider = microsoft(client.tenant if client and client.tenant else settings.OAUTH_MICROSOFT_TENANT)
    if provider is None:
        return None
    if client is not None:
        return OAuthSetup(provider=provider, client_id=client.client_id, client_secret=client.client_secret,
                          client=client)
    client_id, secret = _environment_client(provider_id)
    if not client_id:
        return None
    return OAuthSetup(provider=provider, client_id=client_id, client_secret=secret)


def oauth_provider_for(*, mail_provider_id: str | None, domain: str) -> str | None:
    """Which OAuth provider signs in to an address: by the detected mail provider (Gmail, Microsoft 365...), else
    by the operator's generic provider's domains. None: passwords only."""
    for candidate in (GOOGLE, microsoft()):
        if mail_provider_id and mail_provider_id in candidate.mail_providers:
            return candidate.id
    custom = generic()
    if custom is not None and domain in custom.domains:
        return custom.id
    return None


def oauth_option(*, mail_provider_id: str | None, domain: str, organization_id: int | None) -> dict | None:
    """What the form offers for an address: {"provider", "name", "passwords_allowed"}, or None when no configured
    OAuth provider serves it."""
    provider_id = oauth_provider_for(mail_provider_id=mail_provider_id, domain=domain)
    setup = oauth_setup(provider_id=provider_id, organization_id=organization_id) if provider_id else None
    if setup is None:
        return None
    label = _("Sign in with %(name)s") % {"name": setup.provider.name}
    return {"provider": setup.provider.id, "name": setup.provider.name, "label": str(label),
            "passwords_allowed": setup.provider.app_passwords}


def provider_display_name(provider_id: str) -> str:
    """The name people know the provider by ("Google", "Microsoft", the operator's OAUTH_GENERIC_NAME)."""
    if provider_id == OAuthProviderId.GENERIC:
        custom = generic()
        return custom.name if custom is not None else str(OAuthProviderId.GENERIC.label)
    return {OAuthProviderId.GOOGLE: GOOGLE.name, OAuthProviderId.MICROSOFT: "Microsoft"}.get(provider_id, provider_id)
