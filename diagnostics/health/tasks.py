"""Beat's tasks of the health page and the metrics."""
from __future__ import annotations

from celery import shared_task

from diagnostics.health.services import status_snapshot_take
from diagnostics.metrics.rollup import run_stats_roll_up


@shared_task(ignore_result=True)
def take_status_snapshot() -> int:
    return status_snapshot_take()


@shared_task(ignore_result=True)
def roll_up_run_stats() -> int:
    return run_stats_roll_up()
