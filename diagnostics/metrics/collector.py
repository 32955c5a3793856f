"""The metrics, computed from the database (and the broker) at scrape time, so every process's work is counted
whichever process answers the scrape. Label sets are bounded: kinds, statuses and outcomes are fixed lists, and
organizations beyond METRICS_MAX_ORGANIZATIONS (by accounts) are summed under organization="other"."""
from __future__ import annotations

import datetime
import logging
from collections import defaultdict

from django.conf import settings
from django.db.models import Count, Min, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

from diagnostics.metrics.models import BUCKET_FIELDS, RUN_DURATION_BUCKETS, RunHourlyStats
from diagnostics.metrics.rollup import rolled_up_until, runs_aggregate
from diagnostics.models import IN_FLIGHT, DiagnosticRun
from diagnostics.notify.models import DeliveryStatus, EmailDelivery, WebhookDelivery
from mailsettings.models import MailAccount

logger = logging.getLogger(__name__)


class DatabaseCollector:
    """A prometheus_client collector; registered in a registry per scrape (metrics/views.py)."""

    def collect(self):
        yield from self._runs()
        yield from self._in_flight()
        yield from self._accounts()
        yield from self._recheck()
        yield from self._deliveries()
        yield from self._queue()

    # --- runs: rolled-up hours plus the runs finished since -------------------------------------------------
    def _runs(self):
        keys = ("kind", "status", "outcome")
        rolled = (RunHourlyStats.objects.exclude(kind="").values(*keys)
                  .annotate(runs=Sum("runs"), timed=Sum("timed"), duration_sum=Sum("duration_sum"),
                            **{field: Sum(field) for field in BUCKET_FIELDS}))
        since = rolled_up_until()
        live = DiagnosticRun.objects.filter(finished_at__isnull=False)
        if since is not None:
            live = live.filter(finished_at__gte=since)
        totals: dict[tuple, dict] = defaultdict(lambda: defaultdict(float))
        for row in [*rolled, *runs_aggregate(live)]:
            total = totals[tuple(row[k] for k in keys)]
            for name in ("runs", "timed", "duration_sum", *BUCKET_FIELDS):
                total[name] += row[name] or 0
        runs = CounterMetricFamily("mailbind_diagnostic_runs", "Finished diagnostic runs by kind, status and outcome.",
                                   labels=["kind", "status", "outcome"])
        histograms: dict[str, dict] = defaultdict(lambda: defaultdict(float))
        for (kind, status, outcome), total in sorted(totals.items()):
            runs.add_metric([kind, status, outcome or "none"], total["runs"])
            per_kind = histograms[kind]
            for name in ("timed", "duration_sum", *BUCKET_FIELDS):
                per_kind[name] += total[name]
        yield runs
        duration = HistogramMetricFamily("mailbind_diagnostic_run_duration_seconds",
                                         "Time from a run's start to its end.", labels=["kind"])
        for kind, total in sorted(histograms.items()):
            buckets = [(_le(bound), total[field]) for field, bound in zip(BUCKET_FIELDS, RUN_DURATION_BUCKETS,
                                                                            strict=True)]
            duration.add_metric([kind], buckets + [("+Inf", total["timed"])], total["duration_sum"])
        yield duration

    def _in_flight(self):
        gauge = GaugeMetricFamily("mailbind_diagnostic_runs_in_flight", "Runs queued or running now.",
                                  labels=["status"])
        counts = dict(DiagnosticRun.objects.filter(status__in=IN_FLIGHT).order_by().values_list("status")
                      .annotate(n=Count("id")))
        for status in IN_FLIGHT:
            gauge.add_metric([str(status)], counts.get(status, 0))
        yield gauge

    # --- accounts ------------------------------------------------------------------------------------------
    def _accounts(self):
        rows = list(MailAccount.objects.order_by().values_list("organization_id", "status").annotate(n=Count("id")))
        per_org: dict[int, int] = defaultdict(int)
        for org, _status, n in rows:
            per_org[org] += n
        kept = {org for org, _n in sorted(per_org.items(), key=lambda item: (-item[1], item[0]))
                [: settings.METRICS_MAX_ORGANIZATIONS]}
        values: dict[tuple[str, str], int] = defaultdict(int)
        for org, status, n in rows:
            values[(str(org) if org in kept else "other", status)] += n
        gauge = GaugeMetricFamily("mailbind_mail_accounts", "Mail accounts by organization (id) and status.",
                                  labels=["organization", "status"])
        for (org, status), n in sorted(values.items()):
            gauge.add_metric([org, status], n)
        yield gauge

    def _recheck(self):
        """How far the periodic re-check is behind: the oldest active account's wait beyond the interval."""
        interval = datetime.timedelta(seconds=settings.DIAGNOSTICS_RECHECK_INTERVAL)
        now = timezone.now()
        active = MailAccount.objects.filter(disabled_at__isnull=True)
        stats = active.aggregate(
            oldest=Min(Coalesce("last_checked_at", "created_at")),
            due=Count("id", filter=Q(last_checked_at__isnull=True) | Q(last_checked_at__lt=now - interval)),
        )
        lag = GaugeMetricFamily("mailbind_recheck_lag_seconds",
                                "Seconds the most overdue active account has waited beyond the re-check interval.")
        oldest = stats["oldest"]
        lag.add_metric([], max((now - oldest - interval).total_seconds(), 0.0) if oldest else 0.0)
        yield lag
        due = GaugeMetricFamily("mailbind_recheck_due_accounts", "Active accounts due for a re-check now.")
        due.add_metric([], stats["due"])
        yield due

    # --- notifications -------------------------------------------------------------------------------------
    def _deliveries(self):
        for model, name, what in ((WebhookDelivery, "mailbind_webhook_deliveries", "Webhook deliveries"),
                                  (EmailDelivery, "mailbind_email_notifications", "Notification emails")):
            counts = dict(model.objects.order_by().values_list("status").annotate(n=Count("id")))
            finished = CounterMetricFamily(name, f"{what} that ended, by result (delivered, failed: gave up, "
                                                 "skipped: no longer applied).", labels=["result"])
            for status in (DeliveryStatus.DELIVERED, DeliveryStatus.FAILED, DeliveryStatus.SKIPPED):
                finished.add_metric([str(status)], counts.get(status, 0))
            yield finished
            waiting = GaugeMetricFamily(f"{name}_pending", f"{what} waiting for their next try or being sent.")
            waiting.add_metric([], counts.get(DeliveryStatus.PENDING, 0) + counts.get(DeliveryStatus.SENDING, 0))
            yield waiting

    # --- the broker ----------------------------------------------------------------------------------------
    def _queue(self):
        from config.celery import app

        queue = app.conf.task_default_queue or "celery"
        up = GaugeMetricFamily("mailbind_broker_up", "1 when the task broker answered this scrape.")
        depth = GaugeMetricFamily("mailbind_queue_messages", "Messages waiting in the task queue.", labels=["queue"])
        try:
            # The connection tasks are published on (as /readyz checks it).
            with app.connection_for_write() as connection:
                connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0,
                                             timeout=settings.CELERY_BROKER_CONNECTION_TIMEOUT)
                try:
                    _name, count, _consumers = connection.default_channel.queue_declare(queue=queue, passive=True)
                except Exception:  # a queue that holds nothing may not exist at all (Redis: no key)
                    count = 0
        except Exception:
            logger.warning("metrics: the broker did not answer", exc_info=True)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        depth.add_metric([queue], count)
        yield up
        yield depth


def _le(bound: float) -> str:
    return f"{bound:g}" if bound != int(bound) else f"{bound:.1f}"
