"""POP3 sessions against Dovecot on loopback, and scripted servers for RFC 2449/3206 answers."""

import json

import pytest

from diagnostics.probes import pop3
from diagnostics.results import Code, Step
from tests.diagnostics.probe_options import loopback_options
from tests.servers import scripted as s
from tests.servers.dovecot import ALICE, ALICE_INBOX_MESSAGES


def _session(port, security, *, ca_file, username=None, password=None, host="localhost"):
    return pop3.probe_session(host=host, port=port, security=security, username=username, password=password,
                              options=loopback_options(ca_file=ca_file))


def test_it_logs_in_and_counts_the_inbox_over_pop3s(dovecot):
    result = _session(dovecot.pop3s_port, "ssl", ca_file=dovecot.ca_file, username=ALICE,
                      password=dovecot.users[ALICE])
    assert [(str(st.step), str(st.code)) for st in result.steps] == [
        ("dns", "ok"), ("port", "ok"), ("tls", "ok"), ("greeting", "ok"), ("login", "ok"), ("folders", "ok")]
    inbox = result.step(Step.FOLDERS).details["inbox"]
    assert inbox["messages"] == ALICE_INBOX_MESSAGES and inbox["size"] > 0
    assert "PASS ***" in "\n".join(result.step(Step.LOGIN).transcript)


def test_it_upgrades_with_stls(dovecot):
    result = _session(dovecot.pop3_port, "starttls", ca_file=dovecot.ca_file, username=ALICE,
                      password=dovecot.users[ALICE])
    assert result.code == Code.OK
    assert "STLS" in result.step(Step.GREETING).details["capabilities"]
    assert result.step(Step.TLS).details["tls_version"].startswith("TLS")


def test_a_wrong_password_is_invalid_credentials(dovecot):
    result = _session(dovecot.pop3s_port, "ssl", ca_file=dovecot.ca_file, username=ALICE,
                      password="wrong-pop3-password")
    login = result.step(Step.LOGIN)
    assert (login.code, login.details["reason"]) == (Code.AUTH_INVALID_CREDENTIALS, "auth")
    assert "wrong-pop3-password" not in json.dumps(result.to_dict())


@pytest.mark.parametrize(
    ("reply", "code", "transient"),
    [
        (s.POP3_AUTH_FAILED, Code.AUTH_INVALID_CREDENTIALS, False),
        (s.POP3_SYS_TEMP, Code.SERVER_BUSY, True),
        (s.POP3_SYS_PERM, Code.SERVER_BUSY, False),
        (s.POP3_IN_USE, Code.SERVER_BUSY, True),
        (s.POP3_LOGIN_DELAY, Code.SERVER_BUSY, True),
    ],
)
def test_it_recognizes_pop3_response_codes(scripted_server, test_ca, reply, code, transient):
    server = scripted_server(s.pop3(pass_reply=reply))
    result = _session(server.port, "none", ca_file=test_ca.ca_pem, host="127.0.0.1", username="u@example.test",
                      password="pw-123456")
    login = result.step(Step.LOGIN)
    assert (login.code, login.transient) == (code, transient)
    assert login.details["server_line"] == reply


def test_a_connection_closed_at_pass_is_disconnected_during_auth(scripted_server, test_ca):
    server = scripted_server(s.drop_during_auth("pop3"))
    result = _session(server.port, "none", ca_file=test_ca.ca_pem, host="127.0.0.1", username="u@example.test",
                      password="pw-123456")
    assert result.step(Step.LOGIN).code == Code.DISCONNECTED_DURING_AUTH


def test_an_smtp_server_on_the_pop3_port_is_the_wrong_protocol(scripted_server, test_ca):
    server = scripted_server(s.wrong_protocol_smtp())
    result = _session(server.port, "none", ca_file=test_ca.ca_pem, host="127.0.0.1")
    assert result.step(Step.GREETING).code == Code.WRONG_PROTOCOL


def test_stls_missing_from_capa_is_starttls_unavailable(scripted_server, test_ca):
    server = scripted_server(s.pop3())
    result = _session(server.port, "starttls", ca_file=test_ca.ca_pem, host="127.0.0.1")
    assert result.step(Step.TLS).code == Code.STARTTLS_UNAVAILABLE
