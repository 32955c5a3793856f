"""Self-tests of the test-server harness: each server answers as tests/servers/README.md promises."""

from __future__ import annotations

import base64
import imaplib
import poplib
import smtplib
import socket
import ssl
import time

import pytest

from tests.servers import scripted as s
from tests.servers.dovecot import ALICE, ALICE_INBOX_MESSAGES, BOB, UNAVAILABLE_DOMAIN
from tests.servers.ports import ServerUnavailable
from tests.servers.postfix import BACKEND_DOWN_REPLY, WRONG_PASSWORD_REPLY, instance_pids, running_postfix
from tests.servers.smtp import APP_PASSWORD_USER, SMTP_USER


def _imaps(port: int, test_ca) -> imaplib.IMAP4_SSL:
    return imaplib.IMAP4_SSL("localhost", port, ssl_context=test_ca.client_context(), timeout=5)


# --- Dovecot ------------------------------------------------------------------------------------------
def test_dovecot_logs_alice_in_over_imaps_and_lists_sent_with_special_use(dovecot, test_ca):
    client = _imaps(dovecot.imaps_port, test_ca)
    client.login(ALICE, dovecot.users[ALICE])
    _, mailboxes = client.list()
    _, count = client.select("INBOX", readonly=True)
    client.logout()
    assert any(b"\\Sent" in line and line.endswith(b" Sent") for line in mailboxes)
    assert int(count[0]) == ALICE_INBOX_MESSAGES


def test_dovecot_gives_bob_an_inbox_and_no_sent_folder(dovecot, test_ca):
    client = _imaps(dovecot.imaps_port, test_ca)
    client.login(BOB, dovecot.users[BOB])
    _, mailboxes = client.list()
    client.logout()
    assert [line.rsplit(b" ", 1)[-1] for line in mailboxes] == [b"INBOX"]


def test_dovecot_refuses_a_wrong_password_after_starttls(dovecot, test_ca):
    client = imaplib.IMAP4(dovecot.host, dovecot.imap_port, timeout=5)
    assert "STARTTLS" in client.capabilities
    client.starttls(ssl_context=test_ca.client_context())
    with pytest.raises(imaplib.IMAP4.error, match=r"AUTHENTICATIONFAILED"):
        client.login(ALICE, "not-the-password")
    client.logout()


def test_dovecot_logs_alice_in_over_pop3s_and_counts_her_messages(dovecot, test_ca):
    client = poplib.POP3_SSL("localhost", dovecot.pop3s_port, context=test_ca.client_context(), timeout=5)
    client.user(ALICE)
    client.pass_(dovecot.users[ALICE])
    count, _size = client.stat()
    client.quit()
    assert count == ALICE_INBOX_MESSAGES


def test_dovecot_pop3_offers_stls_and_answers_a_bad_password_with_the_auth_code(dovecot, test_ca):
    client = poplib.POP3(dovecot.host, dovecot.pop3_port, timeout=5)
    assert "STLS" in client.capa()
    client.stls(context=test_ca.client_context())
    client.user(BOB)
    with pytest.raises(poplib.error_proto, match=r"\[AUTH\]"):
        client.pass_("not-the-password")
    client.quit()


def test_dovecot_answers_a_user_whose_password_database_is_down_with_unavailable(dovecot, test_ca):
    client = _imaps(dovecot.imaps_port, test_ca)
    with pytest.raises(imaplib.IMAP4.error, match=r"\[UNAVAILABLE\] Temporary authentication failure"):
        client.login(f"dave@{UNAVAILABLE_DOMAIN}", "any-password")
    client.logout()


# --- Postfix ------------------------------------------------------------------------------------------
def _wrong_then_right_password(client: smtplib.SMTP, user: str, password: str) -> tuple[str, int]:
    """(the reply to a wrong password, the code of the right one's), then QUIT."""
    with pytest.raises(smtplib.SMTPAuthenticationError) as refused:
        client.login(user, "not-the-password")
    code, _ = client.login(user, password)
    client.quit()
    return f"{refused.value.smtp_code} {refused.value.smtp_error.decode()}", code


def test_postfix_offers_auth_only_after_starttls_and_checks_passwords_through_dovecot(postfix, test_ca):
    client = smtplib.SMTP(postfix.host, postfix.submission_port, timeout=10)
    client.ehlo()
    assert client.has_extn("starttls") and not client.has_extn("auth")
    client.starttls(context=test_ca.client_context())
    client.ehlo()
    assert client.esmtp_features["auth"].split() == ["PLAIN", "LOGIN"]
    refused, code = _wrong_then_right_password(client, ALICE, postfix.users[ALICE])
    assert refused.startswith(WRONG_PASSWORD_REPLY) and code == 235


def test_postfix_on_its_implicit_tls_port_signs_bob_in_and_refuses_a_wrong_password(postfix, test_ca):
    client = smtplib.SMTP_SSL("localhost", postfix.smtps_port, context=test_ca.client_context(), timeout=10)
    client.ehlo()
    refused, code = _wrong_then_right_password(client, BOB, postfix.users[BOB])
    assert refused.startswith(WRONG_PASSWORD_REPLY) and code == 235


def test_postfix_whose_sasl_backend_went_away_answers_auth_with_454(postfix, test_ca):
    postfix.take_auth_backend_down()
    client = smtplib.SMTP_SSL("localhost", postfix.backend_down_port, context=test_ca.client_context(), timeout=10)
    client.ehlo()
    assert client.has_extn("auth")  # Postfix still offers what the backend told it
    blob = base64.b64encode(f"\0{ALICE}\0{postfix.users[ALICE]}".encode()).decode()
    code, text = client.docmd("AUTH", f"PLAIN {blob}")
    client.close()
    assert f"{code} {text.decode()}".startswith(BACKEND_DOWN_REPLY)


def test_a_missing_postfix_skips_on_a_developer_machine_and_fails_in_ci(monkeypatch):
    from tests.servers import fixtures, postfix

    monkeypatch.setattr(postfix.shutil, "which", lambda name: None)
    monkeypatch.setattr(postfix.os.path, "exists", lambda path: False)
    with pytest.raises(ServerUnavailable, match="postfix is not installed") as missing:
        postfix.postfix_binary()
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception):
        fixtures._unavailable(str(missing.value))
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="unavailable in CI"):
        fixtures._unavailable(str(missing.value))


def test_postfix_instances_run_side_by_side_and_leave_no_process_behind(dovecot, test_ca):
    with running_postfix(certs=test_ca, dovecot=dovecot) as first, running_postfix(certs=test_ca,
                                                                                   dovecot=dovecot) as second:
        assert first.config_dir != second.config_dir
        assert {first.submission_port, first.smtps_port}.isdisjoint({second.submission_port, second.smtps_port})
        for server in (first, second):
            with smtplib.SMTP_SSL("localhost", server.smtps_port, context=test_ca.client_context(),
                                  timeout=10) as client:
                assert client.login(ALICE, server.users[ALICE])[0] == 235
        assert instance_pids(first.config_dir) and instance_pids(second.config_dir)
    assert instance_pids(first.config_dir) == instance_pids(second.config_dir) == []
    assert not first.config_dir.exists() and not second.config_dir.exists()


# --- aiosmtpd -----------------------------------------------------------------------------------------
def _smtp_starttls(server, test_ca) -> smtplib.SMTP:
    client = smtplib.SMTP(server.host, server.port, timeout=5)
    client.ehlo()
    assert not client.has_extn("auth")  # AUTH appears only once TLS is up
    client.starttls(context=test_ca.client_context())  # the cert names 127.0.0.1 too
    client.ehlo()
    return client


def test_smtp_starttls_accepts_the_known_user_and_keeps_the_message(smtp_starttls, test_ca):
    client = _smtp_starttls(smtp_starttls, test_ca)
    client.login(SMTP_USER, smtp_starttls.users[SMTP_USER])
    client.sendmail(SMTP_USER, ["bob@example.test"], b"Subject: probe\r\n\r\nhello\r\n")
    client.quit()
    assert smtp_starttls.messages[-1].rcpt_tos == ("bob@example.test",)


@pytest.mark.parametrize(
    ("user", "code", "text"),
    [(SMTP_USER, 535, b"5.7.8 Username and Password not accepted"), (APP_PASSWORD_USER, 534, b"5.7.9")],
)
def test_smtp_starttls_refuses_bad_credentials_and_the_app_password_user(smtp_starttls, test_ca, user, code, text):
    client = _smtp_starttls(smtp_starttls, test_ca)
    with pytest.raises(smtplib.SMTPAuthenticationError) as refused:
        client.login(user, "wrong-password")
    client.close()
    assert refused.value.smtp_code == code
    assert refused.value.smtp_error.startswith(text)


def test_smtp_implicit_tls_offers_auth_and_answers_good_bad_and_534(smtp_implicit, test_ca):
    client = smtplib.SMTP_SSL("localhost", smtp_implicit.port, context=test_ca.client_context(), timeout=5)
    client.ehlo()
    assert client.has_extn("auth")
    with pytest.raises(smtplib.SMTPAuthenticationError) as bad:
        client.login(SMTP_USER, "wrong-password")
    with pytest.raises(smtplib.SMTPAuthenticationError) as app_password:
        client.login(APP_PASSWORD_USER, "anything")
    code, _ = client.login(SMTP_USER, smtp_implicit.users[SMTP_USER])
    client.quit()
    assert (bad.value.smtp_code, app_password.value.smtp_code, code) == (535, 534, 235)


# --- pymap --------------------------------------------------------------------------------------------
def test_pymap_refuses_login_before_starttls_and_accepts_it_after(pymap_imap, test_ca):
    ((user, password),) = pymap_imap.users.items()
    plain = imaplib.IMAP4(pymap_imap.host, pymap_imap.port, timeout=5)
    assert "LOGINDISABLED" in plain.capabilities
    with pytest.raises(imaplib.IMAP4.error, match="LOGIN is disabled"):
        plain.login(user, password)
    plain.logout()
    secured = imaplib.IMAP4(pymap_imap.host, pymap_imap.port, timeout=5)
    secured.starttls(ssl_context=test_ca.client_context())
    status, _ = secured.login(user, password)
    secured.logout()
    assert status == "OK"


# --- scripted servers ---------------------------------------------------------------------------------
@pytest.mark.parametrize("variant", ["app_password", "web_login", "invalid_credentials"])
def test_scripted_gmail_greets_as_gimap_and_refuses_login_with_its_line(scripted_server, test_ca, variant):
    server = scripted_server(s.imap_gmail(variant), tls="implicit")
    client = _imaps(server.port, test_ca)
    with pytest.raises(imaplib.IMAP4.error) as refused:
        client.login("someone@gmail.test", "password")
    client.logout()
    assert client.welcome == s.GMAIL_GREETING.encode()
    assert str(refused.value) == repr(s.GMAIL_REPLIES[variant].removeprefix("NO ").encode())


def _tagged_reply(server, command: bytes, *, tls_context: ssl.SSLContext | None = None) -> bytes:
    """Send one raw IMAP command with tag `a` and return the tagged reply line."""
    raw = socket.create_connection(server.address, timeout=5)
    sock = tls_context.wrap_socket(raw, server_hostname="localhost") if tls_context else raw
    with sock, sock.makefile("rb") as reader:
        reader.readline()
        sock.sendall(b"a " + command + b"\r\n")
        while not (line := reader.readline()).startswith(b"a "):
            pass
        return line.rstrip(b"\r\n")


def test_scripted_gmail_echoes_the_client_tag(scripted_server, test_ca):
    server = scripted_server(s.imap_gmail("app_password"), tls="implicit")
    line = _tagged_reply(server, b'LOGIN "u" "p"', tls_context=test_ca.client_context())
    assert line == b"a " + s.GMAIL_APP_PASSWORD.encode()


def test_scripted_exchange_refuses_login_without_a_response_code(scripted_server):
    server = scripted_server(s.imap_exchange())
    assert _tagged_reply(server, b"LOGIN u p") == b"a NO LOGIN failed."


@pytest.mark.parametrize("code", ["UNAVAILABLE", "CONTACTADMIN"])
def test_scripted_imap_answers_login_with_the_chosen_rfc5530_code(scripted_server, code):
    server = scripted_server(s.imap_login_code(code))
    assert _tagged_reply(server, b"LOGIN u p").startswith(f"a NO [{code}] ".encode())


@pytest.mark.parametrize(
    ("variant", "text"),
    [("basic_auth_disabled", b"5.7.139 Authentication unsuccessful, basic"), ("auth_unsuccessful", b"5.7.3 ")],
)
def test_scripted_microsoft365_offers_auth_after_starttls_and_refuses_it(scripted_server, test_ca, variant, text):
    server = scripted_server(s.smtp_microsoft365(variant), tls="starttls")
    client = smtplib.SMTP(server.host, server.port, timeout=5)
    client.ehlo()
    assert not client.has_extn("auth")
    client.starttls(context=test_ca.client_context())
    client.ehlo()
    assert client.esmtp_features["auth"].split() == ["LOGIN", "PLAIN"]
    with pytest.raises(smtplib.SMTPAuthenticationError) as refused:
        client.login("user@contoso.test", "password")
    client.close()
    assert refused.value.smtp_code == 535
    assert refused.value.smtp_error.startswith(text)


def test_scripted_servers_drop_the_connection_during_authentication(scripted_server):
    imap_server = scripted_server(s.drop_during_auth("imap"))
    imap_client = imaplib.IMAP4(imap_server.host, imap_server.port, timeout=5)
    with pytest.raises(imaplib.IMAP4.abort):
        imap_client.login("u", "p")
    imap_client.shutdown()
    pop_server = scripted_server(s.drop_during_auth("pop3"))
    pop_client = poplib.POP3(pop_server.host, pop_server.port, timeout=5)
    pop_client.user("u")
    with pytest.raises(poplib.error_proto, match="EOF"):
        pop_client.pass_("p")
    pop_client.close()
    smtp_server = scripted_server(s.drop_during_auth("smtp"))
    smtp_client = smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=5)
    with pytest.raises(smtplib.SMTPServerDisconnected):
        smtp_client.login("u", "p")
    smtp_client.close()


def test_black_hole_makes_a_connect_time_out(black_hole):
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        socket.create_connection(black_hole.address, timeout=1)
    assert time.monotonic() - started >= 0.9


def test_scripted_huge_banner_sends_ten_megabytes_without_a_line_end(scripted_server):
    server = scripted_server(s.huge_banner())
    received = 0
    with socket.create_connection(server.address, timeout=5) as client:
        while received < 10 * 1024 * 1024:
            chunk = client.recv(1 << 20)
            assert chunk and b"\n" not in chunk
            received += len(chunk)


def test_scripted_drip_sends_one_byte_per_interval(scripted_server):
    server = scripted_server(s.drip(interval=0.2))
    with socket.create_connection(server.address, timeout=5) as client:
        started = time.monotonic()
        assert client.recv(10) == b"*"
        assert client.recv(10) == b"*"
    assert time.monotonic() - started >= 0.15


@pytest.mark.parametrize(("cert", "verify_code"), [("expired", 10), ("wrong_name", 62)])
def test_scripted_imaps_with_a_bad_certificate_fails_verification(scripted_server, test_ca, cert, verify_code):
    server = scripted_server(s.imap(), tls="implicit", cert=cert)
    with pytest.raises(ssl.SSLCertVerificationError) as failed:
        _imaps(server.port, test_ca)
    assert failed.value.verify_code == verify_code  # 10: expired; 62: hostname mismatch


def test_scripted_wrong_protocol_server_greets_like_smtp(scripted_server):
    server = scripted_server(s.wrong_protocol_smtp())
    with socket.create_connection(server.address, timeout=5) as client:
        assert client.makefile("rb").readline().startswith(b"220 ")
    with pytest.raises(imaplib.IMAP4.error):
        imaplib.IMAP4(server.host, server.port, timeout=5)


def test_scripted_pop3_answers_pass_with_per_user_response_codes(scripted_server):
    replies = {"busy@example.test": s.POP3_IN_USE, "down@example.test": s.POP3_SYS_TEMP}
    server = scripted_server(s.pop3(pass_replies=replies))
    seen = {}
    for user in [*replies, "other@example.test"]:
        client = poplib.POP3(server.host, server.port, timeout=5)
        assert "RESP-CODES" in client.capa()
        client.user(user)
        with pytest.raises(poplib.error_proto) as refused:
            client.pass_("p")
        client.quit()
        seen[user] = refused.value.args[0].decode()
    assert seen == {**replies, "other@example.test": s.POP3_AUTH_FAILED}


def test_scripted_server_stops_promptly_with_clients_still_connected():
    server = s.ScriptedServer(s.drip(interval=0.05)).start()
    clients = [socket.create_connection(server.address, timeout=5) for _ in range(3)]
    clients[0].recv(1)
    started = time.monotonic()
    server.stop()
    elapsed = time.monotonic() - started
    for client in clients:
        client.close()
    assert elapsed < 2
    assert server.threads_alive() == 0
    assert not server.errors


def test_dovecot_with_the_oauth2_passdb_keeps_password_users_and_takes_tokens(dovecot_oauth, oauth_server, test_ca):
    from tests.oauth_helpers import issue_token
    from tests.servers.dovecot import CAROL

    ctx = test_ca.client_context()
    ctx.check_hostname = False  # connected by IP
    with imaplib.IMAP4_SSL("127.0.0.1", dovecot_oauth.imaps_port, ssl_context=ctx) as client:
        assert client.login(ALICE, dovecot_oauth.users[ALICE])[0] == "OK"  # the password user, as before
    token = issue_token(oauth_server, user=CAROL, ca_file=test_ca.ca_pem)["access_token"]
    blob = f"user={CAROL}\x01auth=Bearer {token}\x01\x01".encode()  # imaplib base64-encodes it
    with imaplib.IMAP4_SSL("127.0.0.1", dovecot_oauth.imaps_port, ssl_context=ctx) as client:
        assert "AUTH=XOAUTH2" in client.capabilities and "AUTH=OAUTHBEARER" in client.capabilities
        assert client.authenticate("XOAUTH2", lambda _challenge: blob)[0] == "OK"
        assert client.select("Sent")[0] == "OK"
    assert oauth_server.requests_to("/introspect") == 1
