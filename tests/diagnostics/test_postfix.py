"""A real Postfix on loopback that signs users in through the test Dovecot (SASL): SMTP sessions, and account runs
that send through it."""

import json

import pytest

from diagnostics import walk
from diagnostics.models import DiagnosticRun, RunKind
from diagnostics.probes import smtp
from diagnostics.results import Code, Step
from tests.diagnostics.probe_options import loopback_options
from tests.servers.dovecot import ALICE, BOB


def _session(postfix, port, security, *, username=None, password=None):
    return smtp.probe_session(host="localhost", port=port, security=security, username=username, password=password,
                              options=loopback_options(ca_file=postfix.ca_file))


def _steps(result):
    return [(str(step.step), str(step.code)) for step in result.steps]


def test_postfix_587_signs_alice_in_after_starttls(postfix):
    result = _session(postfix, postfix.submission_port, "starttls", username=ALICE, password=postfix.users[ALICE])
    assert _steps(result) == [("dns", "ok"), ("port", "ok"), ("greeting", "ok"), ("tls", "ok"), ("smtp_auth", "ok")]
    assert result.step(Step.GREETING).details["server_line"].startswith("220 postfix.example.test ESMTP Postfix")
    assert "AUTH" not in result.step(Step.GREETING).details["extensions"]  # offered only after STARTTLS
    assert "AUTH" in result.step(Step.TLS).details["extensions"]
    assert result.step(Step.SMTP_AUTH).details["mechanisms"] == ["LOGIN", "PLAIN"]


def test_postfix_587_without_tls_offers_no_auth_which_is_a_plaintext_refusal(postfix):
    result = _session(postfix, postfix.submission_port, "none", username=ALICE, password=postfix.users[ALICE])
    step = result.step(Step.SMTP_AUTH)
    assert (step.code, step.details["reason"]) == (Code.PLAINTEXT_LOGIN_REFUSED, "auth_only_after_starttls")


def test_postfix_587_answers_a_wrong_password_with_535_and_it_is_smtp_auth_failed(postfix):
    result = _session(postfix, postfix.submission_port, "starttls", username=ALICE, password="Wrong-Postfix-pw")
    step = result.step(Step.SMTP_AUTH)
    assert (step.code, step.transient, step.details["reason"]) == (Code.SMTP_AUTH_FAILED, False, "bad_credentials")
    assert step.details["server_line"].startswith("535 5.7.8 Error: authentication failed:")
    assert "Wrong-Postfix-pw" not in json.dumps(result.to_dict())


def test_postfix_465_signs_bob_in_over_implicit_tls(postfix):
    result = _session(postfix, postfix.smtps_port, "ssl", username=BOB, password=postfix.users[BOB])
    assert _steps(result) == [("dns", "ok"), ("port", "ok"), ("tls", "ok"), ("greeting", "ok"), ("smtp_auth", "ok")]
    assert result.step(Step.TLS).details["certificate"]["days_left"] > 0


def test_postfix_465_answers_a_wrong_password_with_535_and_it_is_smtp_auth_failed(postfix):
    result = _session(postfix, postfix.smtps_port, "ssl", username=BOB, password="Wrong-Postfix-pw")
    step = result.step(Step.SMTP_AUTH)
    assert (step.code, step.details["reason"]) == (Code.SMTP_AUTH_FAILED, "bad_credentials")


def test_postfix_whose_auth_backend_is_down_is_a_transient_busy_server_not_a_wrong_password(postfix):
    postfix.take_auth_backend_down()
    result = _session(postfix, postfix.backend_down_port, "ssl", username=ALICE, password=postfix.users[ALICE])
    step = result.step(Step.SMTP_AUTH)
    assert step.details["server_line"].startswith("454 4.7.0 Temporary authentication failure")
    assert (step.code, step.transient, step.details["reason"]) == (Code.SERVER_BUSY, True, "temporary")


# --- account runs ------------------------------------------------------------------------------------------

def _run(account):
    run = DiagnosticRun.objects.create(organization=account.organization, account=account, kind=RunKind.ACCOUNT)
    walk.run_execute(run_id=run.pk)
    run.refresh_from_db()
    account.refresh_from_db()
    return run, {s.name: s for s in run.steps.all()}


@pytest.mark.django_db
@pytest.mark.usefixtures("loopback_diagnostics")
def test_an_account_sending_through_postfix_587_passes(user_s, make_account, postfix):
    account = make_account(user_s, smtp_port=postfix.submission_port, smtp_security="starttls",
                           smtp_password=postfix.users[ALICE])
    run, steps = _run(account)
    assert (run.status, run.outcome) == ("passed", "ok"), {n: (s.status, s.code) for n, s in steps.items()}
    assert account.status == "connected"


@pytest.mark.django_db
@pytest.mark.usefixtures("loopback_diagnostics")
def test_an_account_whose_postfix_lost_its_auth_backend_is_not_told_its_password_is_wrong(user_s, make_account,
                                                                                          postfix):
    postfix.take_auth_backend_down()
    account = make_account(user_s, smtp_port=postfix.backend_down_port, smtp_security="ssl",
                           smtp_password=postfix.users[ALICE])
    run, steps = _run(account)
    assert (steps["smtp_auth"].status, steps["smtp_auth"].code) == ("failed", "server_busy")
    assert steps["smtp_auth"].details["transient"] is True
    assert (run.status, run.outcome) == ("failed", "server_busy")
    assert account.status != "auth_failed"
