"""Celery entry points: thin doors. They take ids and call the walk, the lifecycle or the services."""
from __future__ import annotations

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import OperationalError

from diagnostics import lifecycle, services, walk


@shared_task(
    name=lifecycle.RUN_TASK,  # the lifecycle publishes it by this name
    acks_late=True,  # a worker that dies mid-run leaves the message for another (the claim restarts the run)
    reject_on_worker_lost=True,
    # A database that is briefly unavailable or locked must not leave the run queued until the sweep: claiming
    # is atomic and idempotent, so trying again is safe.
    autoretry_for=(OperationalError,),
    retry_backoff=1,
    retry_backoff_max=10,
    max_retries=5,
    soft_time_limit=settings.DIAGNOSTICS_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.DIAGNOSTICS_TASK_TIME_LIMIT,  # lifecycle.longest_run_seconds() counts on it
    ignore_result=True,
)
def run_diagnostic(run_id: int) -> None:
    try:
        walk.run_execute(run_id=run_id)
    except SoftTimeLimitExceeded:
        lifecycle.run_mark_error(run_id=run_id, outcome="timeout")


@shared_task(ignore_result=True)
def sweep_stale_runs() -> int:
    """Every minute: publish again the runs no worker took, give up the runs whose worker is gone."""
    lifecycle.runs_republish_untaken()
    return lifecycle.runs_sweep_stale()


@shared_task(ignore_result=True)
def recheck_accounts() -> int:
    return services.accounts_recheck_due()
