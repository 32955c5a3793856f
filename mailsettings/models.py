"""A user's IMAP/POP3 + SMTP account binding."""
from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization
from mailsettings.secrets import EncryptedTextField
from mailsettings.vocabulary import INCOMING_PROTOCOL_CHOICES, Protocol, Security


class AccountStatus(models.TextChoices):
    PENDING = "pending", _("Not checked yet")
    CONNECTED = "connected", _("Connected")
    AUTH_FAILED = "auth_failed", _("Sign-in failed")
    CONNECTION_FAILED = "connection_failed", _("Cannot connect")
    REAUTH_REQUIRED = "reauth_required", _("Sign in again")
    # An administrator moved the account to another server without its password: the stored one was cleared
    # (mailsettings.password_rule) and sign-in waits until the owner enters it for the new server.
    NEEDS_PASSWORD = "needs_password", _("Password needed for the new server")
    DISABLED = "disabled", _("Turned off")


class AuthMethod(models.TextChoices):
    PASSWORD = "password", _("Password")  # noqa: S105 - a method's name
    OAUTH2 = "oauth2", _("OAuth2 sign-in")


_port = [MinValueValidator(1), MaxValueValidator(65535)]


class MailAccount(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="mail_accounts", verbose_name=_("owner")
    )
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="mail_accounts")
    address = models.CharField(_("address"), max_length=254)
    address_normalized = models.CharField(max_length=254, editable=False, db_index=True)
    protocol = models.CharField(_("protocol"), max_length=8, choices=INCOMING_PROTOCOL_CHOICES,
                                default=Protocol.IMAP)
    auth_method = models.CharField(
        _("sign-in method"), max_length=16, choices=AuthMethod.choices, default=AuthMethod.PASSWORD
    )

    incoming_host = models.CharField(_("incoming server"), max_length=253)
    incoming_port = models.PositiveIntegerField(_("incoming port"), validators=_port)
    incoming_security = models.CharField(_("incoming security"), max_length=16, choices=Security.choices)
    incoming_username = models.CharField(_("incoming username"), max_length=254)
    incoming_password = EncryptedTextField(_("incoming password"), blank=True, default="")

    smtp_host = models.CharField(_("outgoing (SMTP) server"), max_length=253)
    smtp_port = models.PositiveIntegerField(_("outgoing port"), validators=_port)
    smtp_security = models.CharField(_("outgoing security"), max_length=16, choices=Security.choices)
    smtp_same_credentials = models.BooleanField(_("use the same credentials for sending"), default=True)
    smtp_username = models.CharField(_("outgoing username"), max_length=254, blank=True)
    smtp_password = EncryptedTextField(_("outgoing password"), blank=True, default="")

    save_sent_on_server = models.BooleanField(_("save sent mail on the server"), default=False)

    status = models.CharField(_("status"), max_length=20, choices=AccountStatus.choices, default=AccountStatus.PENDING)
    last_checked_at = models.DateTimeField(_("last checked"), null=True, blank=True)
    last_error_code = models.CharField(_("last error code"), max_length=64, blank=True)

    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    disabled_at = models.DateTimeField(_("turned off"), null=True, blank=True)

    class Meta:
        verbose_name = _("mail account")
        verbose_name_plural = _("mail accounts")
        ordering = ["address_normalized", "-created_at"]
        constraints = [
            # The database is the last word on docs/scenarios.md T6: one active binding per address, service-wide.
            models.UniqueConstraint(
                fields=["address_normalized"],
                condition=models.Q(disabled_at__isnull=True),
                name="one_active_binding_per_address",
            ),
            models.UniqueConstraint(
                fields=["owner"], condition=models.Q(disabled_at__isnull=True), name="one_active_binding_per_user"
            ),
            models.CheckConstraint(
                condition=(models.Q(status="disabled") & models.Q(disabled_at__isnull=False))
                | (~models.Q(status="disabled") & models.Q(disabled_at__isnull=True)),
                name="disabled_status_matches_disabled_at",
            ),
            models.CheckConstraint(
                condition=models.Q(incoming_port__gte=1, incoming_port__lte=65535)
                & models.Q(smtp_port__gte=1, smtp_port__lte=65535),
                name="ports_in_range",
            ),
            models.CheckConstraint(condition=models.Q(protocol__in=["imap", "pop3"]), name="protocol_known"),
            models.CheckConstraint(
                condition=models.Q(incoming_security__in=["ssl", "starttls", "none"])
                & models.Q(smtp_security__in=["ssl", "starttls", "none"]),
                name="security_known",
            ),
        ]

    def __str__(self) -> str:
        return self.address

    @property
    def is_active(self) -> bool:
        return self.disabled_at is None

    @property
    def effective_smtp_username(self) -> str:
        return self.incoming_username if self.smtp_same_credentials else self.smtp_username

    @property
    def effective_smtp_password(self) -> str:
        return self.incoming_password if self.smtp_same_credentials else self.smtp_password

    @property
    def missing_passwords(self) -> list[str]:
        """The sides ("incoming", "outgoing") whose password was cleared and must be entered again. An OAuth2
        binding has no password: none is ever missing."""
        if self.auth_method != AuthMethod.PASSWORD:
            return []
        sides = [("incoming", self.incoming_password), ("outgoing", self.effective_smtp_password)]
        return [side for side, password in sides if not password]


# OAuth2 clients, tokens and sign-ins in progress live in their own module (imported here so Django sees them).
from mailsettings.models_oauth import OAuthClient, OAuthCredential, OAuthFlow  # noqa: E402, F401
