"""Hourly roll-up of finished runs (beat), and the same aggregate over the runs not rolled up yet (each scrape).
A run's row never changes once it is finished, so an hour that ended a while ago can be rolled up for good."""
from __future__ import annotations

import datetime

from django.db import transaction
from django.db.models import Count, DurationField, ExpressionWrapper, F, Max, Min, Q, QuerySet, Sum
from django.utils import timezone

from diagnostics.metrics.models import BUCKET_FIELDS, RUN_DURATION_BUCKETS, RunHourlyStats
from diagnostics.models import DiagnosticRun

HOUR = datetime.timedelta(hours=1)
# An hour is rolled up once it ended this long ago: a run finished at 10:59:59 may commit a moment after 11:00.
SETTLE = datetime.timedelta(minutes=5)
HOURS_PER_CALL = 72


def _floor_hour(value: datetime.datetime) -> datetime.datetime:
    return value.replace(minute=0, second=0, microsecond=0)


def runs_aggregate(runs: QuerySet) -> list[dict]:
    """Per (kind, status, outcome): runs, timed runs, their total duration (seconds) and the histogram buckets."""
    duration = ExpressionWrapper(F("finished_at") - F("started_at"), output_field=DurationField())
    timed = Q(started_at__isnull=False)
    buckets = {
        field: Count("id", filter=timed & Q(duration__lte=datetime.timedelta(seconds=bound)))
        for field, bound in zip(BUCKET_FIELDS, RUN_DURATION_BUCKETS, strict=True)
    }
    rows = (runs.order_by().alias(duration=duration).values("kind", "status", "outcome")
            .annotate(runs=Count("id"), timed=Count("id", filter=timed), duration_total=Sum("duration", filter=timed),
                      **buckets))
    result = []
    for row in rows:
        total = row.pop("duration_total")
        row["duration_sum"] = total.total_seconds() if total is not None else 0.0
        result.append(row)
    return result


def rolled_up_until() -> datetime.datetime | None:
    """The end of the last rolled-up hour: runs finished from then on are counted live."""
    last = RunHourlyStats.objects.aggregate(last=Max("hour"))["last"]
    return last + HOUR if last is not None else None


def run_stats_roll_up(*, now: datetime.datetime | None = None) -> int:
    """Roll up the settled hours not rolled up yet (at most HOURS_PER_CALL per call). Idempotent: an hour's rows
    are replaced. Returns the number of hours rolled up."""
    now = now or timezone.now()
    end = _floor_hour(now - SETTLE)
    start = rolled_up_until()
    if start is None:
        first = DiagnosticRun.objects.filter(finished_at__isnull=False).aggregate(first=Min("finished_at"))["first"]
        if first is None:
            return 0
        start = _floor_hour(first)
    hours = 0
    while start < end and hours < HOURS_PER_CALL:
        stop = start + HOUR
        rows = runs_aggregate(DiagnosticRun.objects.filter(finished_at__gte=start, finished_at__lt=stop))
        with transaction.atomic():
            RunHourlyStats.objects.filter(hour=start).delete()
            # An hour without runs keeps an empty row, so the next call starts after it.
            RunHourlyStats.objects.bulk_create(
                [RunHourlyStats(hour=start, **row) for row in rows]
                or [RunHourlyStats(hour=start, kind="", status="", outcome="", runs=0)]
            )
        start, hours = stop, hours + 1
    return hours
