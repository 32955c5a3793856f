"""Celery configuration of the tasks and the periodic re-check."""
from datetime import timedelta

import pytest
from django.utils import timezone

from diagnostics import lifecycle, services, tasks
from diagnostics.models import DiagnosticRun


def test_the_run_task_is_acked_late_with_soft_and_hard_limits():
    task = tasks.run_diagnostic
    assert task.acks_late is True and task.reject_on_worker_lost is True
    assert 0 < task.soft_time_limit < task.time_limit
    assert task.name == lifecycle.RUN_TASK  # the name the lifecycle publishes it by
    # A briefly unavailable database is retried instead of leaving the run queued until the sweep.
    from django.db import OperationalError

    assert OperationalError in task.autoretry_for and task.max_retries >= 3


def test_the_beat_schedule_names_real_tasks():
    from config.celery import app

    app.loader.import_default_modules()
    for entry in app.conf.beat_schedule.values():
        assert entry["task"] in app.tasks


@pytest.mark.django_db
def test_the_recheck_queues_due_accounts_in_batches_and_skips_recent_ones(user_s, admin_a, make_account):
    due = make_account(user_s)
    recent = make_account(admin_a, address="bob@example.test", last_checked_at=timezone.now())
    assert services.accounts_recheck_due(limit=10) == 1
    assert DiagnosticRun.objects.filter(account=due, trigger="schedule", status="queued").count() == 1
    assert not DiagnosticRun.objects.filter(account=recent).exists()
    # A run already in flight is not queued twice.
    assert services.accounts_recheck_due(limit=10) == 0


@pytest.mark.django_db
def test_the_recheck_does_not_retry_a_refused_password_until_the_settings_change(user_s, make_account):
    long_ago = timezone.now() - timedelta(days=2)
    account = make_account(user_s, status="auth_failed", last_checked_at=long_ago)
    account.__class__.objects.filter(pk=account.pk).update(updated_at=long_ago - timedelta(hours=1))
    assert services.accounts_recheck_due(limit=10) == 0
    account.__class__.objects.filter(pk=account.pk).update(updated_at=timezone.now())
    assert services.accounts_recheck_due(limit=10) == 1


@pytest.mark.django_db
def test_the_recheck_takes_the_longest_unchecked_first_up_to_the_limit(user_s, admin_a, admin_b, make_account):
    week_ago = timezone.now() - timedelta(days=7)
    make_account(admin_a, address="old@example.test", last_checked_at=week_ago)
    never = make_account(user_s)
    older = make_account(admin_b, address="older@example.test", last_checked_at=week_ago - timedelta(days=1))
    assert services.accounts_recheck_due(limit=2) == 2
    assert set(DiagnosticRun.objects.values_list("account_id", flat=True)) == {never.pk, older.pk}


def test_the_tasks_published_by_name_exist_under_that_name():
    from config.celery import app
    from diagnostics.notify import queue
    from diagnostics.oauth.refresh import REFRESH_TASK

    app.loader.import_default_modules()
    for name in (lifecycle.RUN_TASK, queue.DISPATCH_TASK, queue.EMAIL_TASK, queue.WEBHOOK_TASK,
                 REFRESH_TASK):
        assert name in app.tasks, name
