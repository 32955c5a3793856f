"""A real Celery worker in a thread, consuming from the configured broker (filesystem by default, Redis in CI).

Tests that use it need `@pytest.mark.django_db(transaction=True)`: the worker sees only committed rows.
"""
from __future__ import annotations

import pytest


@pytest.fixture
def celery_worker(transactional_db):
    from celery.contrib.testing.worker import start_worker

    from config.celery import app

    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30) as worker:
        yield worker
