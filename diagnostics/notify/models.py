"""Rows of the notifier: which audit events it has handled, the emails and webhook deliveries they became (each
retried on its own), the webhook endpoints of an organization, and who wants the daily digest."""
from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import AuditEvent, Organization
from mailsettings.models import MailAccount
from mailsettings.secrets import EncryptedTextField


class WebhookEvent(models.TextChoices):
    ACCOUNT_STATUS_CHANGED = "account.status_changed", _("A mail account's status changed")
    ACCOUNT_SETTINGS_CHANGED = "account.settings_changed", _("A mail account's settings changed")
    ACCOUNT_LOCKED = "account.locked", _("A user's mail settings were locked")
    ACCOUNT_UNLOCKED = "account.unlocked", _("A user's mail settings were unlocked")
    RUN_FINISHED = "run.finished", _("A check finished")


TEST_EVENT = "webhook.test"


class EventDispatch(models.Model):
    """The notifier handled this audit event (its deliveries, if any, were created in the same transaction).
    Events without a row are still to do: a worker that died before committing leaves them for the next pass."""

    event = models.OneToOneField(AuditEvent, on_delete=models.CASCADE, primary_key=True, related_name="+")
    dispatched_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("dispatched event")
        verbose_name_plural = _("dispatched events")

    def __str__(self) -> str:
        return f"event {self.event_id}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENDING = "sending", _("Sending")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Gave up")
    SKIPPED = "skipped", _("Not sent (no longer applies)")


class Delivery(models.Model):
    """What an email and a webhook delivery share: a state, attempts, the next try and the last error."""

    status = models.CharField(_("status"), max_length=16, choices=DeliveryStatus.choices,
                              default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next try"), null=True, blank=True, default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        abstract = True


class EmailKind(models.TextChoices):
    FAILING = "failing", _("Mail stopped working")
    RECOVERED = "recovered", _("Mail works again")
    DIGEST = "digest", _("Daily digest")


class EmailDelivery(Delivery):
    """One email to one person: a transition of their account, or an admin's daily digest."""

    kind = models.CharField(_("kind"), max_length=16, choices=EmailKind.choices)
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+",
                                  verbose_name=_("recipient"))
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey(MailAccount, on_delete=models.CASCADE, null=True, blank=True, related_name="+",
                                verbose_name=_("mail account"))
    event = models.ForeignKey(AuditEvent, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    digest_date = models.DateField(null=True, blank=True)
    outcome = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("email notification")
        verbose_name_plural = _("email notifications")
        ordering = ["-created_at", "-id"]
        constraints = [
            # One mail per transition and person, one digest per person and day, however often the notifier runs.
            models.UniqueConstraint(fields=["event", "recipient"], condition=models.Q(event__isnull=False),
                                    name="one_email_per_event_and_recipient"),
            models.UniqueConstraint(fields=["recipient", "digest_date"],
                                    condition=models.Q(digest_date__isnull=False),
                                    name="one_digest_per_recipient_and_day"),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="email_status_next")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} → {self.recipient_id}"


class NotificationPreference(models.Model):
    """An administrator's choice to receive the daily digest of their organization's failing accounts."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True,
                                related_name="notification_preference")
    daily_digest = models.BooleanField(_("daily digest"), default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")

    def __str__(self) -> str:
        return f"{self.user_id}: digest {'on' if self.daily_digest else 'off'}"


class WebhookEndpoint(models.Model):
    """An HTTPS address of an organization that receives signed events. The signing secret is generated, shown
    once, and stored encrypted."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="webhook_endpoints",
                                     verbose_name=_("organization"))
    url = models.URLField(_("URL"), max_length=500)
    description = models.CharField(_("description"), max_length=200, blank=True)
    events = models.JSONField(_("events"), default=list)
    secret = EncryptedTextField(editable=False)
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["url", "id"]

    def __str__(self) -> str:
        return self.url

    def wants(self, event_type: str) -> bool:
        return self.active and event_type in (self.events or [])


class WebhookDelivery(Delivery):
    """One event for one endpoint. The body is fixed when the delivery is made, so every attempt sends the same
    bytes (receivers deduplicate by the event id)."""

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries",
                                 verbose_name=_("endpoint"))
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    event = models.ForeignKey(AuditEvent, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    event_uid = models.UUIDField(_("event id"), default=uuid.uuid4, editable=False)
    event_type = models.CharField(_("event"), max_length=64)
    payload = models.JSONField(default=dict)
    last_status_code = models.PositiveSmallIntegerField(_("last status code"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event"], condition=models.Q(event__isnull=False),
                                    name="one_delivery_per_endpoint_and_event"),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="webhook_status_next")]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.endpoint_id}"


class WebhookAttempt(models.Model):
    """One try of a delivery: what the receiver answered (a status code, or why nothing came back)."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveSmallIntegerField(_("attempt"))
    started_at = models.DateTimeField(_("sent"), default=timezone.now)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)
    status_code = models.PositiveSmallIntegerField(_("status code"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")
        ordering = ["delivery", "number"]
        constraints = [models.UniqueConstraint(fields=["delivery", "number"], name="one_attempt_row_per_number")]

    def __str__(self) -> str:
        return f"{self.delivery_id} #{self.number}: {self.status_code or self.error}"
