"""Server alerts shown: an IMAP [ALERT] in any response, successful or not, reaches the step (a warning
server_alert when nothing failed) and the advice, in the server's words, redacted; a failure keeps its own code.
POP3 and SMTP have no equivalent: their response codes stay failures."""

import json

import pytest

from diagnostics import judge, walk
from diagnostics.alerts import imap_alert
from diagnostics.models import DiagnosticRun, RunKind
from diagnostics.probes import imap, pop3
from diagnostics.results import Code, Step
from tests.diagnostics.probe_options import loopback_options
from tests.servers import scripted as s
from tests.servers.dovecot import ALERT_TEXT, ALERTED

MAINTENANCE = "System maintenance tonight from 22:00 to 23:00 UTC"


def _imap(port, security, *, ca_file, username="u@example.test", password="Secret-pw-1234", host="127.0.0.1"):
    return imap.probe_session(host=host, port=port, security=security, username=username, password=password,
                              options=loopback_options(ca_file=ca_file))


# --- which lines are alerts ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("line", "text"), [
    ("* OK [ALERT] Mailbox is 95% full", "Mailbox is 95% full"),
    ("a2 OK [ALERT] Your password expires in 3 days", "Your password expires in 3 days"),
    ("a2 NO [ALERT] Application-specific password required: https://support.google.com/mail/accounts/answer/185833 "
     "(Failure)", "Application-specific password required: https://support.google.com/mail/accounts/answer/185833 "
     "(Failure)"),
    ("* BYE [ALERT] Server shutting down", "Server shutting down"),
    ("* bad [alert] Plaintext authentication not allowed", "Plaintext authentication not allowed"),
    ("* PREAUTH [ALERT] Logged in by your network", "Logged in by your network"),
])
def test_an_alert_response_code_on_any_status_response_is_an_alert(line, text):
    assert imap_alert(line) == text


@pytest.mark.parametrize("line", [
    '* LIST () "/" "[ALERT] not a response code"',
    "* OK [CAPABILITY IMAP4rev1] [ALERT] the second bracket is text, not a code",
    "a2 NO [AUTHENTICATIONFAILED] Invalid credentials",
    "* OK [ALERT]",
    "* 3 EXISTS",
])
def test_other_lines_are_not_alerts(line):
    assert imap_alert(line) is None


# --- scripted IMAP servers -----------------------------------------------------------------------------------

def test_an_alert_in_the_greeting_is_a_warning_and_the_session_goes_on(scripted_server, test_ca):
    server = scripted_server(s.imap(greeting=f"* OK [ALERT] {MAINTENANCE}"))
    result = _imap(server.port, "none", ca_file=test_ca.ca_pem)
    greeting = result.step(Step.GREETING)
    assert (greeting.code, greeting.is_warning) == (Code.SERVER_ALERT, True)
    assert greeting.details["server_alerts"] == [MAINTENANCE]
    login = result.step(Step.LOGIN)
    assert login.ok and "server_alerts" not in login.details  # each alert belongs to the step it came with
    assert result.step(Step.FOLDERS) is not None  # a warning does not stop the session


@pytest.mark.parametrize(("untagged", "reply"), [
    ((f"* OK [ALERT] {MAINTENANCE}",), s.IMAP_LOGIN_OK),  # untagged, before a successful LOGIN
    ((), f"OK [ALERT] {MAINTENANCE}"),  # on the tagged OK itself
])
def test_an_alert_with_a_successful_login_is_a_warning_on_the_login_step(scripted_server, test_ca, untagged, reply):
    server = scripted_server(s.imap(login_untagged=untagged, login_reply=reply))
    result = _imap(server.port, "none", ca_file=test_ca.ca_pem)
    login = result.step(Step.LOGIN)
    assert (login.code, login.details["server_alerts"]) == (Code.SERVER_ALERT, [MAINTENANCE])
    assert result.step(Step.FOLDERS) is not None  # a warning does not stop the session


def test_a_failing_answer_keeps_its_classified_code_and_carries_the_alert(scripted_server, test_ca):
    server = scripted_server(s.imap_gmail("app_password"), tls="implicit")
    result = _imap(server.port, "ssl", ca_file=test_ca.ca_pem, host="localhost")
    login = result.step(Step.LOGIN)
    assert login.code == Code.AUTH_APP_PASSWORD_REQUIRED
    assert login.details["server_alerts"] == [s.GMAIL_APP_PASSWORD.removeprefix("NO [ALERT] ")]


def test_an_unknown_refusal_with_an_alert_is_still_a_refused_sign_in(scripted_server, test_ca):
    server = scripted_server(s.imap(login_reply="NO [ALERT] Account locked: call the help desk"))
    login = _imap(server.port, "none", ca_file=test_ca.ca_pem).step(Step.LOGIN)
    assert (login.code, login.details["reason"]) == (Code.AUTH_INVALID_CREDENTIALS, "rejected")
    assert login.details["server_alerts"] == ["Account locked: call the help desk"]


def test_a_bye_alert_greeting_is_a_busy_server_with_its_alert(scripted_server, test_ca):
    server = scripted_server(s.imap(greeting="* BYE [ALERT] Too many connections from your address"))
    greeting = _imap(server.port, "none", ca_file=test_ca.ca_pem).step(Step.GREETING)
    assert (greeting.code, greeting.transient) == (Code.SERVER_BUSY, True)
    assert greeting.details["server_alerts"] == ["Too many connections from your address"]


def test_an_alert_echoing_the_password_is_redacted(scripted_server, test_ca):
    server = scripted_server(s.imap(login_reply="OK [ALERT] Password Secret-pw-1234 expires tomorrow"))
    result = _imap(server.port, "none", ca_file=test_ca.ca_pem)
    assert result.step(Step.LOGIN).details["server_alerts"] == ["Password *** expires tomorrow"]
    assert "Secret-pw-1234" not in json.dumps(result.to_dict())


# --- POP3 has no equivalent ----------------------------------------------------------------------------------

@pytest.mark.parametrize("reply", [s.POP3_IN_USE, s.POP3_SYS_TEMP, s.POP3_LOGIN_DELAY, s.POP3_SYS_PERM])
def test_pop3_response_codes_stay_failures_and_are_not_alerts(scripted_server, test_ca, reply):
    server = scripted_server(s.pop3(pass_reply=reply))
    result = pop3.probe_session(host="127.0.0.1", port=server.port, security="none", username="u@example.test",
                                password="Secret-pw-1234", options=loopback_options(ca_file=test_ca.ca_pem))
    login = result.step(Step.LOGIN)
    assert login.code == Code.SERVER_BUSY
    assert "server_alerts" not in login.details


# --- real Dovecot --------------------------------------------------------------------------------------------

def test_dovecots_alert_after_login_is_a_warning_on_the_login_step(dovecot):
    result = _imap(dovecot.imaps_port, "ssl", ca_file=dovecot.ca_file, host="localhost", username=ALERTED,
                   password=dovecot.users[ALERTED])
    login = result.step(Step.LOGIN)
    assert (login.code, login.details["server_alerts"]) == (Code.SERVER_ALERT, [ALERT_TEXT])
    assert result.failed is None and result.step(Step.FOLDERS).ok


@pytest.mark.django_db
@pytest.mark.usefixtures("loopback_diagnostics")
def test_an_account_run_with_dovecots_alert_passes_with_a_warning_and_shows_the_text(user_s, make_account, dovecot):
    account = make_account(user_s, address=ALERTED, incoming_password=dovecot.users[ALERTED])
    run = DiagnosticRun.objects.create(organization=account.organization, account=account, kind=RunKind.ACCOUNT)
    walk.run_execute(run_id=run.pk)
    run.refresh_from_db()
    account.refresh_from_db()
    steps = {step.name: step for step in run.steps.all()}
    assert (run.status, run.outcome) == ("warning", "server_alert")
    assert (steps["login"].status, steps["login"].code) == ("warning", "server_alert")
    assert steps["folders"].status == steps["smtp_auth"].status == "passed"
    assert account.status == "connected"
    advice = judge.run_advice(run)
    assert [item["code"] for item in advice] == ["server_alert"]
    assert advice[0]["server_alerts"] == [ALERT_TEXT] and advice[0]["scenario"] is None


@pytest.mark.django_db
@pytest.mark.usefixtures("loopback_diagnostics")
def test_the_command_line_prints_the_servers_words_under_the_advice_and_exits_0(user_s, make_account, dovecot,
                                                                              capsys):
    from django.core.management import call_command

    make_account(user_s, address=ALERTED, incoming_password=dovecot.users[ALERTED])
    call_command("diagnose", ALERTED, "--inline")
    out = capsys.readouterr().out
    assert "warning (server_alert)" in out
    assert "The mail server sent a message for you\n" in out and f"  > {ALERT_TEXT}" in out


@pytest.mark.django_db
def test_the_admins_run_page_quotes_the_alert_under_its_advice(client, admin_a, org1):
    run = DiagnosticRun.objects.create(organization=org1, kind="port_check", status="warning",
                                       outcome="server_alert", target={"host": "imap.acme.test", "port": 993})
    run.steps.create(position=1, name="greeting", status="warning", code="server_alert",
                     details={"incoming": {"server_alerts": [MAINTENANCE]}})
    client.force_login(admin_a)
    page = client.get(f"/admin/diagnostics/diagnosticrun/{run.pk}/change/").content.decode()
    assert "The mail server sent a message for you" in page and f"<q>{MAINTENANCE}</q>" in page


# --- the advice ----------------------------------------------------------------------------------------------

def test_alerts_of_a_failing_run_follow_its_failure_in_the_advice():
    rows = [("passed", "ok"), ("failed", "auth_app_password_required"), ("skipped", "")]
    advice = judge.advice_list(rows, alerts=["Application-specific password required", "Application-specific "
                                                                                          "password required"])
    assert [item["code"] for item in advice] == ["auth_app_password_required", "server_alert"]
    assert advice[1]["server_alerts"] == ["Application-specific password required"]  # once
    assert "server_alerts" not in advice[0]


def test_the_alerts_of_a_merged_row_are_found_on_each_side():
    details = {"incoming": {"server_alerts": ["a"]}, "outgoing": {"skipped_because": "x"}, "server_alerts": ["b"]}
    assert judge.step_alerts(details) == ["b", "a"]
    assert judge.step_alerts(None) == []
