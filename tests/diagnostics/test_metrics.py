"""`/metrics`: off without a token, refused without the right one, and what it says parsed with prometheus_client's
own parser. Computed from the database, so any process answers for the work of all."""
import datetime

import pytest
from django.db.models import Sum
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from diagnostics.metrics.models import RunHourlyStats
from diagnostics.metrics.rollup import run_stats_roll_up
from diagnostics.models import DiagnosticRun
from diagnostics.notify.models import WebhookDelivery, WebhookEndpoint
from tests.diagnostics.health_helpers import finish_check, make_account

pytestmark = pytest.mark.django_db
TOKEN = "metrics-token-for-tests"  # noqa: S105


@pytest.fixture
def token(settings):
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


def scrape(token: str = TOKEN) -> dict:
    response = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_are_off_unless_a_token_is_configured(settings):
    settings.METRICS_TOKEN = ""
    response = Client().get("/metrics", HTTP_AUTHORIZATION="Bearer anything")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("header", [None, "Bearer wrong", f"Token {TOKEN}", f"Basic {TOKEN}", "Bearer"])
def test_metrics_are_refused_without_the_bearer_token(token, header):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = Client().get("/metrics", **extra)
    assert response.status_code == 401 and response.json()["error"]["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_runs_are_counted_by_kind_status_and_outcome_with_their_durations(token, user_s):
    account = make_account(user_s)
    finish_check(account, "ok")
    finish_check(account, "auth_invalid_credentials")
    finish_check(account, "auth_invalid_credentials")
    DiagnosticRun.objects.create(organization=user_s.organization, kind="port_check", status="error",
                                 outcome="queue_unavailable", finished_at=timezone.now())  # never started
    samples = scrape()
    assert value(samples, "mailbind_diagnostic_runs_total", kind="account", status="passed", outcome="ok") == 1
    assert value(samples, "mailbind_diagnostic_runs_total", kind="account", status="failed",
                 outcome="auth_invalid_credentials") == 2
    assert value(samples, "mailbind_diagnostic_runs_total", kind="port_check", status="error",
                 outcome="queue_unavailable") == 1
    # Each helper run lasts 2 s: in the 2.5 s bucket, not the 1 s one; the unstarted run has no duration.
    assert value(samples, "mailbind_diagnostic_run_duration_seconds_bucket", kind="account", le="1.0") == 0
    assert value(samples, "mailbind_diagnostic_run_duration_seconds_bucket", kind="account", le="2.5") == 3
    assert value(samples, "mailbind_diagnostic_run_duration_seconds_bucket", kind="account", le="+Inf") == 3
    assert value(samples, "mailbind_diagnostic_run_duration_seconds_sum", kind="account") == pytest.approx(6.0)
    assert value(samples, "mailbind_diagnostic_run_duration_seconds_count", kind="port_check") == 0


def test_the_hourly_roll_up_keeps_the_counters_where_they_were(token, user_s):
    account = make_account(user_s)
    long_ago = timezone.now() - datetime.timedelta(hours=30)
    for hours in (0, 1, 1, 5):
        finish_check(account, "ok", at=long_ago + datetime.timedelta(hours=hours))
    finish_check(account, "port_closed")
    before = scrape()
    assert run_stats_roll_up() >= 25 and run_stats_roll_up() == 0  # settled hours, once
    assert RunHourlyStats.objects.exclude(kind="").aggregate(n=Sum("runs"))["n"] == 4
    after = scrape()
    runs = {k: v for k, v in after.items() if k[0].startswith("mailbind_diagnostic_run")}
    assert runs == {k: v for k, v in before.items() if k[0].startswith("mailbind_diagnostic_run")}
    assert value(after, "mailbind_diagnostic_runs_total", kind="account", status="passed", outcome="ok") == 4


def test_accounts_are_counted_per_organization_and_status_with_a_bounded_label_set(token, settings, user_s,
                                                                                  admin_a, admin_x):
    finish_check(make_account(user_s), "auth_invalid_credentials")
    finish_check(make_account(admin_a), "ok")
    make_account(admin_x)
    samples = scrape()
    org1, org2 = str(user_s.organization_id), str(admin_x.organization_id)
    assert value(samples, "mailbind_mail_accounts", organization=org1, status="auth_failed") == 1
    assert value(samples, "mailbind_mail_accounts", organization=org1, status="connected") == 1
    assert value(samples, "mailbind_mail_accounts", organization=org2, status="pending") == 1
    settings.METRICS_MAX_ORGANIZATIONS = 1  # the largest organization keeps its label, the rest are "other"
    samples = scrape()
    assert value(samples, "mailbind_mail_accounts", organization="other", status="pending") == 1
    assert not any(k[0] == "mailbind_mail_accounts" and ("organization", org2) in k[1] for k in samples)


def test_recheck_lag_says_how_overdue_the_oldest_account_is(token, settings, user_s, admin_a):
    settings.DIAGNOSTICS_RECHECK_INTERVAL = 3600
    finish_check(make_account(user_s), "ok", at=timezone.now() - datetime.timedelta(hours=3))
    finish_check(make_account(admin_a), "ok")
    samples = scrape()
    assert 7000 < value(samples, "mailbind_recheck_lag_seconds") < 7300  # 3 h since, 1 h allowed
    assert value(samples, "mailbind_recheck_due_accounts") == 1


def test_webhook_deliveries_are_counted_by_result_and_the_queue_is_reported(token, admin_a):
    endpoint = WebhookEndpoint.objects.create(organization=admin_a.organization, url="https://hooks.example.com/",
                                              events=["run.finished"], secret="whsec_x")
    for status in ("delivered", "delivered", "failed", "pending"):
        WebhookDelivery.objects.create(endpoint=endpoint, organization=endpoint.organization, event_type="x",
                                       status=status)
    samples = scrape()
    assert value(samples, "mailbind_webhook_deliveries_total", result="delivered") == 2
    assert value(samples, "mailbind_webhook_deliveries_total", result="failed") == 1
    assert value(samples, "mailbind_webhook_deliveries_pending") == 1
    assert value(samples, "mailbind_broker_up") == 1
    assert ("mailbind_queue_messages", (("queue", "celery"),)) in samples


def test_a_dead_broker_is_reported_not_an_error(token, broker_unreachable):
    samples = scrape()
    assert value(samples, "mailbind_broker_up") == 0
    assert not any(k[0] == "mailbind_queue_messages" for k in samples)
