"""A diagnostic run and its steps, each step written the moment it finishes."""
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization
from diagnostics.results import Step
from mailsettings.models import MailAccount


class RunKind(models.TextChoices):
    ACCOUNT = "account", _("Account check")
    PORT_CHECK = "port_check", _("Port check")
    DOMAIN_DETAILS = "domain_details", _("Domain details")
    SENT_TEST = "sent_test", _("Sent mail test")


class RunTrigger(models.TextChoices):
    USER = "user", _("Requested by a user")
    SCHEDULE = "schedule", _("Periodic re-check")
    COMMAND = "command", _("Command line")


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    PASSED = "passed", _("Passed")
    WARNING = "warning", _("Passed with warnings")
    FAILED = "failed", _("Failed")
    ERROR = "error", _("Could not finish")


IN_FLIGHT = (RunStatus.QUEUED, RunStatus.RUNNING)

# The rows each kind of run writes, in order: the walk writes them, a run that stops early writes the rest as
# skipped (every finished run reads as a whole), and the pages show the ones still to come.
STEPS_OF_KIND: dict[str, tuple[Step, ...]] = {
    RunKind.ACCOUNT: (Step.SETTINGS, Step.DOMAIN, Step.DNS, Step.PORT, Step.TLS, Step.GREETING, Step.LOGIN,
                      Step.FOLDERS, Step.SMTP_AUTH, Step.DUPLICATES),
    RunKind.PORT_CHECK: (Step.DNS, Step.PORT),
    RunKind.DOMAIN_DETAILS: (Step.DOMAIN, Step.DNS, Step.PORT),
    # "Send a test message": sent through SMTP, copies counted in Sent, test messages deleted.
    RunKind.SENT_TEST: (Step.SEND, Step.SENT_FOLDER, Step.CLEANUP),
}


class StepStatus(models.TextChoices):
    PASSED = "passed", _("Passed")
    WARNING = "warning", _("Warning")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Skipped")
    ERROR = "error", _("Error")


class DiagnosticRun(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="diagnostic_runs")
    account = models.ForeignKey(
        MailAccount, on_delete=models.CASCADE, null=True, blank=True, related_name="diagnostic_runs",
        verbose_name=_("mail account"),
    )
    # Ad-hoc targets of the tools ({"host", "port"} or {"domain"}); never a secret.
    target = models.JSONField(default=dict, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=RunKind.choices)
    trigger = models.CharField(max_length=16, choices=RunTrigger.choices, default=RunTrigger.USER)
    status = models.CharField(_("status"), max_length=16, choices=RunStatus.choices, default=RunStatus.QUEUED)
    outcome = models.CharField(_("outcome"), max_length=64, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False, db_index=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    # When a queued run's message was published a second time because no worker took the first (lost by a
    # broker restarted without persistence); a run still queued well after that is replaced.
    republished_at = models.DateTimeField(null=True, blank=True, editable=False)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("diagnostic run")
        verbose_name_plural = _("diagnostic runs")
        ordering = ["-created_at", "-id"]
        constraints = [
            # One run in flight per account: a second request gets the run already in flight.
            models.UniqueConstraint(
                fields=["account"],
                condition=models.Q(status__in=["queued", "running"], account__isnull=False),
                name="one_run_in_flight_per_account",
            ),
            models.CheckConstraint(
                condition=models.Q(kind="account", account__isnull=False) | ~models.Q(kind="account"),
                name="account_run_has_account",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "created_at"], name="run_status_created"),
            # The metrics count the runs finished since the last hourly roll-up.
            models.Index(fields=["finished_at"], name="run_finished_at"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status not in IN_FLIGHT


class DiagnosticStep(models.Model):
    run = models.ForeignKey(DiagnosticRun, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=32)
    status = models.CharField(max_length=16, choices=StepStatus.choices)
    code = models.CharField(max_length=64, blank=True)
    message = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    details = models.JSONField(default=dict, blank=True)
    finished_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("diagnostic step")
        verbose_name_plural = _("diagnostic steps")
        ordering = ["run", "position"]
        constraints = [models.UniqueConstraint(fields=["run", "position"], name="step_position_unique_in_run")]

    def __str__(self) -> str:
        return f"{self.name}: {self.status}"


# The health page's, the notifier's and the metrics' models live beside their code; importing them here is how
# Django finds them.
from diagnostics.health.models import AccountHealth, AccountOutcomeDay, MailHealth, StatusSnapshot  # noqa: E402,F401,I001
from diagnostics.metrics.models import RunHourlyStats  # noqa: E402,F401
from diagnostics.notify.models import (  # noqa: E402,F401
    EmailDelivery, EventDispatch, NotificationPreference, WebhookAttempt, WebhookDelivery, WebhookEndpoint,
)
