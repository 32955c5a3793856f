"""IMAP sessions against real Dovecot and pymap on loopback, and scripted servers for provider answers."""

import json

import pytest

from diagnostics.probes import imap
from diagnostics.probes.imap import decode_mutf7, tokenize
from diagnostics.results import Code, Step
from tests.diagnostics.probe_options import loopback_options
from tests.servers import scripted as s
from tests.servers.dovecot import ALICE, ALICE_INBOX_MESSAGES, ALICE_SENT_MESSAGES, BOB


def _session(server_host, port, security, *, ca_file, username=None, password=None, **kwargs):
    return imap.probe_session(
        host=server_host, port=port, security=security, username=username, password=password,
        options=loopback_options(ca_file=ca_file, **kwargs),
    )


def _steps(result):
    return [(str(step.step), str(step.code)) for step in result.steps]


def test_it_walks_every_step_on_dovecot_with_implicit_tls(dovecot):
    result = _session("localhost", dovecot.imaps_port, "ssl", ca_file=dovecot.ca_file,
                      username=ALICE, password=dovecot.users[ALICE])
    assert _steps(result) == [("dns", "ok"), ("port", "ok"), ("tls", "ok"), ("greeting", "ok"), ("login", "ok"),
                              ("folders", "ok")]
    tls_step = result.step(Step.TLS)
    assert tls_step.details["certificate"]["days_left"] > 0
    assert "localhost" in tls_step.details["certificate"]["names"]
    assert "IMAP4REV1" in result.step(Step.GREETING).details["capabilities"]
    folders = result.step(Step.FOLDERS).details
    assert folders["inbox"] == {"name": "INBOX", "messages": ALICE_INBOX_MESSAGES}
    assert folders["sent"] == {"name": "Sent", "messages": ALICE_SENT_MESSAGES, "found_by": "special_use"}


def test_it_upgrades_with_starttls_and_asks_capabilities_again(dovecot):
    result = _session("127.0.0.1", dovecot.imap_port, "starttls", ca_file=dovecot.ca_file,
                      username=ALICE, password=dovecot.users[ALICE])
    assert _steps(result) == [("dns", "ok"), ("port", "ok"), ("greeting", "ok"), ("tls", "ok"), ("login", "ok"),
                              ("folders", "ok")]
    assert "STARTTLS" in result.step(Step.GREETING).details["capabilities"]
    assert "STARTTLS" not in result.step(Step.TLS).details["capabilities"]


def test_a_mailbox_without_sent_is_folder_missing(dovecot):
    result = _session("localhost", dovecot.imaps_port, "ssl", ca_file=dovecot.ca_file,
                      username=BOB, password=dovecot.users[BOB])
    folders = result.step(Step.FOLDERS)
    assert folders.code == Code.FOLDER_MISSING
    assert folders.details["missing"] == ["sent"]
    assert folders.details["inbox"]["messages"] == 0
    assert result.code == Code.FOLDER_MISSING


def test_a_wrong_password_is_invalid_credentials_and_never_recorded(dovecot):
    password = "not-the-password-1234"
    result = _session("localhost", dovecot.imaps_port, "ssl", ca_file=dovecot.ca_file,
                      username=ALICE, password=password)
    login = result.step(Step.LOGIN)
    assert (login.code, login.transient) == (Code.AUTH_INVALID_CREDENTIALS, False)
    assert login.details["server_line"].endswith("NO [AUTHENTICATIONFAILED] Authentication failed.")
    assert f'LOGIN "{ALICE}" ***' in "\n".join(login.transcript)
    assert password not in json.dumps(result.to_dict())
    assert result.step(Step.FOLDERS) is None


def test_without_credentials_it_stops_after_the_greeting(dovecot):
    result = _session("localhost", dovecot.imaps_port, "ssl", ca_file=dovecot.ca_file)
    assert [str(s.step) for s in result.steps] == ["dns", "port", "tls", "greeting"]
    assert result.code == Code.OK


def test_it_reports_a_plain_session_without_a_tls_step(dovecot):
    result = _session("localhost", dovecot.imap_port, "none", ca_file=dovecot.ca_file,
                      username=ALICE, password=dovecot.users[ALICE])
    assert [str(s.step) for s in result.steps] == ["dns", "port", "greeting", "login", "folders"]
    assert result.code == Code.OK


def test_pymap_needs_starttls_and_authenticates_after_it(pymap_imap):
    (user, password), = pymap_imap.users.items()
    result = _session("localhost", pymap_imap.port, "starttls", ca_file=pymap_imap.ca_file,
                      username=user, password=password)
    assert result.code == Code.OK, result.to_dict()
    assert result.step(Step.FOLDERS).details["sent"]["name"] == "Sent"


def test_pymap_without_tls_refuses_the_plaintext_login(pymap_imap):
    (user, password), = pymap_imap.users.items()
    result = _session("localhost", pymap_imap.port, "none", ca_file=pymap_imap.ca_file,
                      username=user, password=password)
    assert result.step(Step.LOGIN).code == Code.PLAINTEXT_LOGIN_REFUSED


def test_a_greeting_limit_shorter_than_the_wait_before_trying_tls_still_ends_as_a_timeout(dovecot):
    # implicit_tls_expected (tests/diagnostics/test_wrong_security.py) needs the short wait to pass first.
    result = _session("localhost", dovecot.imaps_port, "starttls", ca_file=dovecot.ca_file, step_timeout=1.0,
                      implicit_tls_after=2.0)
    greeting = result.step(Step.GREETING)
    assert (greeting.code, greeting.transient) == (Code.TIMEOUT, True)


def test_implicit_tls_on_a_plain_port_fails_the_handshake(dovecot):
    result = _session("localhost", dovecot.imap_port, "ssl", ca_file=dovecot.ca_file)
    tls_step = result.step(Step.TLS)
    assert tls_step.code == Code.TLS_HANDSHAKE_FAILED
    assert tls_step.details["reason"] == "server_not_tls"


@pytest.mark.parametrize(
    ("variant", "code"),
    [
        ("app_password", Code.AUTH_APP_PASSWORD_REQUIRED),
        ("web_login", Code.AUTH_WEB_LOGIN_REQUIRED),
        ("invalid_credentials", Code.AUTH_INVALID_CREDENTIALS),
    ],
)
def test_it_recognizes_gmail_answers(scripted_server, test_ca, variant, code):
    server = scripted_server(s.imap_gmail(variant), tls="implicit")
    result = _session("localhost", server.port, "ssl", ca_file=test_ca.ca_pem,
                      username="someone@gmail.com", password="hunter2-secret")
    login = result.step(Step.LOGIN)
    assert login.code == code
    assert login.details["server_line"].startswith("a")
    assert "hunter2-secret" not in json.dumps(result.to_dict())


def test_it_recognizes_exchange_login_failed(scripted_server, test_ca):
    server = scripted_server(s.imap_exchange())
    result = _session("127.0.0.1", server.port, "none", ca_file=test_ca.ca_pem, username="u@contoso.test",
                      password="pw-123456")
    login = result.step(Step.LOGIN)
    assert (login.code, login.details["reason"]) == (Code.AUTH_INVALID_CREDENTIALS, "login_failed")
    assert login.details["server_line"].endswith("NO LOGIN failed.")


@pytest.mark.parametrize(
    ("rfc5530", "code", "transient"),
    [
        ("AUTHENTICATIONFAILED", Code.AUTH_INVALID_CREDENTIALS, False),
        ("AUTHORIZATIONFAILED", Code.AUTH_INVALID_CREDENTIALS, False),
        ("EXPIRED", Code.AUTH_INVALID_CREDENTIALS, False),
        ("PRIVACYREQUIRED", Code.PLAINTEXT_LOGIN_REFUSED, False),
        ("CONTACTADMIN", Code.AUTH_INVALID_CREDENTIALS, False),
        ("UNAVAILABLE", Code.SERVER_BUSY, True),
        ("INUSE", Code.SERVER_BUSY, True),
    ],
)
def test_it_recognizes_rfc5530_codes(scripted_server, test_ca, rfc5530, code, transient):
    server = scripted_server(s.imap_login_code(rfc5530))
    result = _session("127.0.0.1", server.port, "none", ca_file=test_ca.ca_pem, username="u@example.test",
                      password="pw-123456")
    login = result.step(Step.LOGIN)
    assert (login.code, login.transient) == (code, transient)


def test_a_connection_closed_during_login_is_disconnected_during_auth(scripted_server, test_ca):
    server = scripted_server(s.drop_during_auth("imap"))
    result = _session("127.0.0.1", server.port, "none", ca_file=test_ca.ca_pem, username="u@example.test",
                      password="pw-123456")
    assert result.step(Step.LOGIN).code == Code.DISCONNECTED_DURING_AUTH
    assert result.code == Code.DISCONNECTED_DURING_AUTH


def test_an_smtp_server_on_the_imap_port_is_the_wrong_protocol(scripted_server, test_ca):
    server = scripted_server(s.wrong_protocol_smtp())
    result = _session("127.0.0.1", server.port, "none", ca_file=test_ca.ca_pem)
    greeting = result.step(Step.GREETING)
    assert (greeting.code, greeting.details["reason"]) == (Code.WRONG_PROTOCOL, "speaks_smtp")
    assert greeting.details["server_line"].startswith("220 ")


def test_a_server_that_closes_at_once_is_busy(scripted_server, test_ca):
    server = scripted_server(s.close_at_once())
    result = _session("127.0.0.1", server.port, "none", ca_file=test_ca.ca_pem)
    greeting = result.step(Step.GREETING)
    assert (greeting.code, greeting.transient, greeting.details["reason"]) == (
        Code.SERVER_BUSY, True, "closed_before_greeting")


def test_a_password_with_quotes_is_sent_as_an_escaped_quoted_string(scripted_server, test_ca):
    server = scripted_server(s.imap())
    password = 'pa"ss\\word'
    result = _session("127.0.0.1", server.port, "none", ca_file=test_ca.ca_pem, username="u@example.test",
                      password=password)
    assert result.step(Step.LOGIN).code == Code.OK
    assert 'a2 LOGIN "u@example.test" "pa\\"ss\\\\word"' in server.received
    assert password not in json.dumps(result.to_dict())


def test_an_8bit_password_is_sent_as_a_literal(scripted_server, test_ca):
    server = scripted_server(s.imap())
    password = "pässwörd"
    result = _session("127.0.0.1", server.port, "none", ca_file=test_ca.ca_pem, username="u@example.test",
                      password=password)
    assert result.step(Step.LOGIN).code == Code.OK
    assert f'a2 LOGIN "u@example.test" {{{len(password.encode())}}}' in server.received
    assert password not in json.dumps(result.to_dict())
    # The literal's length would tell the password's length: the transcript hides it too.
    assert result.step(Step.LOGIN).transcript[:3] == ['C: a2 LOGIN "u@example.test" ***', "S: + Ready for literal data",
                                                      "C: ***"]


def test_it_decodes_modified_utf7_folder_names():
    assert decode_mutf7("&kAFP4W4IMH8-") == "送信済み"
    assert decode_mutf7("Sent &- Received") == "Sent & Received"
    assert decode_mutf7("INBOX") == "INBOX"


def test_it_tokenizes_list_responses():
    assert tokenize('* LIST (\\HasNoChildren \\Sent) "/" "Sent Items"') == [
        "*", "LIST", ["\\HasNoChildren", "\\Sent"], "/", "Sent Items"]
    assert tokenize('* LIST (\\Noselect) NIL ""') == ["*", "LIST", ["\\Noselect"], None, ""]


def test_each_step_is_reported_as_it_finishes(dovecot):
    seen = []
    result = imap.probe_session(host="localhost", port=dovecot.imaps_port, security="ssl", username=ALICE,
                                password=dovecot.users[ALICE], options=loopback_options(ca_file=dovecot.ca_file),
                                on_step=lambda step: seen.append(str(step.step)))
    assert seen == [str(step.step) for step in result.steps] == ["dns", "port", "tls", "greeting", "login", "folders"]


def test_a_server_line_that_echoes_the_password_is_masked(scripted_server, test_ca):
    password = "hunter2-echoed"
    server = scripted_server(s.imap(login_reply=f"NO [AUTHENTICATIONFAILED] wrong password {password}"))
    result = _session("127.0.0.1", server.port, "none", ca_file=test_ca.ca_pem, username="u@example.test",
                      password=password)
    login = result.step(Step.LOGIN)
    assert login.details["server_line"] == "a2 NO [AUTHENTICATIONFAILED] wrong password ***"
    assert password not in json.dumps(result.to_dict())


def test_a_preauthenticated_connection_skips_login(scripted_server, test_ca):
    server = scripted_server(s.imap(greeting="* PREAUTH [CAPABILITY IMAP4rev1] Logged in as u"))
    result = _session("127.0.0.1", server.port, "none", ca_file=test_ca.ca_pem, username="u@example.test",
                      password="pw-123456")
    assert result.step(Step.LOGIN).details["method"] == "PREAUTH"
    assert not any(" LOGIN " in line for line in server.received)


OAUTH_ONLY_CAPABILITIES = "IMAP4rev1 AUTH=XOAUTH2 AUTH=OAUTHBEARER LOGINDISABLED"


@pytest.mark.parametrize(("tls", "security"), [(None, "none"), ("implicit", "ssl"), ("starttls", "starttls")])
def test_a_server_offering_only_oauth_gets_no_password(scripted_server, test_ca, tls, security):
    server = scripted_server(s.imap(capabilities=OAUTH_ONLY_CAPABILITIES), tls=tls)
    result = _session("localhost", server.port, security, ca_file=test_ca.ca_pem, username="u@contoso.test",
                      password="pw-123456")
    login = result.step(Step.LOGIN)
    assert (login.code, login.details["reason"]) == (Code.AUTH_BASIC_AUTH_DISABLED, "oauth_only")
    assert login.details["mechanisms"] == ["OAUTHBEARER", "XOAUTH2"]
    assert not any(" LOGIN " in line or " AUTHENTICATE " in line for line in server.received)


def test_oauth_only_before_starttls_is_a_plaintext_refusal(scripted_server, test_ca):
    # STARTTLS is on offer: after it the server may allow passwords, so the advice is to turn encryption on.
    server = scripted_server(s.imap(capabilities=OAUTH_ONLY_CAPABILITIES), tls="starttls")
    result = _session("localhost", server.port, "none", ca_file=test_ca.ca_pem, username="u@contoso.test",
                      password="pw-123456")
    assert result.step(Step.LOGIN).code == Code.PLAINTEXT_LOGIN_REFUSED
