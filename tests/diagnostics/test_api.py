"""Diagnostics through the API and a real Celery worker on the configured broker (Redis in CI's second pass)."""
import time

import pytest

from diagnostics.models import DiagnosticRun

pytestmark = pytest.mark.usefixtures("loopback_diagnostics")


def wait_finished(run_id: int, timeout: float = 60.0) -> DiagnosticRun:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = DiagnosticRun.objects.get(pk=run_id)
        if run.is_finished:
            return run
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} still {run.status} after {timeout} s")


@pytest.mark.django_db(transaction=True)
def test_a_user_starts_a_run_that_a_real_worker_finishes_and_the_account_shows_it(
        celery_worker, api_as, user_s, make_account):
    account = make_account(user_s)
    client = api_as(user_s)
    response = client.post(f"/api/v1/mail-accounts/{account.pk}/diagnostics/")
    assert response.status_code == 202, response.json()
    body = response.json()
    assert body["status"] in ("queued", "running", "passed") and body["kind"] == "account"
    run = wait_finished(body["id"])
    assert run.status == "passed", list(run.steps.values_list("name", "status", "code"))
    detail = client.get(f"/api/v1/diagnostics/{run.pk}/").json()
    assert [s["name"] for s in detail["steps"]][:3] == ["settings", "domain", "dns"]
    assert detail["advice"][0]["code"] == "ok"
    assert set(detail) >= {"id", "kind", "status", "outcome", "steps", "advice", "created_at", "started_at",
                           "finished_at"}
    listed = client.get(f"/api/v1/mail-accounts/{account.pk}/diagnostics/").json()
    assert listed["count"] == 1 and listed["results"][0]["id"] == run.pk
    account.refresh_from_db()
    assert account.status == "connected"


@pytest.mark.django_db(transaction=True)
def test_a_wrong_password_run_ends_auth_failed_through_the_worker(celery_worker, api_as, user_s, make_account):
    account = make_account(user_s, incoming_password="wrong")
    run_id = api_as(user_s).post(f"/api/v1/mail-accounts/{account.pk}/diagnostics/").json()["id"]
    run = wait_finished(run_id)
    assert (run.status, run.outcome) == ("failed", "auth_invalid_credentials")
    account.refresh_from_db()
    assert (account.status, account.last_error_code) == ("auth_failed", "auth_invalid_credentials")


@pytest.mark.django_db
def test_a_second_request_returns_the_run_in_flight(api_as, user_s, make_account):
    account = make_account(user_s)
    client = api_as(user_s)
    first = client.post(f"/api/v1/mail-accounts/{account.pk}/diagnostics/")
    second = client.post(f"/api/v1/mail-accounts/{account.pk}/diagnostics/")
    assert first.status_code == second.status_code == 202
    assert first.json()["id"] == second.json()["id"]
    assert DiagnosticRun.objects.filter(account=account).count() == 1


@pytest.mark.django_db(transaction=True)
def test_an_unreachable_broker_answers_503_and_records_the_run_as_error(api_as, user_s, make_account,
                                                                        broker_unreachable):
    account = make_account(user_s)
    response = api_as(user_s).post(f"/api/v1/mail-accounts/{account.pk}/diagnostics/")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "queue_unavailable"
    run = DiagnosticRun.objects.get(account=account)
    assert (run.status, run.outcome) == ("error", "queue_unavailable")


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["admin_x", "admin_b"])
def test_who_may_start_and_read_runs(request, api_as, user_s, make_account, persona):
    account = make_account(user_s)
    run = DiagnosticRun.objects.create(organization=account.organization, account=account, kind="account",
                                       status="passed")
    client = api_as(request.getfixturevalue(persona))
    if persona == "admin_x":  # another organization: nothing exists
        assert client.post(f"/api/v1/mail-accounts/{account.pk}/diagnostics/").status_code == 404
        assert client.get(f"/api/v1/diagnostics/{run.pk}/").status_code == 404
        assert client.get(f"/api/v1/mail-accounts/{account.pk}/diagnostics/").status_code == 404
    else:  # an admin of the same organization may check a user's account
        assert client.get(f"/api/v1/diagnostics/{run.pk}/").status_code == 200


@pytest.mark.django_db
def test_another_standard_user_cannot_read_a_run(api_as, org1, user_s, make_account):
    from accounts.models import User

    other = User.objects.create_user("other@acme.test", "pw", organization=org1, role="standard")
    account = make_account(user_s)
    run = DiagnosticRun.objects.create(organization=org1, account=account, kind="account", status="passed")
    assert api_as(other).get(f"/api/v1/diagnostics/{run.pk}/").status_code == 404


@pytest.mark.django_db
def test_a_locked_user_cannot_start_a_run_of_their_account(api_as, admin_a, user_s, make_account):
    from locks.models import SettingsLock

    account = make_account(user_s)
    SettingsLock.objects.create(user=user_s, organization=user_s.organization, locked_by=admin_a)
    response = api_as(user_s).post(f"/api/v1/mail-accounts/{account.pk}/diagnostics/")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "settings_locked"


def record_failed_sign_in(account, *, step="login", host=None, code="auth_invalid_credentials", ip=None):
    """A finished run whose sign-in row failed, as the walk writes it (the guard counts these rows)."""
    from django.utils import timezone

    run = DiagnosticRun.objects.create(organization=account.organization, account=account, kind="account",
                                       status="failed", outcome="port_closed", finished_at=timezone.now())
    details = {"host": host or account.incoming_host}
    if ip is not None:
        details["ip"] = ip  # the address the probe connected to
    run.steps.create(position=1, name=step, status="failed", code=code, details=details)


@pytest.mark.django_db
def test_repeated_failed_sign_ins_slow_down_then_stop(api_as, user_s, make_account, settings):
    settings.DIAGNOSTICS_AUTH_FAILURES_SLOW, settings.DIAGNOSTICS_AUTH_FAILURES_STOP = 2, 4
    account = make_account(user_s)
    client = api_as(user_s)
    url = f"/api/v1/mail-accounts/{account.pk}/diagnostics/"

    record_failed_sign_in(account)
    assert client.post(url).status_code == 202
    DiagnosticRun.objects.filter(status="queued").update(status="error")
    record_failed_sign_in(account)
    slowed = client.post(url)
    assert slowed.status_code == 429 and slowed.json()["error"]["retry_after"] > 0
    record_failed_sign_in(account), record_failed_sign_in(account)
    settings.DIAGNOSTICS_AUTH_BACKOFF = 0
    assert client.post(url).status_code == 429


@pytest.mark.django_db
def test_smtp_sign_in_failures_count_even_when_an_earlier_step_failed_and_the_incoming_host_changed(
        api_as, user_s, make_account, settings):
    settings.DIAGNOSTICS_AUTH_FAILURES_SLOW, settings.DIAGNOSTICS_AUTH_FAILURES_STOP = 10, 2
    account = make_account(user_s)
    for _ in range(2):  # each run's outcome was port_closed; its smtp_auth row failed on the password
        record_failed_sign_in(account, step="smtp_auth", host=account.smtp_host, code="smtp_auth_failed")
    account.incoming_host = "127.0.0.1"
    account.save()
    response = api_as(user_s).post(f"/api/v1/mail-accounts/{account.pk}/diagnostics/")
    assert response.status_code == 429


@pytest.mark.django_db
@pytest.mark.parametrize("spelling", ["127.0.0.1", "::ffff:127.0.0.1", "[::ffff:7f00:1]", "mail.other-name.test"])
def test_failures_count_per_address_whatever_name_or_form_the_server_is_given(
        api_as, user_s, make_account, settings, spelling):
    from tests.servers.dns_server import running_dns_server

    settings.DIAGNOSTICS_AUTH_FAILURES_SLOW, settings.DIAGNOSTICS_AUTH_FAILURES_STOP = 10, 2
    account = make_account(user_s, incoming_host=spelling.strip("[]"), smtp_host=spelling.strip("[]"))
    for _ in range(2):  # earlier runs against "localhost", which the probe reached at 127.0.0.1
        record_failed_sign_in(account, host="localhost", ip="127.0.0.1")
    with running_dns_server({"mail.other-name.test": {"A": ["127.0.0.1"]}}) as dns:
        settings.DNS_NAMESERVERS = [f"127.0.0.1:{dns.port}"]
        response = api_as(user_s).post(f"/api/v1/mail-accounts/{account.pk}/diagnostics/")
    assert response.status_code == 429, response.json()
    assert response.json()["error"]["code"] == "throttled"


@pytest.mark.django_db
def test_failures_at_another_address_do_not_count(api_as, user_s, make_account, settings):
    settings.DIAGNOSTICS_AUTH_FAILURES_SLOW, settings.DIAGNOSTICS_AUTH_FAILURES_STOP = 10, 2
    account = make_account(user_s, incoming_host="127.0.0.2", smtp_host="127.0.0.2")
    for _ in range(2):
        record_failed_sign_in(account, host="localhost", ip="127.0.0.1")
    assert api_as(user_s).post(f"/api/v1/mail-accounts/{account.pk}/diagnostics/").status_code == 202


@pytest.mark.django_db
def test_another_organizations_failures_do_not_count(api_as, user_s, admin_x, make_account, settings):
    settings.DIAGNOSTICS_AUTH_FAILURES_SLOW, settings.DIAGNOSTICS_AUTH_FAILURES_STOP = 1, 1
    theirs = make_account(admin_x, address="bob@example.test")
    record_failed_sign_in(theirs)
    ours = make_account(user_s)
    assert api_as(user_s).post(f"/api/v1/mail-accounts/{ours.pk}/diagnostics/").status_code == 202


@pytest.mark.django_db
def test_the_per_user_run_rate_is_throttled(api_as, user_s, make_account, throttle_rates):
    from django.utils import timezone

    throttle_rates(diagnostics="2/hour")
    account = make_account(user_s)
    client = api_as(user_s)
    codes = []
    for _ in range(3):
        codes.append(client.post(f"/api/v1/mail-accounts/{account.pk}/diagnostics/").status_code)
        DiagnosticRun.objects.filter(status="queued").update(status="passed", finished_at=timezone.now())
    assert codes == [202, 202, 429]
