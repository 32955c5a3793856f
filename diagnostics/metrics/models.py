"""Hourly totals of finished runs, so a scrape adds a few rolled-up rows to the runs of the last hour instead of
counting every run ever made."""
from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

# Upper bounds (seconds) of the run duration histogram's buckets; +Inf is implied.
RUN_DURATION_BUCKETS = (0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 90.0, 120.0)
BUCKET_FIELDS = tuple(f"b{i}" for i in range(len(RUN_DURATION_BUCKETS)))


class RunHourlyStats(models.Model):
    """Runs that finished within one hour, by kind, status and outcome, with their duration histogram (`timed`:
    runs with a start time, so a duration). An hour with no run has one row with an empty kind, so the roll-up
    knows it was done."""

    hour = models.DateTimeField()
    kind = models.CharField(max_length=20)
    status = models.CharField(max_length=16)
    outcome = models.CharField(max_length=64, blank=True)
    runs = models.PositiveIntegerField()
    timed = models.PositiveIntegerField(default=0)
    duration_sum = models.FloatField(default=0.0)
    # b<i>: runs no longer than RUN_DURATION_BUCKETS[i] seconds (cumulative, as Prometheus wants them).
    b0 = models.PositiveIntegerField(default=0)
    b1 = models.PositiveIntegerField(default=0)
    b2 = models.PositiveIntegerField(default=0)
    b3 = models.PositiveIntegerField(default=0)
    b4 = models.PositiveIntegerField(default=0)
    b5 = models.PositiveIntegerField(default=0)
    b6 = models.PositiveIntegerField(default=0)
    b7 = models.PositiveIntegerField(default=0)
    b8 = models.PositiveIntegerField(default=0)
    b9 = models.PositiveIntegerField(default=0)
    b10 = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("hourly run totals")
        verbose_name_plural = _("hourly run totals")
        constraints = [
            models.UniqueConstraint(fields=["hour", "kind", "status", "outcome"], name="one_stats_row_per_hour_key"),
        ]

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H}h {self.kind} {self.status} {self.outcome}: {self.runs}"
