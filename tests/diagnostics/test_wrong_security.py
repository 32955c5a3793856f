"""The wrong security on a port, found in seconds: STARTTLS or no encryption against a port that speaks TLS from the
first byte (implicit_tls_expected), and SSL/TLS against a port that greets in plain text, against real servers
(Dovecot, aiosmtpd, Postfix) and scripted ones, with the facts and the fix as data."""

import json
import time

import pytest

from diagnostics import walk
from diagnostics.advice import advice_for
from diagnostics.models import DiagnosticRun, RunKind
from diagnostics.probes import imap, pop3, smtp
from diagnostics.probes.wrong_security import security_fix
from diagnostics.results import Code, Step
from tests.diagnostics.probe_options import loopback_options
from tests.servers import scripted as s
from tests.servers.dovecot import ALICE

FIX_SSL_IN = {"incoming_security": "ssl"}
FIX_SSL_OUT = {"smtp_security": "ssl"}


def _timed(module, port, security, *, ca_file, host="localhost", **options):
    started = time.monotonic()
    result = module.probe_session(host=host, port=port, security=security,
                                  options=loopback_options(ca_file=ca_file, **options))
    return result, time.monotonic() - started


def _assert_implicit_tls_expected(result, elapsed, *, configured, fix, greeting_start):
    greeting = result.step(Step.GREETING)
    assert (greeting.code, greeting.transient) == (Code.IMPLICIT_TLS_EXPECTED, False), greeting.details
    assert result.failed is greeting and result.step(Step.TLS) is None
    details = greeting.details
    assert (details["configured_security"], details["seen"], details["fix"]) == (configured, "silent_until_tls", fix)
    assert details["host"] == "localhost" and details["port"] == result.port
    assert details["tls_version"].startswith("TLS")
    assert details["greeting_over_tls"].startswith(greeting_start)
    assert any("TLS handshake succeeded" in line for line in greeting.transcript)
    assert elapsed < 10


# --- implicit TLS where STARTTLS or nothing was configured ---------------------------------------------------

@pytest.mark.parametrize("security", ["starttls", "none"])
def test_starttls_or_nothing_against_dovecot_imaps_is_implicit_tls_expected_in_seconds(dovecot, security):
    result, elapsed = _timed(imap, dovecot.imaps_port, security, ca_file=dovecot.ca_file)
    _assert_implicit_tls_expected(result, elapsed, configured=security, fix=FIX_SSL_IN, greeting_start="* OK ")


def test_starttls_against_dovecot_pop3s_is_implicit_tls_expected(dovecot):
    result, elapsed = _timed(pop3, dovecot.pop3s_port, "starttls", ca_file=dovecot.ca_file)
    _assert_implicit_tls_expected(result, elapsed, configured="starttls", fix=FIX_SSL_IN, greeting_start="+OK ")


def test_starttls_against_aiosmtpd_on_its_implicit_tls_port_is_implicit_tls_expected(smtp_implicit):
    result, elapsed = _timed(smtp, smtp_implicit.port, "starttls", ca_file=smtp_implicit.ca_file)
    _assert_implicit_tls_expected(result, elapsed, configured="starttls", fix=FIX_SSL_OUT, greeting_start="220 ")


@pytest.mark.parametrize("security", ["starttls", "none"])
def test_starttls_or_nothing_against_postfix_465_is_implicit_tls_expected(postfix, security):
    result, elapsed = _timed(smtp, postfix.smtps_port, security, ca_file=postfix.ca_file)
    _assert_implicit_tls_expected(result, elapsed, configured=security, fix=FIX_SSL_OUT,
                                  greeting_start="220 postfix.example.test ESMTP Postfix")


def test_a_scripted_implicit_tls_server_is_found_after_the_short_wait_not_the_step_limit(scripted_server, test_ca):
    server = scripted_server(s.imap(), tls="implicit")
    result, elapsed = _timed(imap, server.port, "starttls", ca_file=test_ca.ca_pem, step_timeout=30.0,
                             implicit_tls_after=0.5)
    _assert_implicit_tls_expected(result, elapsed, configured="starttls", fix=FIX_SSL_IN,
                                  greeting_start=s.IMAP_GREETING)
    assert elapsed < 5  # the 30 s greeting limit was never waited for
    assert server.accepted == 2  # the silent connection and the one that tried TLS


def test_tls_first_and_then_another_protocol_is_the_wrong_protocol_not_a_security_fix(scripted_server, test_ca):
    server = scripted_server(s.smtp(), tls="implicit")
    result, _elapsed = _timed(imap, server.port, "starttls", ca_file=test_ca.ca_pem)
    greeting = result.step(Step.GREETING)
    assert (greeting.code, greeting.details["reason"]) == (Code.WRONG_PROTOCOL, "speaks_smtp")
    assert greeting.details["greeting_over_tls"] == s.SMTP_GREETING
    assert "fix" not in greeting.details


def test_a_server_silent_both_ways_still_ends_as_a_timeout(scripted_server, test_ca):
    server = scripted_server(s.silent())
    result, elapsed = _timed(imap, server.port, "starttls", ca_file=test_ca.ca_pem, host="127.0.0.1",
                             step_timeout=4.0, connect_timeout=1.0, implicit_tls_after=0.5)
    greeting = result.step(Step.GREETING)
    assert (greeting.code, greeting.transient, greeting.details["reason"]) == (Code.TIMEOUT, True, "deadline")
    assert "fix" not in greeting.details
    assert greeting.transcript == ["-- no greeting within 0.5 s: trying TLS on a new connection",
                                   "-- no TLS handshake either: still waiting for a greeting"]
    assert 4.0 <= elapsed < 6.0


def test_the_try_at_tls_ends_with_the_greetings_own_limit(scripted_server, test_ca):
    server = scripted_server(s.silent())  # answers no handshake either: the try would take connect_timeout
    result, elapsed = _timed(imap, server.port, "none", ca_file=test_ca.ca_pem, host="127.0.0.1",
                             step_timeout=2.0, connect_timeout=10.0, implicit_tls_after=0.5)
    assert result.step(Step.GREETING).code == Code.TIMEOUT
    assert 2.0 <= elapsed < 3.5


def test_a_server_slow_to_greet_in_plain_text_is_still_read_and_passes(scripted_server, test_ca):
    server = scripted_server(s.greet_late(s.imap(), delay=1.5))
    result, elapsed = _timed(imap, server.port, "none", ca_file=test_ca.ca_pem, host="127.0.0.1",
                             implicit_tls_after=0.5)
    greeting = result.step(Step.GREETING)
    assert greeting.code == Code.OK, greeting.details
    assert greeting.details["server_line"] == s.IMAP_GREETING
    assert "-- no TLS handshake either: still waiting for a greeting" in greeting.transcript
    assert elapsed < 5


# --- plain text where SSL/TLS was configured -----------------------------------------------------------------

@pytest.mark.parametrize(("module", "port_name", "greeting_start"),
                         [(imap, "imap_port", "* OK "), (pop3, "pop3_port", "+OK ")])
def test_ssl_against_a_dovecot_plain_port_says_it_greets_in_plain_text_and_offers_starttls(
        dovecot, module, port_name, greeting_start):
    result, elapsed = _timed(module, getattr(dovecot, port_name), "ssl", ca_file=dovecot.ca_file)
    tls_step = result.step(Step.TLS)
    assert (tls_step.code, tls_step.details["reason"]) == (Code.TLS_HANDSHAKE_FAILED, "server_not_tls")
    details = tls_step.details
    assert (details["configured_security"], details["seen"], details["starttls"]) == (
        "ssl", "plain_text_greeting", "ok")
    assert details["plain_greeting"].startswith(greeting_start)
    assert details["fix"] == {"incoming_security": "starttls"}
    assert elapsed < 10


def test_ssl_against_postfix_587_offers_starttls_as_the_fix(postfix):
    result, _elapsed = _timed(smtp, postfix.submission_port, "ssl", ca_file=postfix.ca_file)
    details = result.step(Step.TLS).details
    assert details["plain_greeting"].startswith("220 postfix.example.test ESMTP Postfix")
    assert details["fix"] == {"smtp_security": "starttls"}


def test_ssl_against_a_plain_port_whose_greeting_carries_an_alert_still_offers_starttls(scripted_server, test_ca):
    server = scripted_server(s.imap(greeting="* OK [ALERT] Maintenance tonight"), tls="starttls")
    result, _elapsed = _timed(imap, server.port, "ssl", ca_file=test_ca.ca_pem)
    details = result.step(Step.TLS).details
    assert (details["starttls"], details["fix"]) == ("ok", {"incoming_security": "starttls"})


def test_ssl_against_a_plain_port_without_starttls_offers_no_fix(scripted_server, test_ca):
    server = scripted_server(s.smtp())  # plain text only: no STARTTLS to switch to
    result, _elapsed = _timed(smtp, server.port, "ssl", ca_file=test_ca.ca_pem, host="127.0.0.1")
    details = result.step(Step.TLS).details
    assert (details["reason"], details["starttls"]) == ("server_not_tls", "starttls_unavailable")
    assert details["plain_greeting"] == s.SMTP_GREETING
    assert "fix" not in details


def test_ssl_against_a_port_of_another_protocol_is_the_wrong_protocol(dovecot):
    result, _elapsed = _timed(smtp, dovecot.imap_port, "ssl", ca_file=dovecot.ca_file)
    tls_step = result.step(Step.TLS)
    assert (tls_step.code, tls_step.details["reason"]) == (Code.WRONG_PROTOCOL, "speaks_imap")
    assert "fix" not in tls_step.details


# --- the data and the advice ---------------------------------------------------------------------------------

def test_a_fix_is_a_plain_dict_of_account_field_and_model_value():
    assert security_fix("imap", "ssl") == {"incoming_security": "ssl"}
    assert security_fix("pop3", "starttls") == {"incoming_security": "starttls"}
    assert security_fix("smtp", "ssl") == {"smtp_security": "ssl"}
    assert json.loads(json.dumps(security_fix("smtp", "none"))) == {"smtp_security": "none"}


def test_implicit_tls_expected_is_a_t1_settings_error():
    advice = advice_for(Code.IMPLICIT_TLS_EXPECTED)
    assert advice.scenario == "T1"
    assert "SSL/TLS" in str(advice.title)


# --- whole account runs --------------------------------------------------------------------------------------

@pytest.mark.django_db
@pytest.mark.usefixtures("loopback_diagnostics")
def test_an_account_with_starttls_on_both_implicit_ports_ends_in_seconds_with_both_fixes(user_s, make_account,
                                                                                       dovecot, postfix):
    account = make_account(user_s, incoming_port=dovecot.imaps_port, incoming_security="starttls",
                           smtp_port=postfix.smtps_port, smtp_security="starttls",
                           smtp_password=postfix.users[ALICE])
    run = DiagnosticRun.objects.create(organization=account.organization, account=account, kind=RunKind.ACCOUNT)
    started = time.monotonic()
    walk.run_execute(run_id=run.pk)
    elapsed = time.monotonic() - started
    run.refresh_from_db()
    account.refresh_from_db()
    steps = {step.name: step for step in run.steps.all()}
    assert (run.status, run.outcome) == ("failed", "implicit_tls_expected")
    assert (steps["greeting"].status, steps["greeting"].code) == ("failed", "implicit_tls_expected")
    assert steps["greeting"].details["incoming"]["fix"] == FIX_SSL_IN
    assert steps["greeting"].details["outgoing"]["fix"] == FIX_SSL_OUT
    assert steps["login"].status == steps["smtp_auth"].status == "skipped"
    assert (account.status, account.last_error_code) == ("connection_failed", "implicit_tls_expected")
    assert elapsed < 10
