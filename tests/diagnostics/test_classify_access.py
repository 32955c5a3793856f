"""Mailbox access turned off, retired basic authentication for sending, too many connections: the lines as providers
document or send them, each with where it came from. Recognition is by meaning, so wordings not listed here that say
the same ("POP3 is deactivated for this account") land on the same code."""

import pytest

from diagnostics.classify import classify_access_disabled, classify_imap_login, classify_pop3_login, classify_smtp_auth
from diagnostics.results import Code

# (server line, where it comes from)
BY_THE_PERSON = [
    ("a2 NO [ALERT] Your account is not enabled for IMAP use. Please visit your Gmail settings page and enable your "
     "account for IMAP access. (Failure)", "Gmail IMAP with IMAP off in its settings"),
    ("-ERR [SYS/PERM] Your account is not enabled for POP access. Please visit your Gmail settings page and enable "
     "your account for POP access.", "Gmail POP3 with POP off (the answer to PASS or to STAT)"),
    ("-ERR Your account is not enabled for POP access. Please visit options section in yahoo mail accounts for "
     "enable POP access.", "Yahoo Mail POP3, as recorded in a mail client's test suite"),
    ("a2 NO IMAP is disabled for this account", "Zoho Mail, as matched by Zoho integrations ('imap is disabled')"),
    ("a2 NO [ALERT] Please enable IMAP access in your account settings", "generic 'enable IMAP access' hint"),
    ("-ERR POP3 access is deactivated for this mailbox", "the same meaning in other words (GMX/WEB.DE's terms)"),
    ("a2 NO [UNAVAILABLE] IMAP4 access has been turned off", "the same meaning in other words"),
]
BY_THE_ADMINISTRATOR = [
    ("a2 NO [ALERT] IMAP access is disabled for your domain. Please contact your domain administrator for questions "
     "about this feature. (Failure)", "Google Workspace with IMAP off in the Admin console"),
    ("-ERR [SYS/PERM] POP access is disabled for your domain. Please contact your domain administrator for questions "
     "about this feature.", "Google Workspace with POP off in the Admin console"),
    ("a2 NO Full IMAP support is not enabled for this account. Please contact your domain administrator and try "
     "again.", "Ipswitch iMail Server"),
    ("a2 NO IMAP access is not allowed by your organization's policy", "the same meaning in other words"),
]


@pytest.mark.parametrize(("line", "source"), BY_THE_PERSON, ids=[s for _, s in BY_THE_PERSON])
def test_it_reads_access_turned_off_by_the_person_as_protocol_disabled(line, source):
    classify = classify_pop3_login if line.startswith("-ERR") else classify_imap_login
    verdict = classify(line)
    assert (verdict.code, verdict.reason) == (Code.PROTOCOL_DISABLED, "access_disabled"), source


@pytest.mark.parametrize(("line", "source"), BY_THE_ADMINISTRATOR, ids=[s for _, s in BY_THE_ADMINISTRATOR])
def test_it_reads_access_turned_off_by_the_administrator_as_protocol_disabled_by_admin(line, source):
    classify = classify_pop3_login if line.startswith("-ERR") else classify_imap_login
    verdict = classify(line)
    assert (verdict.code, verdict.reason) == (Code.PROTOCOL_DISABLED_BY_ADMIN, "access_disabled_by_admin"), source


@pytest.mark.parametrize("line", [
    "a2 NO [AUTHENTICATIONFAILED] Authentication failed.",  # Dovecot
    "a2 NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)",  # Gmail
    "a2 NO LOGIN failed.",  # Microsoft 365
    "-ERR [AUTH] Authentication failed.",  # Dovecot POP3
    "-ERR authentication failed",  # GMX / WEB.DE: the same answer whether POP3/IMAP is off or the password wrong
    "a2 NO [PRIVACYREQUIRED] Plaintext authentication disabled",  # about TLS, not about IMAP being off
    "* CAPABILITY IMAP4rev1 LOGINDISABLED STARTTLS",
])
def test_it_does_not_read_a_wrong_password_or_a_tls_refusal_as_access_turned_off(line):
    assert classify_access_disabled(line) is None or classify_access_disabled(line).code not in (
        Code.PROTOCOL_DISABLED, Code.PROTOCOL_DISABLED_BY_ADMIN)
    classify = classify_pop3_login if line.startswith("-ERR") else classify_imap_login
    assert classify(line).code not in (Code.PROTOCOL_DISABLED, Code.PROTOCOL_DISABLED_BY_ADMIN)


def test_it_keeps_an_answer_that_says_either_wrong_password_or_imap_off_as_a_credentials_problem():
    # Yandex: one answer for both causes; the password is the likelier one, and the reason says both.
    verdict = classify_imap_login("a2 NO [AUTHENTICATIONFAILED] LOGIN Invalid credentials or IMAP is disabled "
                                  "sc=ebI8JB0ug4Y1_290737_53p")
    assert (verdict.code, verdict.reason) == (Code.AUTH_INVALID_CREDENTIALS, "invalid_or_access_disabled")


def test_an_app_password_answer_stays_an_app_password_answer_even_if_it_names_imap():
    verdict = classify_imap_login("a2 NO [ALERT] Application-specific password required to enable IMAP (Failure)")
    assert verdict.code == Code.AUTH_APP_PASSWORD_REQUIRED


@pytest.mark.parametrize(("reply", "reason"), [
    ("550 5.7.30 Basic authentication is not supported for Client Submission.", "basic_auth_not_supported"),
    ("535 5.7.139 Authentication unsuccessful, basic authentication is disabled. [BM1P287CA0015.INDP287.PROD."
     "OUTLOOK.COM]", "basic_auth_disabled"),
    ("535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit "
     "https://aka.ms/smtp_auth_disabled for more information.", "basic_auth_disabled"),
    ("535 5.7.139 Authentication unsuccessful, the user credentials were incorrect.", "basic_auth_disabled"),
])
def test_it_reads_microsofts_retired_basic_authentication_for_sending_as_basic_auth_disabled(reply, reason):
    verdict = classify_smtp_auth(reply)
    assert (verdict.code, verdict.reason) == (Code.AUTH_BASIC_AUTH_DISABLED, reason)


@pytest.mark.parametrize(("line", "source"), [
    ("a2 NO [UNAVAILABLE] Maximum number of connections from user+IP exceeded (mail_max_userip_connections=10)",
     "Dovecot IMAP (login-common's ERR_TOO_MANY_USERIP_CONNECTIONS)"),
    ("-ERR [IN-USE] Maximum number of connections from user+IP exceeded (mail_max_userip_connections=10)",
     "Dovecot POP3"),
    ("a2 NO [ALERT] Too many simultaneous connections. (Failure)", "Gmail IMAP"),
    ("-ERR [SYS/TEMP] Too many concurrent sessions for this user", "the same meaning in other words"),
])
def test_it_reads_too_many_connections_as_server_busy_with_its_own_reason(line, source):
    classify = classify_pop3_login if line.startswith("-ERR") else classify_imap_login
    verdict = classify(line)
    assert (verdict.code, verdict.transient, verdict.reason) == (Code.SERVER_BUSY, True, "too_many_connections"), source
