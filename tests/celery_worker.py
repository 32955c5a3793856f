"""A real Celery worker in a thread, consuming from the configured broker (filesystem by default, Redis in CI).

Tests that use it need `@pytest.mark.django_db(transaction=True)`: the worker sees only committed rows.
"""
from __future__ import annotations

import pytest


@pytest.fixture
def celery_worker(transactional_db):
    from celery.contrib.testing.tasks import ping
    from celery.contrib.testing.worker import start_worker
    from celery.worker import state

    from config.celery import app

    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30) as worker:
        yield worker
        # Stop at once. The worker polls the broker for up to 2 s at a time and once more while stopping (about 4 s
        # per test on the filesystem broker); two no-op messages after Celery's own stop flag wake both polls.
        state.should_terminate = 0
        for _ in range(2):
            ping.apply_async()
