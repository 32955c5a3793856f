"""Organizations, their users (admin or standard), API tokens and the append-only audit trail."""
from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Organization(models.Model):
    name = models.CharField(_("name"), max_length=200)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        constraints = [
            models.UniqueConstraint(
                Lower("name"), name="organization_name_unique_ci",
                # Never "already exists": the name may belong to another tenant, which must not be revealed.
                violation_error_message=_("This name can't be used. Choose another."),
            ),
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, username: str) -> User:
        # Sign-in by email is case-insensitive.
        return self.get(email__iexact=normalize_email(username))

    def create_user(self, email: str, password: str | None = None, **fields) -> User:
        if not email:
            raise ValueError("An email is required.")
        user = self.model(email=normalize_email(email), **fields)
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields) -> User:
        fields.update(is_superuser=True, organization=None, role=User.Role.STANDARD)
        return self.create_user(email, password, **fields)


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in. Organization users have a role; operators are superusers without an organization."""

    class Role(models.TextChoices):
        ADMIN = "admin", _("Administrator")
        STANDARD = "standard", _("Standard user")

    email = models.EmailField(_("email"), max_length=254, unique=True)
    full_name = models.CharField(_("full name"), max_length=200, blank=True)
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="users", null=True, blank=True,
        verbose_name=_("organization"),
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.STANDARD)
    language = models.CharField(
        _("language"), max_length=8, blank=True, default="",
        choices=[("", _("Follow the browser")), ("en", "English"), ("ja", "日本語")],
    )
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(default=timezone.now, editable=False)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"), name="user_email_unique_ci",
                violation_error_message=_("A user with this email already exists."),
            ),
            # Every user belongs to exactly one organization; only platform operators (superusers) stand outside.
            models.CheckConstraint(
                condition=models.Q(is_superuser=True) | models.Q(organization__isnull=False),
                name="user_has_organization_unless_operator",
                violation_error_message=_("Choose an organization: only operators have none."),
            ),
        ]

    def __str__(self) -> str:
        return self.email

    def save(self, *args, **kwargs) -> None:
        self.email = normalize_email(self.email)
        super().save(*args, **kwargs)

    @property
    def is_org_admin(self) -> bool:
        return self.is_active and self.organization_id is not None and self.role == self.Role.ADMIN

    @property
    def is_staff(self) -> bool:
        # The Django admin is for operators and for organization admins (who see only their organization).
        return self.is_active and (self.is_superuser or self.is_org_admin)

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return self.full_name or self.email


class ApiToken(models.Model):
    """A client's bearer token. Only its SHA-256 is stored: a database leak does not leak usable tokens."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(max_length=8, editable=False, help_text=_("The first characters, to tell tokens apart."))
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"


class AuditEvent(models.Model):
    """Who did what to whom, and when. Append-only: rows are never changed or deleted by the application."""

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="audit_events", null=True, blank=True
    )
    actor = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    actor_email = models.CharField(max_length=254, blank=True)
    action = models.CharField(max_length=64, db_index=True)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_repr = models.CharField(max_length=254, blank=True)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_email} {self.action} {self.target_repr}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise ValueError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Audit events are append-only.")
