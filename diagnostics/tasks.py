"""Celery entry points: thin. They take ids, re-read rows, and call the runner or the services."""
from __future__ import annotations

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import OperationalError

from diagnostics import runner, services


@shared_task(
    acks_late=True,  # a worker that dies mid-run leaves the message for another (the runner restarts the run)
    reject_on_worker_lost=True,
    # A database that is briefly unavailable or locked must not leave the run queued until the sweep: claiming
    # is atomic and idempotent, so trying again is safe.
    autoretry_for=(OperationalError,),
    retry_backoff=1,
    retry_backoff_max=10,
    max_retries=5,
    soft_time_limit=settings.DIAGNOSTICS_RUN_TIMEOUT + 10,
    time_limit=settings.DIAGNOSTICS_RUN_TIMEOUT + 30,
    ignore_result=True,
)
def run_diagnostic(run_id: int) -> None:
    try:
        runner.run_execute(run_id=run_id)
    except SoftTimeLimitExceeded:
        runner.run_mark_error(run_id=run_id, outcome="timeout")


@shared_task(ignore_result=True)
def sweep_stale_runs() -> int:
    return services.runs_sweep_stale()


@shared_task(ignore_result=True)
def recheck_accounts() -> int:
    return services.accounts_recheck_due()
