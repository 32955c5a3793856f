"""A run's lifecycle: published, claimed by one executor, finished (with the account status it implies), or given
up as an error with every step it did not write accounted for as skipped.

The walk (diagnostics.walk) writes a run's steps between its claim and its finish; the services start runs; the
tasks are thin doors. Imports go one way: tasks → services, walk → lifecycle. This module publishes the run task
by its name through the Celery app, so it never imports the tasks.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import override

from accounts.services import audit_record
from config.celery import app
from diagnostics import judge
from diagnostics.health.services import account_status_locked, health_after_check
from diagnostics.models import IN_FLIGHT, STEPS_OF_KIND, DiagnosticRun, DiagnosticStep, RunKind, RunStatus, StepStatus
from diagnostics.notify.models import WebhookEvent
from diagnostics.notify.subscriptions import organization_listens
from diagnostics.results import plain
from mailsettings.services import mail_account_record_check

logger = logging.getLogger(__name__)

RUN_TASK = "diagnostics.tasks.run_diagnostic"
# A run re-delivered after a worker died starts again at most this many times in all.
MAX_ATTEMPTS = 2
# Clocks of workers and database differ a little: a run is left to its executor this much past the hard limit.
CLOCK_MARGIN_SECONDS = 30

# Why the steps of a run given up were not walked (details.skipped_because), by the run's outcome.
_SKIPPED_BECAUSE = {"timeout": "run_time_limit", "worker_lost": "worker_lost", "queue_unavailable": "queue_unavailable"}


def longest_run_seconds() -> float:
    """No live worker can still be executing a run started longer ago than this: the task's hard time limit (the
    same setting the task reads) kills it first."""
    return settings.DIAGNOSTICS_TASK_TIME_LIMIT + CLOCK_MARGIN_SECONDS


# --- publishing --------------------------------------------------------------------------------------------------

def run_publish(*, run_id: int) -> bool:
    """Hand the run to the broker now. False when the broker is unreachable. The message holds the run id only:
    no secret travels through the broker."""
    try:
        app.send_task(RUN_TASK, args=[run_id])
    except Exception:  # kombu raises OperationalError, or OSError from the socket
        logger.warning("broker unreachable: diagnostic run %s not published", run_id, exc_info=True)
        return False
    return True


def run_republish_untaken(run: DiagnosticRun) -> bool:
    """Publish a queued run a second time, once, when no worker took it within DIAGNOSTICS_QUEUED_REPUBLISH_AFTER
    (its message may have been lost with a broker restarted without persistence). A duplicate message is harmless:
    the first claim wins, the second finds the run taken."""
    cutoff = timezone.now() - timedelta(seconds=settings.DIAGNOSTICS_QUEUED_REPUBLISH_AFTER)
    marked = DiagnosticRun.objects.filter(
        pk=run.pk, status=RunStatus.QUEUED, republished_at__isnull=True, created_at__lte=cutoff
    ).update(republished_at=timezone.now())
    if not marked:
        return False
    logger.info("diagnostic run %s was not taken by a worker: published again", run.pk)
    return run_publish(run_id=run.pk)


def run_recover_untaken(run: DiagnosticRun) -> DiagnosticRun | None:
    """A request found `run` in flight. A queued run no worker took is published again once; still queued a
    bound after that, it is given up (worker_lost) and None is returned: the caller starts a fresh run."""
    if run.status != RunStatus.QUEUED:
        return run
    if run.republished_at is None:
        run_republish_untaken(run)
        return run
    cutoff = timezone.now() - timedelta(seconds=settings.DIAGNOSTICS_QUEUED_REPUBLISH_AFTER)
    if run_mark_error(run_id=run.pk, outcome="worker_lost",
                      still=Q(status=RunStatus.QUEUED, republished_at__lte=cutoff)):
        logger.warning("diagnostic run %s stayed queued after being published again: replaced", run.pk)
        return None
    run.refresh_from_db()
    return run if run.status in IN_FLIGHT else None


# --- claiming and finishing ----------------------------------------------------------------------------------------

def run_claim(run_id: int) -> DiagnosticRun | None:
    """Move a queued (or re-delivered running) run to running; None when it is finished, gave up, or is being
    executed by someone else right now."""
    with transaction.atomic():
        run = DiagnosticRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.status not in IN_FLIGHT:
            # Return early, without touching the row, if the run already finished: tasks are idempotent.
            return None
        if run.status == RunStatus.RUNNING:
            started = run.started_at or run.created_at
            if (timezone.now() - started).total_seconds() < longest_run_seconds():
                return None  # another executor may still be walking it: never two writers on one run
            if run.attempts >= MAX_ATTEMPTS:
                run_mark_error(run_id=run.pk, outcome="worker_lost")
                return None
            # Its worker died mid-run (acks_late re-delivered it): start over from a clean slate.
            run.steps.all().delete()
        DiagnosticRun.objects.filter(pk=run.pk).update(
            status=RunStatus.RUNNING, started_at=timezone.now(), attempts=F("attempts") + 1
        )
    run.refresh_from_db()
    return run


def run_finish(run: DiagnosticRun, *, status: str, outcome: str) -> bool:
    """Finish a run still in flight with its verdict, and record what it changes (run_finished_record) in one
    transaction: nobody reads a finished run beside an account that does not show it yet. False when something
    else (the sweep) finished it meanwhile: its verdict stands, and nothing is written over it."""
    finished_at = timezone.now()
    with transaction.atomic():
        updated = DiagnosticRun.objects.filter(pk=run.pk, status__in=IN_FLIGHT).update(
            status=status, outcome=outcome, finished_at=finished_at
        )
        if not updated:
            return False
        run.status, run.outcome, run.finished_at = status, outcome, finished_at
        run_finished_record(run=run)
    return True


def run_mark_error(*, run_id: int, outcome: str, still: Q | None = None) -> bool:
    """Give up a run still in flight (lost worker, time limit, dead broker): status error, `outcome` its reason.
    It keeps the steps it wrote; the others are written as skipped with the reason, so it reads as a whole.
    `still`: a condition the run must still meet (the sweep's "still queued since before the cutoff"), so a run a
    worker claimed meanwhile is left alone. False if nothing was marked. The account keeps its status: a run
    that could not finish says nothing about it (nor is it a `run.finished` event)."""
    with transaction.atomic():
        runs = DiagnosticRun.objects.select_for_update().filter(pk=run_id, status__in=IN_FLIGHT)
        run = (runs.filter(still) if still is not None else runs).first()
        if run is None:
            return False
        run.status, run.outcome, run.finished_at = RunStatus.ERROR, outcome, timezone.now()
        run.save(update_fields=["status", "outcome", "finished_at"])
        steps_skip_missing(run, because=_SKIPPED_BECAUSE.get(outcome, "run_stopped"))
    return True


# --- step rows -----------------------------------------------------------------------------------------------------

def step_write(run: DiagnosticRun, *, position: int, name: str, status: str, code: str = "",
               details: dict | None = None, duration_ms: int = 0) -> DiagnosticStep:
    """One step row, its message the English record (readers get theirs rendered in their language)."""
    with override("en"):
        message = str(judge.step_message(name=str(name), status=status, code=code, details=details))
    return DiagnosticStep.objects.create(
        run=run, position=position, name=str(name), status=status, code=code or "", message=message,
        duration_ms=duration_ms, details=plain(details or {}),
    )


def steps_skip_missing(run: DiagnosticRun, *, because: str) -> list[DiagnosticStep]:
    """Write the steps of the run's kind it has no row for as skipped (`because` says why), after its last row."""
    written = list(run.steps.order_by("position").values_list("name", "position"))
    names = {name for name, _position in written}
    position = written[-1][1] if written else 0
    rows = []
    for name in STEPS_OF_KIND[run.kind]:
        if name not in names:
            position += 1
            rows.append(step_write(run, position=position, name=name, status=StepStatus.SKIPPED,
                                   details={"skipped_because": because}))
    return rows


# --- what a finished run changes --------------------------------------------------------------------------------

def account_status_after_run(*, run: DiagnosticRun) -> None:
    """The account status a finished run implies, and the account's health streak with it."""
    rows = list(run.steps.values_list("name", "status", "code"))
    status = judge.account_status_for(run_status=run.status, rows=rows)
    if status is None:
        return
    error_code = "" if run.outcome in ("", "ok") else run.outcome
    checked_at = run.started_at or run.created_at
    previous = account_status_locked(account_id=run.account_id)
    if mail_account_record_check(account=run.account, status=status, error_code=error_code, checked_at=checked_at):
        # The status as recorded: an account waiting for its password keeps waiting (no "recovered" for it).
        health_after_check(account=run.account, previous_status=previous, status=run.account.status,
                           outcome=error_code, checked_at=checked_at, run_id=run.pk)


def run_finished_record(*, run: DiagnosticRun) -> None:
    """What a run finished with its verdict changes: its account's status and health, and the audit of
    `run.finished` when the organization has a webhook endpoint listening for it (the periodic re-check of every
    account would otherwise fill the trail with events nobody reads)."""
    if run.kind == RunKind.ACCOUNT and run.account_id:
        account_status_after_run(run=run)
    if organization_listens(organization_id=run.organization_id, event_type=WebhookEvent.RUN_FINISHED):
        audit_record(action="diagnostic.finished", actor=None, organization=run.organization, target=run,
                     details={"run": run.pk, "kind": run.kind, "status": run.status, "outcome": run.outcome,
                              "account": run.account_id})


# --- periodic work -------------------------------------------------------------------------------------------------

def runs_sweep_stale() -> int:
    """Give up runs whose worker is gone, as worker_lost: running for longer than any live worker could (the hard
    time limit would have killed it), or queued for longer than DIAGNOSTICS_QUEUED_STALE_AFTER. Returns how many."""
    now = timezone.now()
    running = Q(status=RunStatus.RUNNING,
                started_at__lt=now - timedelta(seconds=max(settings.DIAGNOSTICS_STALE_AFTER, longest_run_seconds())))
    queued = Q(status=RunStatus.QUEUED,
               created_at__lt=now - timedelta(seconds=settings.DIAGNOSTICS_QUEUED_STALE_AFTER))
    stale = list(DiagnosticRun.objects.filter(running | queued).values_list("pk", flat=True))
    return sum(run_mark_error(run_id=pk, outcome="worker_lost", still=running | queued) for pk in stale)


def runs_republish_untaken() -> int:
    """Publish again, once, every run queued longer than DIAGNOSTICS_QUEUED_REPUBLISH_AFTER. Returns how many."""
    cutoff = timezone.now() - timedelta(seconds=settings.DIAGNOSTICS_QUEUED_REPUBLISH_AFTER)
    untaken = DiagnosticRun.objects.filter(status=RunStatus.QUEUED, republished_at__isnull=True,
                                           created_at__lte=cutoff).order_by("created_at")
    return sum(run_republish_untaken(run) for run in untaken)
