"""SMTP sessions against aiosmtpd on loopback (STARTTLS and implicit TLS) and scripted provider answers."""

import json

import pytest

from diagnostics.probes import smtp
from diagnostics.results import Code, Step
from tests.diagnostics.probe_options import loopback_options
from tests.servers import scripted as s
from tests.servers.smtp import APP_PASSWORD_USER, SMTP_USER


def _session(port, security, *, ca_file, username=None, password=None, host="localhost"):
    return smtp.probe_session(host=host, port=port, security=security, username=username, password=password,
                              options=loopback_options(ca_file=ca_file))


def test_it_authenticates_after_starttls_without_sending_mail(smtp_starttls):
    before = len(smtp_starttls.messages)
    result = _session(smtp_starttls.port, "starttls", ca_file=smtp_starttls.ca_file, username=SMTP_USER,
                      password=smtp_starttls.users[SMTP_USER])
    assert [(str(st.step), str(st.code)) for st in result.steps] == [
        ("dns", "ok"), ("port", "ok"), ("greeting", "ok"), ("tls", "ok"), ("smtp_auth", "ok")]
    assert "STARTTLS" in result.step(Step.GREETING).details["extensions"]
    assert "AUTH" in result.step(Step.TLS).details["extensions"]
    assert len(smtp_starttls.messages) == before
    assert "AUTH PLAIN ***" in "\n".join(result.step(Step.SMTP_AUTH).transcript)


def test_it_authenticates_over_implicit_tls(smtp_implicit):
    result = _session(smtp_implicit.port, "ssl", ca_file=smtp_implicit.ca_file, username=SMTP_USER,
                      password=smtp_implicit.users[SMTP_USER])
    assert result.code == Code.OK
    assert result.step(Step.TLS).details["certificate"]["days_left"] > 0


def test_a_wrong_outgoing_password_is_smtp_auth_failed(smtp_implicit):
    result = _session(smtp_implicit.port, "ssl", ca_file=smtp_implicit.ca_file, username=SMTP_USER,
                      password="wrong-smtp-password")
    step = result.step(Step.SMTP_AUTH)
    assert (step.code, step.details["reason"]) == (Code.SMTP_AUTH_FAILED, "bad_credentials")
    assert step.details["server_line"].startswith("535 5.7.8")
    assert "wrong-smtp-password" not in json.dumps(result.to_dict())


def test_an_app_password_answer_is_recognized(smtp_starttls):
    result = _session(smtp_starttls.port, "starttls", ca_file=smtp_starttls.ca_file, username=APP_PASSWORD_USER,
                      password="normal-password")
    assert result.step(Step.SMTP_AUTH).code == Code.AUTH_APP_PASSWORD_REQUIRED


def test_auth_offered_only_after_starttls_is_a_plaintext_refusal(smtp_starttls):
    result = _session(smtp_starttls.port, "none", ca_file=smtp_starttls.ca_file, username=SMTP_USER,
                      password=smtp_starttls.users[SMTP_USER])
    assert result.step(Step.SMTP_AUTH).code == Code.PLAINTEXT_LOGIN_REFUSED


@pytest.mark.parametrize(
    ("variant", "code"),
    [("basic_auth_disabled", Code.AUTH_BASIC_AUTH_DISABLED), ("auth_unsuccessful", Code.SMTP_AUTH_FAILED)],
)
def test_it_recognizes_microsoft_365_answers(scripted_server, test_ca, variant, code):
    server = scripted_server(s.smtp_microsoft365(variant), tls="starttls")
    result = _session(server.port, "starttls", ca_file=test_ca.ca_pem, username="u@contoso.test",
                      password="pw-123456")
    assert result.step(Step.SMTP_AUTH).code == code


def test_a_connection_closed_during_auth_is_disconnected_during_auth(scripted_server, test_ca):
    server = scripted_server(s.drop_during_auth("smtp"))
    result = _session(server.port, "none", ca_file=test_ca.ca_pem, host="127.0.0.1", username="u@example.test",
                      password="pw-123456")
    assert result.step(Step.SMTP_AUTH).code == Code.DISCONNECTED_DURING_AUTH


def test_an_imap_server_on_the_smtp_port_is_the_wrong_protocol(dovecot):
    result = _session(dovecot.imap_port, "none", ca_file=dovecot.ca_file)
    greeting = result.step(Step.GREETING)
    assert (greeting.code, greeting.details["reason"]) == (Code.WRONG_PROTOCOL, "speaks_imap")


def test_the_ehlo_name_is_an_address_literal_by_default(scripted_server, test_ca):
    server = scripted_server(s.smtp())
    _session(server.port, "none", ca_file=test_ca.ca_pem, host="127.0.0.1")
    assert "EHLO [127.0.0.1]" in server.received


def test_a_server_offering_only_oauth_gets_no_password(scripted_server, test_ca):
    server = scripted_server(s.smtp(auth_mechanisms="XOAUTH2 OAUTHBEARER", auth_reply=s.SMTP_AUTH_OK))
    result = _session(server.port, "none", ca_file=test_ca.ca_pem, host="127.0.0.1", username="u@contoso.test",
                      password="pw-123456")
    step = result.step(Step.SMTP_AUTH)
    assert (step.code, step.details["reason"]) == (Code.AUTH_BASIC_AUTH_DISABLED, "oauth_only")
    assert step.details["mechanisms"] == ["OAUTHBEARER", "XOAUTH2"]
    assert not any(line.upper().startswith("AUTH") for line in server.received)


def test_oauth_only_before_starttls_sends_no_password_in_clear(scripted_server, test_ca):
    server = scripted_server(s.smtp(auth_mechanisms="XOAUTH2", auth_on_plaintext=True), tls="starttls")
    result = _session(server.port, "none", ca_file=test_ca.ca_pem, host="127.0.0.1", username="u@contoso.test",
                      password="pw-123456")
    assert result.step(Step.SMTP_AUTH).code == Code.PLAINTEXT_LOGIN_REFUSED
    assert not any(line.upper().startswith("AUTH") for line in server.received)
