"""OAuth2 bindings: the client an organization registered, the tokens of a binding, and sign-ins in progress.

Every secret (client secret, access and refresh tokens, PKCE verifier) is an EncryptedTextField: the same
MultiFernet and the same rotation command as mail passwords. Imported by mailsettings.models.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization
from mailsettings.secrets import EncryptedTextField


class OAuthProviderId(models.TextChoices):
    GOOGLE = "google", "Google"
    MICROSOFT = "microsoft", "Microsoft"
    GENERIC = "generic", _("Operator-configured provider")


class OAuthClient(models.Model):
    """An organization's own OAuth client (its Google Workspace project or Entra tenant app). Its secret is
    encrypted and never shown again; without one, the operator's client from the environment is used."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="oauth_clients", verbose_name=_("organization")
    )
    provider = models.CharField(
        _("provider"), max_length=16,
        choices=[(OAuthProviderId.GOOGLE, "Google"), (OAuthProviderId.MICROSOFT, "Microsoft")],
    )
    client_id = models.CharField(_("client ID"), max_length=255)
    client_secret = EncryptedTextField(_("client secret"))
    tenant = models.CharField(
        _("Microsoft tenant"), max_length=64, blank=True,
        help_text=_("Your Entra tenant ID or domain. Leave empty for Google; for Microsoft it defaults to "
                    "“organizations”."),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("OAuth client")
        verbose_name_plural = _("OAuth clients")
        constraints = [
            models.UniqueConstraint(fields=["organization", "provider"], name="one_oauth_client_per_provider"),
        ]

    def __str__(self) -> str:
        return f"{self.get_provider_display()} · {self.client_id}"


class OAuthStatus(models.TextChoices):
    ACTIVE = "active", _("Signed in")
    REAUTH_REQUIRED = "reauth_required", _("Sign in again")
    REVOKED = "revoked", _("Signed out")


class OAuthCredential(models.Model):
    """The tokens of one OAuth2 binding. Only `oauth` summaries ever leave the service: never the tokens."""

    account = models.OneToOneField(
        "mailsettings.MailAccount", on_delete=models.CASCADE, related_name="oauth_credential"
    )
    provider = models.CharField(_("provider"), max_length=16, choices=OAuthProviderId.choices)
    client = models.ForeignKey(OAuthClient, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    account_email = models.CharField(_("signed-in address"), max_length=254)
    scopes = models.TextField(_("scopes"), blank=True)
    access_token = EncryptedTextField(blank=True, default="")
    refresh_token = EncryptedTextField(blank=True, default="")
    expires_at = models.DateTimeField(_("access token expires"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=OAuthStatus.choices, default=OAuthStatus.ACTIVE)
    last_error = models.CharField(_("last error"), max_length=64, blank=True)
    refreshed_at = models.DateTimeField(_("last refreshed"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("OAuth sign-in")
        verbose_name_plural = _("OAuth sign-ins")

    def __str__(self) -> str:
        return f"{self.get_provider_display()} · {self.account_email}"

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()


class OAuthFlow(models.Model):
    """A sign-in in progress: the binding waiting for its tokens. `state` is kept only as a hash; the PKCE
    verifier encrypted. Used once: the callback consumes it, a replay finds it used."""

    state_hash = models.CharField(max_length=64, unique=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    provider = models.CharField(max_length=16, choices=OAuthProviderId.choices)
    client = models.ForeignKey(OAuthClient, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    code_verifier = EncryptedTextField()
    pending = models.JSONField(default=dict)  # the binding's settings; never a secret
    redirect_uri = models.CharField(max_length=500)
    via_api = models.BooleanField(default=False)  # started through the API: not bound to a browser session
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["expires_at"], name="oauthflow_expires")]

    def __str__(self) -> str:
        return f"{self.provider} sign-in for {self.pending.get('address_normalized', '?')}"
