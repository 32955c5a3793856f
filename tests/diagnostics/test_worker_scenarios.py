"""The scenarios of the seed, each through the API and a real Celery worker on the configured broker (Redis in
CI's second pass), against real or scripted servers on loopback; runs and accounts read back from the database."""
import functools
import time

import pytest

from diagnostics.models import DiagnosticRun
from tests.servers import scripted
from tests.servers.dovecot import ALERT_TEXT, ALERTED

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("loopback_diagnostics")]


def run_through_worker(client, account) -> DiagnosticRun:
    response = client.post(f"/api/v1/mail-accounts/{account.pk}/diagnostics/")
    assert response.status_code == 202, response.json()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        run = DiagnosticRun.objects.get(pk=response.json()["id"])
        if run.is_finished:
            account.refresh_from_db()
            return run
        time.sleep(0.1)
    raise AssertionError("the worker did not finish the run")


def steps_of(run):
    return {s.name: (s.status, s.code) for s in run.steps.all()}


# (name, how the account differs from alice's good one, expected outcome, failing step, account status, scenario)
SCENARIOS = {
    "gmail_app_password": ("imap", "implicit", scripted.imap_gmail, ("app_password",),
                           "auth_app_password_required", "login", "auth_failed", "T2"),
    "gmail_web_login": ("imap", "implicit", scripted.imap_gmail, ("web_login",),
                        "auth_web_login_required", "login", "auth_failed", "T2"),
    "exchange_login_failed": ("imap", "implicit", scripted.imap_exchange, (),
                              "auth_invalid_credentials", "login", "auth_failed", "T2"),
    "dropped_during_login": ("imap", "implicit", scripted.drop_during_auth, ("imap",),
                             "disconnected_during_auth", "login", "connection_failed", "T3"),
    "smtp_on_the_imap_port": ("imap", None, scripted.wrong_protocol_smtp, (),
                              "wrong_protocol", "greeting", "connection_failed", "T1"),
    "m365_basic_auth_disabled": ("smtp", "starttls", scripted.smtp_microsoft365, ("basic_auth_disabled",),
                                 "auth_basic_auth_disabled", "smtp_auth", "auth_failed", "T2"),
    "expired_certificate": ("imap", "implicit:expired", scripted.imap, (),
                            "tls_certificate_invalid", "tls", "connection_failed", "T1"),
    # "server mode/configured security": STARTTLS or nothing configured against a port that expects TLS at once.
    "starttls_on_an_implicit_tls_imap_port": ("imap", "implicit/starttls", scripted.imap, (),
                                              "implicit_tls_expected", "greeting", "connection_failed", "T1"),
    "nothing_on_an_implicit_tls_smtp_port": ("smtp", "implicit/none", scripted.smtp, (),
                                             "implicit_tls_expected", "greeting", "connection_failed", "T1"),
    # Access turned off by the person or the administrator, retired basic auth for sending, too many connections.
    "gmail_imap_turned_off": ("imap", "implicit", functools.partial(scripted.imap, login_reply=(
        "NO [ALERT] Your account is not enabled for IMAP use. Please visit your Gmail settings page and enable your "
        "account for IMAP access. (Failure)")), (), "protocol_disabled", "login", "auth_failed", "T2"),
    "workspace_imap_turned_off_by_admin": ("imap", "implicit", functools.partial(scripted.imap, login_reply=(
        "NO [ALERT] IMAP access is disabled for your domain. Please contact your domain administrator for questions "
        "about this feature. (Failure)")), (), "protocol_disabled_by_admin", "login", "auth_failed", "T2"),
    "m365_basic_auth_not_supported_for_submission": ("smtp", "implicit", functools.partial(scripted.smtp, auth_reply=(
        "550 5.7.30 Basic authentication is not supported for Client Submission.")), (),
        "auth_basic_auth_disabled", "smtp_auth", "auth_failed", "T2"),
    "too_many_connections": ("imap", "implicit", functools.partial(scripted.imap, login_reply=(
        "NO [UNAVAILABLE] Maximum number of connections from user+IP exceeded (mail_max_userip_connections=10)")), (),
        "server_busy", "login", "connection_failed", "T1"),
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_each_scenario_through_the_worker_ends_with_its_code_status_and_advice(
        name, celery_worker, api_as, user_s, make_account, scripted_server):
    side, tls, behaviour, args, code, step, status, scenario = SCENARIOS[name]
    mode, _, cert = (tls or "").partition(":")
    mode, _, configured = mode.partition("/")
    server = scripted_server(behaviour(*args), tls=mode or None, cert=cert or "localhost")
    security = {"implicit": "ssl", "starttls": "starttls", "": "none", "none": "none"}[configured or mode]
    if side == "imap":
        account = make_account(user_s, incoming_port=server.port, incoming_security=security)
    else:
        account = make_account(user_s, smtp_port=server.port, smtp_security=security)
    client = api_as(user_s)
    run = run_through_worker(client, account)
    assert (run.status, run.outcome) == ("failed", code), steps_of(run)
    assert steps_of(run)[step] == ("failed", code)
    assert (account.status, account.last_error_code) == (status, code)
    advice = client.get(f"/api/v1/diagnostics/{run.pk}/").json()["advice"]
    assert advice[0]["code"] == code and advice[0]["scenario"] == scenario and advice[0]["steps"]
    assert (run.finished_at - run.started_at).total_seconds() < 10


def test_a_wrong_security_through_the_worker_carries_the_facts_and_the_fix_in_the_api(
        celery_worker, api_as, user_s, make_account, dovecot):
    account = make_account(user_s, incoming_port=dovecot.imaps_port, incoming_security="starttls")
    client = api_as(user_s)
    run = run_through_worker(client, account)
    body = client.get(f"/api/v1/diagnostics/{run.pk}/").json()
    greeting = next(step for step in body["steps"] if step["name"] == "greeting")
    assert (greeting["status"], greeting["code"]) == ("failed", "implicit_tls_expected")
    incoming = greeting["details"]["incoming"]
    assert (incoming["port"], incoming["configured_security"], incoming["fix"]) == (
        dovecot.imaps_port, "starttls", {"incoming_security": "ssl"})
    assert (run.finished_at - run.started_at).total_seconds() < 10


def test_a_server_alert_through_the_worker_is_a_warning_whose_advice_quotes_the_server(
        celery_worker, api_as, user_s, make_account, dovecot):
    account = make_account(user_s, address=ALERTED, incoming_password=dovecot.users[ALERTED])
    client = api_as(user_s)
    run = run_through_worker(client, account)
    assert (run.status, run.outcome) == ("warning", "server_alert"), steps_of(run)
    assert steps_of(run)["login"] == ("warning", "server_alert")
    assert account.status == "connected"
    advice = client.get(f"/api/v1/diagnostics/{run.pk}/").json()["advice"]
    assert [(a["code"], a["scenario"], a["server_alerts"]) for a in advice] == [("server_alert", None, [ALERT_TEXT])]


def test_an_alert_with_a_refused_sign_in_through_the_worker_follows_the_failure_in_the_advice(
        celery_worker, api_as, user_s, make_account, scripted_server):
    server = scripted_server(scripted.imap_gmail("app_password"), tls="implicit")
    account = make_account(user_s, incoming_port=server.port)
    client = api_as(user_s)
    run = run_through_worker(client, account)
    assert (run.status, run.outcome) == ("failed", "auth_app_password_required")
    advice = client.get(f"/api/v1/diagnostics/{run.pk}/").json()["advice"]
    assert [a["code"] for a in advice] == ["auth_app_password_required", "server_alert"]
    assert advice[1]["server_alerts"][0].startswith("Application-specific password required")


def test_a_certificate_about_to_expire_is_a_warning_through_the_worker(celery_worker, api_as, user_s, make_account,
                                                                        scripted_server):
    server = scripted_server(scripted.smtp(auth_reply="235 2.7.0 Authentication successful"), tls="implicit",
                             cert="expiring")
    account = make_account(user_s, smtp_port=server.port, smtp_security="ssl")
    client = api_as(user_s)
    run = run_through_worker(client, account)
    assert (run.status, run.outcome) == ("warning", "tls_certificate_expiring"), steps_of(run)
    assert account.status == "connected"
    advice = client.get(f"/api/v1/diagnostics/{run.pk}/").json()["advice"]
    assert advice[0]["code"] == "tls_certificate_expiring" and advice[0]["scenario"] == "T1"


def test_a_domain_whose_records_are_broken_is_a_warning_through_the_worker(celery_worker, api_as, user_s,
                                                                           make_account, dns_server):
    # alice@example.test's domain publishes an SPF record that lets every server send as it.
    dns_server.zone["example.test"]["TXT"] = ['"v=spf1 +all"']
    account = make_account(user_s)
    client = api_as(user_s)
    run = run_through_worker(client, account)
    assert (run.status, run.outcome) == ("warning", "mail_records_problem"), steps_of(run)
    domain = run.steps.get(name="domain")
    spf = next(c for c in domain.details["records"]["checks"] if c["record"] == "spf")
    assert (spf["level"], spf["reason"], spf["found"]) == ("error", "pass_all", ["v=spf1 +all"])
    advice = client.get(f"/api/v1/diagnostics/{run.pk}/").json()["advice"]
    assert advice[0]["code"] == "mail_records_problem" and advice[0]["scenario"] == "T4"
