"""A run's lifecycle: publishing (again), claiming, finishing, giving up, and the sweep."""
import time
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from diagnostics import lifecycle, services, tasks, walk
from diagnostics.models import STEPS_OF_KIND, DiagnosticRun, RunKind

# Runs of these tests may reach the loopback servers; the first test needs none of it.
on_loopback = pytest.mark.usefixtures("loopback_diagnostics")

ACCOUNT_STEPS = [str(name) for name in STEPS_OF_KIND[RunKind.ACCOUNT]]


def wait_finished(run: DiagnosticRun, timeout: float = 60.0) -> DiagnosticRun:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.is_finished:
            return run
        time.sleep(0.1)
    raise AssertionError(f"run {run.pk} still {run.status} after {timeout} s")


def test_the_longest_run_outlasts_the_run_tasks_hard_limit_read_from_the_same_setting(settings):
    assert tasks.run_diagnostic.time_limit == settings.DIAGNOSTICS_TASK_TIME_LIMIT
    assert tasks.run_diagnostic.soft_time_limit == settings.DIAGNOSTICS_TASK_SOFT_TIME_LIMIT
    assert lifecycle.longest_run_seconds() > tasks.run_diagnostic.time_limit
    settings.DIAGNOSTICS_TASK_TIME_LIMIT = 900
    assert lifecycle.longest_run_seconds() > 900


@on_loopback
@pytest.mark.django_db
def test_the_sweep_marks_runs_stuck_in_flight_as_worker_lost(user_s, make_account, settings):
    account = make_account(user_s)
    now = timezone.now()
    beyond_any_worker = now - timedelta(
        seconds=max(settings.DIAGNOSTICS_STALE_AFTER, lifecycle.longest_run_seconds()) + 5)
    stuck = DiagnosticRun.objects.create(organization=account.organization, account=account, kind="account",
                                         status="running", created_at=beyond_any_worker, started_at=beyond_any_worker)
    # Queued a long time, started just now: a live worker is walking it.
    walking = DiagnosticRun.objects.create(organization=account.organization, kind="port_check", status="running",
                                           created_at=beyond_any_worker, started_at=now,
                                           target={"host": "localhost", "port": 993})
    waiting = DiagnosticRun.objects.create(organization=account.organization, kind="port_check", status="queued",
                                           created_at=beyond_any_worker, target={"host": "localhost", "port": 993})
    forgotten = DiagnosticRun.objects.create(
        organization=account.organization, kind="port_check", status="queued",
        created_at=now - timedelta(seconds=settings.DIAGNOSTICS_QUEUED_STALE_AFTER + 5),
        target={"host": "localhost", "port": 993})
    assert lifecycle.runs_sweep_stale() == 2
    for run in (stuck, walking, waiting, forgotten):
        run.refresh_from_db()
    assert (stuck.status, stuck.outcome) == ("error", "worker_lost") and stuck.finished_at
    assert (forgotten.status, forgotten.outcome) == ("error", "worker_lost")
    assert walking.status == "running" and waiting.status == "queued"


@on_loopback
@pytest.mark.django_db
def test_a_run_finishing_after_the_sweep_does_not_overwrite_its_verdict(user_s, make_account):
    account = make_account(user_s)
    run = DiagnosticRun.objects.create(organization=account.organization, account=account, kind="account",
                                       status="running", started_at=timezone.now())
    assert lifecycle.run_mark_error(run_id=run.pk, outcome="worker_lost")
    assert lifecycle.run_finish(run, status="passed", outcome="ok") is False
    run.refresh_from_db()
    assert (run.status, run.outcome) == ("error", "worker_lost")
    account.refresh_from_db()
    assert account.status == "pending"


@on_loopback
@pytest.mark.django_db
@pytest.mark.parametrize("given_up_by", ["sweep", "redelivery"])
def test_a_run_given_up_as_worker_lost_keeps_its_steps_and_skips_the_rest_with_the_reason(
        user_s, make_account, given_up_by):
    long_ago = timezone.now() - timedelta(seconds=lifecycle.longest_run_seconds() + 400)
    account = make_account(user_s)
    run = DiagnosticRun.objects.create(organization=account.organization, account=account, kind=RunKind.ACCOUNT,
                                       status="running", attempts=lifecycle.MAX_ATTEMPTS, started_at=long_ago)
    run.steps.create(position=1, name="settings", status="passed", code="ok")
    run.steps.create(position=2, name="domain", status="warning", code="provider_mismatch")
    if given_up_by == "sweep":
        assert lifecycle.runs_sweep_stale() == 1
    else:  # the worker died on its last attempt and the message came back once more
        assert walk.run_execute(run_id=run.pk) is None
    run.refresh_from_db()
    assert (run.status, run.outcome) == ("error", "worker_lost")
    steps = list(run.steps.all())
    assert [s.name for s in steps] == ACCOUNT_STEPS
    assert [(s.status, s.code) for s in steps[:2]] == [("passed", "ok"), ("warning", "provider_mismatch")]
    for step in steps[2:]:
        assert (step.status, step.details) == ("skipped", {"skipped_because": "worker_lost"})
        assert step.message == "Skipped: the check was interrupted before this step."


@on_loopback
@pytest.mark.django_db(transaction=True)
def test_a_queued_run_no_worker_took_is_published_again_once_and_a_worker_finishes_it(
        user_s, make_account, settings, celery_worker):
    account = make_account(user_s)
    # A run whose message the broker lost (restarted without persistence): the row is queued, nothing is published.
    lost = DiagnosticRun.objects.create(
        organization=account.organization, account=account, kind=RunKind.ACCOUNT,
        created_at=timezone.now() - timedelta(seconds=settings.DIAGNOSTICS_QUEUED_REPUBLISH_AFTER + 5))
    fresh = DiagnosticRun.objects.create(organization=account.organization, kind=RunKind.PORT_CHECK,
                                         target={"host": "localhost", "port": 993})
    tasks.sweep_stale_runs()
    lost = wait_finished(lost, timeout=30)
    assert lost.status == "passed" and lost.republished_at is not None
    assert [s.name for s in lost.steps.all()] == ACCOUNT_STEPS
    fresh.refresh_from_db()
    assert fresh.republished_at is None  # not yet due
    assert lifecycle.runs_republish_untaken() == 0  # once only


@on_loopback
@pytest.mark.django_db(transaction=True)
def test_a_request_replaces_a_queued_run_still_untaken_after_it_was_published_again(
        api_as, user_s, make_account, settings):
    settings.DIAGNOSTICS_QUEUED_REPUBLISH_AFTER = 0
    account = make_account(user_s)
    lost = DiagnosticRun.objects.create(organization=account.organization, account=account, kind=RunKind.ACCOUNT)
    client = api_as(user_s)
    again = client.post(f"/api/v1/mail-accounts/{account.pk}/diagnostics/")
    assert (again.status_code, again.json()["id"]) == (202, lost.pk)  # published again, still the same run
    replaced = client.post(f"/api/v1/mail-accounts/{account.pk}/diagnostics/")
    assert replaced.status_code == 202 and replaced.json()["id"] != lost.pk
    assert replaced.json()["status"] == "queued"
    lost.refresh_from_db()
    assert (lost.status, lost.outcome) == ("error", "worker_lost")
    assert [s.status for s in lost.steps.all()] == ["skipped"] * len(ACCOUNT_STEPS)


@on_loopback
@pytest.mark.django_db(transaction=True)
def test_enqueueing_inside_a_transaction_is_refused_instead_of_losing_the_queues_answer(user_s, make_account):
    account = make_account(user_s)
    run = DiagnosticRun.objects.create(organization=account.organization, account=account, kind=RunKind.ACCOUNT)
    with pytest.raises(RuntimeError), transaction.atomic():
        services.run_enqueue(run)
    run.refresh_from_db()
    assert run.status == "queued"


@on_loopback
@pytest.mark.django_db(transaction=True)
def test_a_dead_broker_gives_the_run_up_with_every_step_accounted_for(user_s, make_account, broker_unreachable):
    from diagnostics.errors import QueueUnavailable

    account = make_account(user_s)
    run = DiagnosticRun.objects.create(organization=account.organization, account=account, kind=RunKind.ACCOUNT)
    with pytest.raises(QueueUnavailable):
        services.run_enqueue(run)
    run.refresh_from_db()
    assert (run.status, run.outcome) == ("error", "queue_unavailable")
    assert {s.details["skipped_because"] for s in run.steps.all()} == {"queue_unavailable"}
    assert run.steps.count() == len(ACCOUNT_STEPS)
