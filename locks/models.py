from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization, User


class SettingsLock(models.Model):
    """An admin's lock on a user's mail settings. Released locks stay as history."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="settings_locks", verbose_name=_("user")
    )
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="settings_locks")
    locked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("locked by")
    )
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    locked_at = models.DateTimeField(_("locked at"), default=timezone.now)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("released by"),
    )
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)
    release_reason = models.CharField(_("release reason"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("settings lock")
        verbose_name_plural = _("settings locks")
        ordering = ["-locked_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=models.Q(released_at__isnull=True), name="one_unreleased_lock_per_user"
            ),
            models.CheckConstraint(
                condition=models.Q(released_at__isnull=True) | models.Q(released_at__gte=models.F("locked_at")),
                name="lock_released_after_locked",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({'released' if self.released_at else 'locked'})"

    @property
    def is_active(self) -> bool:
        return self.released_at is None

    @property
    def locked_by_name(self) -> str | None:
        """Who locked, as people read it; None once that admin's user was removed."""
        return self.locked_by.get_full_name() if self.locked_by is not None else None


class MailUser(User):
    """The rows of the admin's "Security settings > Mail users" page (mailsettings/admin_mail_users.py): users with
    their mail binding and lock state. A proxy, no table, filed here so the page sits in the "Security settings"
    section; the page itself lives in mailsettings, which sees both mail accounts and locks."""

    class Meta:
        proxy = True
        verbose_name = _("mail user")
        verbose_name_plural = _("mail users")
        ordering = ["email"]
