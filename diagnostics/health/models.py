"""What the health page reads besides the live accounts: each account's current streak, the daily status counts
(filled by beat), and which accounts had which problem on which day (for "top outcomes over 7 days")."""
from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization
from mailsettings.models import MailAccount


class HealthState(models.TextChoices):
    WORKING = "working", _("Working")
    FAILING = "failing", _("Failing")


class AccountHealth(models.Model):
    """The current streak of an account, moved by finished checks only. `since` is the first check of the streak:
    for a failing account, the first failure since it last worked ("failing since")."""

    account = models.OneToOneField(MailAccount, on_delete=models.CASCADE, primary_key=True, related_name="health")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    state = models.CharField(max_length=16, choices=HealthState.choices)
    since = models.DateTimeField()
    outcome = models.CharField(max_length=64, blank=True)
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("account health")
        verbose_name_plural = _("account health")
        indexes = [models.Index(fields=["organization", "state", "since"], name="health_org_state_since")]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.state} since {self.since:%Y-%m-%d %H:%M}"


class StatusSnapshot(models.Model):
    """How many accounts of an organization had each status on a day. Beat writes today's rows again each time
    it runs (the last write of the day stands), so a missed run is made up by the next and a day has one set."""

    date = models.DateField()
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=20)
    accounts = models.PositiveIntegerField()
    taken_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("status snapshot")
        verbose_name_plural = _("status snapshots")
        constraints = [
            models.UniqueConstraint(fields=["date", "organization", "status"], name="one_snapshot_per_day_status"),
        ]
        indexes = [models.Index(fields=["organization", "date"], name="snapshot_org_date")]

    def __str__(self) -> str:
        return f"{self.date} {self.organization_id} {self.status}: {self.accounts}"


class AccountOutcomeDay(models.Model):
    """An account's check ended with this (non-ok) outcome on this day: one row however often it was checked,
    so "how many accounts had this problem in the last 7 days" is a count over a small table."""

    date = models.DateField()
    account = models.ForeignKey(MailAccount, on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    outcome = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("account outcome of a day")
        verbose_name_plural = _("account outcomes of a day")
        constraints = [
            models.UniqueConstraint(fields=["date", "account", "outcome"], name="one_outcome_row_per_account_day"),
        ]
        indexes = [models.Index(fields=["organization", "date"], name="outcome_day_org_date")]

    def __str__(self) -> str:
        return f"{self.date} {self.account_id} {self.outcome}"


class MailHealth(StatusSnapshot):
    """The admin's "Mail health" page (diagnostics/health/admin.py). A proxy, no table: it gives the page its place
    in the admin's sidebar and its URL."""

    class Meta:
        proxy = True
        verbose_name = _("mail health")
        verbose_name_plural = _("mail health")
