"""Real server answers -> codes. The lines are what the servers send (RFC examples, Gmail, Microsoft, Dovecot)."""

import pytest

from diagnostics.classify import (
    Mailbox,
    classify_certificate_error,
    classify_greeting,
    classify_imap_login,
    classify_mechanisms,
    classify_pop3_login,
    classify_sent_copy,
    classify_smtp_auth,
    classify_tls_error,
    detect_protocol,
    find_inbox,
    find_sent,
    judge_folders,
)
from diagnostics.results import Code


@pytest.mark.parametrize(
    ("line", "code", "transient", "reason"),
    [
        ("a2 OK [CAPABILITY IMAP4rev1 IDLE] Logged in", Code.OK, False, ""),
        ("a2 NO [AUTHENTICATIONFAILED] Authentication failed.", Code.AUTH_INVALID_CREDENTIALS, False,
         "authentication_failed"),
        ("a2 NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)", Code.AUTH_INVALID_CREDENTIALS, False,
         "authentication_failed"),
        ("a2 NO [AUTHORIZATIONFAILED] No such authorization-ID", Code.AUTH_INVALID_CREDENTIALS, False,
         "authorization_failed"),
        ("a2 NO [EXPIRED] That password isn't valid any more", Code.AUTH_INVALID_CREDENTIALS, False, "expired"),
        ("a2 NO [CONTACTADMIN] Account locked", Code.AUTH_INVALID_CREDENTIALS, False, "contact_admin"),
        ("a2 NO [PRIVACYREQUIRED] Connection offers no privacy", Code.PLAINTEXT_LOGIN_REFUSED, False,
         "privacy_required"),
        ("a2 NO [PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.",
         Code.PLAINTEXT_LOGIN_REFUSED, False, "privacy_required"),
        ("a2 NO [UNAVAILABLE] User's backend down for maintenance", Code.SERVER_BUSY, True, "unavailable"),
        ("a2 NO [INUSE] Mailbox in use", Code.SERVER_BUSY, True, "in_use"),
        ("a2 NO [ALERT] Application-specific password required: https://support.google.com/accounts/answer/185833 "
         "(Failure)", Code.AUTH_APP_PASSWORD_REQUIRED, False, "app_password"),
        ("a2 NO [WEBALERT https://accounts.google.com/signin/continue?sarp=1&scc=1] Web login required.",
         Code.AUTH_WEB_LOGIN_REQUIRED, False, "web_login"),
        ("a2 NO [ALERT] Please log in via your web browser: https://support.google.com/mail/accounts/answer/78754 "
         "(Failure)", Code.AUTH_WEB_LOGIN_REQUIRED, False, "web_login"),
        ("a2 NO LOGIN failed.", Code.AUTH_INVALID_CREDENTIALS, False, "login_failed"),  # Exchange / Microsoft 365
        ("a2 NO AUTHENTICATE failed.", Code.AUTH_INVALID_CREDENTIALS, False, "login_failed"),
        ("a2 NO Something else went wrong", Code.AUTH_INVALID_CREDENTIALS, False, "rejected"),
    ],
)
def test_it_classifies_imap_login_answers(line, code, transient, reason):
    verdict = classify_imap_login(line)
    assert (verdict.code, verdict.transient, verdict.reason) == (code, transient, reason)


@pytest.mark.parametrize(
    ("line", "code", "transient", "reason"),
    [
        ("+OK Logged in.", Code.OK, False, ""),
        ("-ERR [AUTH] Authentication failed.", Code.AUTH_INVALID_CREDENTIALS, False, "auth"),
        ("-ERR [SYS/TEMP] Temporary system failure, try again later", Code.SERVER_BUSY, True, "sys_temp"),
        ("-ERR [SYS/PERM] Mailbox is corrupt", Code.SERVER_BUSY, False, "sys_perm"),
        ("-ERR [IN-USE] Mailbox locked by another session", Code.SERVER_BUSY, True, "in_use"),
        ("-ERR [LOGIN-DELAY] Minimum time between logins is 15 minutes", Code.SERVER_BUSY, True, "login_delay"),
        ("-ERR [AUTH] Application-specific password required: https://support.google.com/accounts/answer/185833",
         Code.AUTH_APP_PASSWORD_REQUIRED, False, "app_password"),
        ("-ERR [AUTH] Web login required: https://support.google.com/mail/answer/78754",
         Code.AUTH_WEB_LOGIN_REQUIRED, False, "web_login"),
        ("-ERR [AUTH] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.",
         Code.PLAINTEXT_LOGIN_REFUSED, False, "privacy_required"),
        ("-ERR Logon failure: unknown user name or bad password.", Code.AUTH_INVALID_CREDENTIALS, False, "rejected"),
    ],
)
def test_it_classifies_pop3_login_answers(line, code, transient, reason):
    verdict = classify_pop3_login(line)
    assert (verdict.code, verdict.transient, verdict.reason) == (code, transient, reason)


@pytest.mark.parametrize(
    ("reply", "code", "transient"),
    [
        ("235 2.7.0 Authentication successful", Code.OK, False),
        ("534-5.7.9 Application-specific password required. Learn more at\n"
         "534 5.7.9  https://support.google.com/mail/?p=InvalidSecondFactor d2-20020a05",
         Code.AUTH_APP_PASSWORD_REQUIRED, False),
        ("534-5.7.14 <https://accounts.google.com/signin/continue?sarp=1>\n534-5.7.14 Please log in via your web "
         "browser and\n534 5.7.14 then try again.", Code.AUTH_WEB_LOGIN_REQUIRED, False),
        ("535-5.7.8 Username and Password not accepted. Learn more at\n"
         "535 5.7.8  https://support.google.com/mail/?p=BadCredentials", Code.SMTP_AUTH_FAILED, False),
        ("535 5.7.139 Authentication unsuccessful, basic authentication is disabled. [AM0PR04CA0001.eurprd04]",
         Code.AUTH_BASIC_AUTH_DISABLED, False),
        ("535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit "
         "https://aka.ms/smtp_auth_disabled for more information.", Code.AUTH_BASIC_AUTH_DISABLED, False),
        ("535 5.7.3 Authentication unsuccessful [SN4PR0601CA0001.namprd06.prod.outlook.com]", Code.SMTP_AUTH_FAILED,
         False),
        ("454 4.7.0 Temporary authentication failure", Code.SERVER_BUSY, True),
        ("538 5.7.11 Encryption required for requested authentication mechanism", Code.PLAINTEXT_LOGIN_REFUSED, False),
        ("530 5.7.0 Must issue a STARTTLS command first", Code.PLAINTEXT_LOGIN_REFUSED, False),
        ("504 5.5.4 Unrecognized authentication type", Code.SMTP_AUTH_FAILED, False),
    ],
)
def test_it_classifies_smtp_auth_replies(reply, code, transient):
    verdict = classify_smtp_auth(reply)
    assert (verdict.code, verdict.transient) == (code, transient)


def test_the_smtp_app_password_reason_is_told_apart_from_a_bad_password():
    assert classify_smtp_auth("534 5.7.9 Application-specific password required").reason == "app_password"
    assert classify_smtp_auth("535 5.7.8 Username and Password not accepted").reason == "bad_credentials"
    assert classify_smtp_auth("535 5.7.3 Authentication unsuccessful").reason == "authentication_unsuccessful"


@pytest.mark.parametrize(
    ("line", "protocol"),
    [
        ("* OK [CAPABILITY IMAP4rev1 STARTTLS] Dovecot ready.", "imap"),
        ("* PREAUTH IMAP4rev1 server logged in as Smith", "imap"),
        ("+OK Dovecot ready.", "pop3"),
        ("220 smtp.gmail.com ESMTP a1sm2 - gsmtp", "smtp"),
        ("220-mx.example.test ESMTP", "smtp"),
        ("SSH-2.0-OpenSSH_9.2p1 Debian-2", "ssh"),
        ("HTTP/1.1 400 Bad Request", "http"),
        ("\x16\x03\x01garbage", "unknown"),
    ],
)
def test_it_recognizes_which_protocol_a_banner_belongs_to(line, protocol):
    assert detect_protocol(line) == protocol


def test_an_smtp_banner_on_the_imap_port_is_the_wrong_protocol():
    verdict = classify_greeting("imap", "220 mail.example.test ESMTP Postfix")
    assert (verdict.code, verdict.reason) == (Code.WRONG_PROTOCOL, "speaks_smtp")


def test_an_imap_banner_on_the_smtp_port_is_the_wrong_protocol():
    assert classify_greeting("smtp", "* OK IMAP4rev1 ready").code == Code.WRONG_PROTOCOL


@pytest.mark.parametrize(
    ("protocol", "line", "code", "transient"),
    [
        ("imap", "* OK ready", Code.OK, False),
        ("imap", "* BYE Too many connections from your IP", Code.SERVER_BUSY, True),
        ("pop3", "+OK POP3 ready", Code.OK, False),
        ("pop3", "-ERR [SYS/TEMP] Too busy", Code.SERVER_BUSY, True),
        ("smtp", "220 ready", Code.OK, False),
        ("smtp", "421 4.7.0 Too many connections", Code.SERVER_BUSY, True),
        ("smtp", "554 5.7.1 No SMTP service here", Code.SERVER_BUSY, False),
    ],
)
def test_it_judges_greetings(protocol, line, code, transient):
    verdict = classify_greeting(protocol, line)
    assert (verdict.code, verdict.transient) == (code, transient)


@pytest.mark.parametrize(
    ("verify_code", "message", "reason"),
    [
        (10, "certificate has expired", "expired"),
        (62, "Hostname mismatch, certificate is not valid for 'localhost'.", "wrong_name"),
        (64, "IP address mismatch, certificate is not valid for '127.0.0.1'.", "wrong_name"),
        (20, "unable to get local issuer certificate", "untrusted"),
        (18, "self-signed certificate", "untrusted"),
        (19, "self-signed certificate in certificate chain", "untrusted"),
        (9, "certificate is not yet valid", "not_yet_valid"),
        (None, "certificate has expired", "expired"),
    ],
)
def test_it_says_why_a_certificate_is_invalid(verify_code, message, reason):
    verdict = classify_certificate_error(verify_code, message)
    assert (verdict.code, verdict.reason) == (Code.TLS_CERTIFICATE_INVALID, reason)


@pytest.mark.parametrize(
    ("openssl_reason", "reason"),
    [
        ("WRONG_VERSION_NUMBER", "server_not_tls"),
        ("TLSV1_ALERT_PROTOCOL_VERSION", "protocol_version"),
        ("SSLV3_ALERT_HANDSHAKE_FAILURE", "no_shared_cipher"),
        ("UNEXPECTED_EOF_WHILE_READING", "closed"),
        ("SOMETHING_NEW", "handshake_error"),
    ],
)
def test_it_says_why_a_handshake_failed(openssl_reason, reason):
    verdict = classify_tls_error(openssl_reason)
    assert (verdict.code, verdict.reason) == (Code.TLS_HANDSHAKE_FAILED, reason)


def _box(name, *flags, delimiter="/"):
    return Mailbox(name=name, flags=frozenset(f.lower() for f in flags), delimiter=delimiter, raw_name=name)


def test_the_special_use_sent_flag_wins_over_a_name():
    boxes = [_box("INBOX"), _box("Sent"), _box("Outbox-copies", "\\Sent")]
    sent, how = find_sent(boxes)
    assert (sent.name, how) == ("Outbox-copies", "special_use")


@pytest.mark.parametrize(
    ("name", "delimiter"),
    [
        ("Sent", "/"),
        ("Sent Items", "/"),
        ("Sent Messages", "/"),
        ("[Gmail]/Sent Mail", "/"),
        ("INBOX.Sent", "."),
        ("送信済み", "/"),
        ("送信済みアイテム", "/"),
    ],
)
def test_it_finds_a_sent_folder_by_its_usual_names(name, delimiter):
    sent, how = find_sent([_box("INBOX", delimiter=delimiter), _box(name, delimiter=delimiter)])
    assert (sent.name, how) == (name, "name")


def test_a_noselect_folder_is_not_a_sent_folder():
    assert find_sent([_box("[Gmail]", "\\Noselect"), _box("Sent", "\\Noselect")]) == (None, "")


def test_missing_folders_are_named():
    inbox = find_inbox([_box("INBOX")])
    assert judge_folders(inbox=inbox, sent=None).reason == "sent"
    assert judge_folders(inbox=None, sent=None).reason == "inbox_and_sent"
    assert judge_folders(inbox=inbox, sent=_box("Sent")).code == Code.OK


def test_a_sent_copy_on_a_provider_that_saves_sent_mail_risks_duplicates():
    assert classify_sent_copy(save_sent_copy=True, provider_saves_sent=True).code == Code.DUPLICATE_SENT_RISK
    assert classify_sent_copy(save_sent_copy=True, provider_saves_sent=False).code == Code.OK
    assert classify_sent_copy(save_sent_copy=False, provider_saves_sent=True).code == Code.OK


@pytest.mark.parametrize(
    ("mechanisms", "code"),
    [
        ({"XOAUTH2", "OAUTHBEARER"}, Code.AUTH_BASIC_AUTH_DISABLED),
        ({"xoauth2"}, Code.AUTH_BASIC_AUTH_DISABLED),
        ({"XOAUTH2", "PLAIN"}, Code.OK),
        ({"LOGIN", "OAUTHBEARER"}, Code.OK),
        ({"CRAM-MD5"}, Code.OK),  # not OAuth: the password is still worth trying
        (set(), Code.OK),  # nothing offered is judged elsewhere
    ],
)
def test_a_server_offering_only_oauth_mechanisms_has_password_sign_in_off(mechanisms, code):
    verdict = classify_mechanisms(mechanisms)
    assert verdict.code == code
    if code != Code.OK:
        assert verdict.reason == "oauth_only"
