"""A valid certificate that expires soon: a warning (tls_certificate_expiring) with the date and days left, from the
tls step of every protocol, through a real worker, and from the periodic re-check before the certificate breaks."""
import time

import pytest
from django.utils import translation

from diagnostics import judge
from diagnostics.classify import classify_certificate_expiry
from diagnostics.models import DiagnosticRun, RunTrigger
from diagnostics.probes import imap, pop3, smtp
from diagnostics.results import Code, Step
from diagnostics.services import accounts_recheck_due
from tests.diagnostics.probe_options import loopback_options
from tests.servers import scripted as s
from tests.servers.certs import EXPIRING_IN_DAYS


@pytest.mark.parametrize(("days_left", "code"), [
    (None, Code.OK), (-1, Code.OK), (0, Code.TLS_CERTIFICATE_EXPIRING), (14, Code.TLS_CERTIFICATE_EXPIRING),
    (15, Code.OK), (400, Code.OK),
])
def test_it_warns_only_within_the_configured_days(days_left, code):
    # An expired certificate never verifies: it is tls_certificate_invalid, not a warning.
    assert classify_certificate_expiry(days_left, warning_days=14).code == code


@pytest.mark.parametrize(("module", "behaviour"), [(imap, s.imap), (pop3, s.pop3), (smtp, s.smtp)])
def test_the_tls_step_of_each_protocol_warns_and_the_session_goes_on(scripted_server, test_ca, module, behaviour):
    server = scripted_server(behaviour(), tls="implicit", cert="expiring")
    result = module.probe_session(host="localhost", port=server.port, security="ssl",
                                  options=loopback_options(ca_file=test_ca.ca_pem))
    tls_step = result.step(Step.TLS)
    assert tls_step.code == Code.TLS_CERTIFICATE_EXPIRING and tls_step.is_warning
    assert tls_step.details["expiring"]["days_left"] == EXPIRING_IN_DAYS
    certificate = tls_step.details["certificate"]
    assert "mailbind test CA" in certificate["issuer"] and certificate["subject"] is not None
    assert tls_step.details["expiring"]["not_after"] == certificate["not_after"]
    assert result.step(Step.GREETING).code == Code.OK  # a warning does not stop the session
    assert result.failed is None


def test_the_threshold_is_a_setting(scripted_server, test_ca):
    server = scripted_server(s.imap(), tls="implicit", cert="expiring")
    result = imap.probe_session(host="localhost", port=server.port, security="ssl",
                                options=loopback_options(ca_file=test_ca.ca_pem, cert_expiry_warning_days=3))
    assert result.step(Step.TLS).code == Code.OK


def test_the_step_message_names_the_host_the_date_and_the_days_left_in_english_and_japanese():
    details = {"incoming": {"host": "imap.example.test", "expiring": {"not_after": "2030-01-05T00:00:00+00:00",
                                                                      "days_left": 5}},
               "outgoing": {"host": "smtp.example.test"}}
    with translation.override("en"):
        message = str(judge.step_message(name="tls", status="warning", code="tls_certificate_expiring",
                                         details=details))
    assert message == "The certificate of imap.example.test expires on 2030-01-05 (5 days left)."
    with translation.override("ja"):
        japanese = str(judge.step_message(name="tls", status="warning", code="tls_certificate_expiring",
                                          details=details))
    assert "imap.example.test" in japanese and "2030-01-05" in japanese and "5" in japanese and japanese != message


def _wait_finished(run_id):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        run = DiagnosticRun.objects.get(pk=run_id)
        if run.is_finished:
            return run
        time.sleep(0.1)
    raise AssertionError("the worker did not finish the run")


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("loopback_diagnostics")
def test_the_periodic_recheck_finds_a_certificate_about_to_expire(celery_worker, user_s, make_account,
                                                                   scripted_server, api_as):
    # Incoming: Dovecot (all fine). Outgoing: a submission server whose certificate expires in a few days.
    server = scripted_server(s.smtp(auth_reply="235 2.7.0 Authentication successful"), tls="implicit",
                             cert="expiring")
    account = make_account(user_s, smtp_port=server.port, smtp_security="ssl")
    assert accounts_recheck_due() == 1
    run = _wait_finished(DiagnosticRun.objects.get(account=account).pk)
    assert run.trigger == RunTrigger.SCHEDULE
    assert (run.status, run.outcome) == ("warning", "tls_certificate_expiring")
    tls_row = run.steps.get(name="tls")
    assert tls_row.status == "warning"
    assert tls_row.details["outgoing"]["expiring"]["days_left"] == EXPIRING_IN_DAYS
    assert "expiring" not in tls_row.details["incoming"]
    assert f"({EXPIRING_IN_DAYS} days left)" in tls_row.message
    account.refresh_from_db()
    assert account.status == "connected"  # it still works today
    body = api_as(user_s).get(f"/api/v1/diagnostics/{run.pk}/").json()
    assert [a["code"] for a in body["advice"]] == ["tls_certificate_expiring"]
    assert body["advice"][0]["scenario"] == "T1"
