"""The password rule against capturing servers on loopback: after every kind of change of where a stored password
would be sent, a check (asked for, periodic, or after turning the account back on) sends neither the password nor
its base64 forms to the new server. Each capturing server accepts any sign-in and keeps every line it was sent.

A control proves the capture works: an account entered for the capturing server does send its password there.
"""
from __future__ import annotations

import base64
import re

import pytest

from diagnostics import walk
from diagnostics.models import DiagnosticRun, RunKind
from mailsettings.models import MailAccount
from tests.factories import account_make
from tests.servers import scripted as s
from tests.servers.ports import free_port

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("loopback_diagnostics")]

PASSWORD = "Capture-Me-7f3a9"  # the stored password the new server must never see
OTHER_PASSWORD = "Outgoing-Only-51c2"
ADDRESS = "alice@example.test"


def sent_secret(lines: list[str], secret: str) -> bool:
    """Whether `secret` is in what a server received: as is, or inside any base64 token (SASL PLAIN's
    "\\0user\\0password", AUTH LOGIN's lone password, an IMAP AUTHENTICATE line), at any alignment."""
    text = "\n".join(lines)
    if secret in text:
        return True
    for token in re.findall(r"[A-Za-z0-9+/]{4,}={0,2}", text):
        for start in range(4):  # a token may be glued to something else: try every 4-character alignment
            chunk = token[start:]
            chunk = chunk[: len(chunk) - len(chunk) % 4]
            try:
                if secret.encode() in base64.b64decode(chunk, validate=True):
                    return True
            except ValueError:
                continue
    return False


def test_the_detector_finds_each_wire_form():
    user = "someone@example.test"
    forms = [
        f'a1 LOGIN "{user}" "{PASSWORD}"',
        "AUTH PLAIN " + base64.b64encode(f"\0{user}\0{PASSWORD}".encode()).decode(),
        base64.b64encode(PASSWORD.encode()).decode(),
        "a2 AUTHENTICATE PLAIN " + base64.b64encode(f"{user}\0{user}\0{PASSWORD}".encode()).decode(),
    ]
    assert all(sent_secret([line], PASSWORD) for line in forms)
    assert not sent_secret(["a1 LOGIN \"x\" \"y\"", "AUTH PLAIN AHgAeQ=="], PASSWORD)


@pytest.fixture
def capture(scripted_server):
    """capture("imap" | "pop3" | "smtp"): a plaintext server on 127.0.0.1 that accepts any sign-in."""
    behaviours = {
        "imap": lambda: s.imap(login_reply=s.IMAP_LOGIN_OK),
        "pop3": lambda: s.pop3(pass_reply=s.POP3_PASS_OK),
        "smtp": lambda: s.smtp(auth_reply=s.SMTP_AUTH_OK),
    }
    return lambda protocol: scripted_server(behaviours[protocol]())


def account_for(owner, **fields) -> MailAccount:
    """An account with PASSWORD stored, by default pointing at closed loopback ports (no run reaches anything
    until a change points it somewhere)."""
    values = dict(
        incoming_host="127.0.0.1", incoming_port=free_port(), incoming_security="none", incoming_password=PASSWORD,
        smtp_host="127.0.0.1", smtp_port=free_port(), smtp_security="none", smtp_same_credentials=True,
    )
    values.update(fields)
    return account_make(owner, ADDRESS, **values)


def check(account) -> dict:
    """A check as a person asks for it (the walk the worker calls), and its step rows."""
    run = DiagnosticRun.objects.create(organization=account.organization, account=account, kind=RunKind.ACCOUNT)
    walk.run_execute(run_id=run.pk)
    return {step.name: step for step in run.steps.all()}


def patch(client, account, body):
    response = client.patch(f"/api/v1/mail-accounts/{account.pk}/", body, format="json")
    return response


def test_control_a_password_entered_for_the_capturing_server_reaches_it(user_s, capture):
    imap_server, smtp_server = capture("imap"), capture("smtp")
    account = account_for(user_s, incoming_port=imap_server.port, smtp_port=smtp_server.port)
    steps = check(account)
    assert steps["login"].status == "passed" and steps["smtp_auth"].status == "passed"
    assert sent_secret(imap_server.received, PASSWORD) and sent_secret(smtp_server.received, PASSWORD)


# --- an administrator moves someone else's account: the password that would go there is removed ---------------

INCOMING_MOVES = {
    # name: (fields of the account before, the change) — the change points the incoming side at the capture.
    "host": (lambda port: {"incoming_host": "old-server.example.test", "incoming_port": port},
             lambda port: {"incoming_host": "127.0.0.1"}),
    "port": (lambda port: {}, lambda port: {"incoming_port": port}),
    "security": (lambda port: {"incoming_port": port, "incoming_security": "starttls"},
                 lambda port: {"incoming_security": "none"}),
    "username": (lambda port: {"incoming_port": port}, lambda port: {"incoming_username": "mallory@example.test"}),
}


@pytest.mark.parametrize("kind", sorted(INCOMING_MOVES))
def test_an_admins_change_of_the_incoming_server_sends_no_password_there(kind, admin_a, user_s, capture, api_as):
    server = capture("imap")
    before, change = INCOMING_MOVES[kind]
    account = account_for(user_s, smtp_same_credentials=False, smtp_username=ADDRESS, smtp_password=OTHER_PASSWORD,
                          **before(server.port))
    response = patch(api_as(admin_a), account, change(server.port))
    assert response.status_code == 200, response.json()
    steps = check(account)
    assert server.accepted >= 1  # the check did go to the new server
    assert not sent_secret(server.received, PASSWORD)
    assert response.json()["status"] == "needs_password"
    assert (steps["login"].status, steps["login"].code) == ("skipped", "password_needed")


def test_an_admins_protocol_switch_sends_no_password_to_the_pop3_server(admin_a, user_s, capture, api_as):
    server = capture("pop3")
    account = account_for(user_s, incoming_port=server.port)  # IMAP until now: nothing answers it there
    assert patch(api_as(admin_a), account, {"protocol": "pop3"}).status_code == 200
    steps = check(account)
    assert server.accepted >= 1 and steps["greeting"].status == "passed"
    assert not sent_secret(server.received, PASSWORD)


OUTGOING_MOVES = {
    # A same-credentials account: the incoming password is the one the outgoing server would get.
    "host (same credentials)": (
        {"smtp_host": "old-smtp.example.test"}, lambda port: {"smtp_host": "127.0.0.1", "smtp_port": port}),
    "port (same credentials)": ({}, lambda port: {"smtp_port": port}),
    "security (own login)": (
        {"smtp_same_credentials": False, "smtp_username": ADDRESS, "smtp_password": PASSWORD,
         "smtp_security": "ssl"},
        lambda port: {"smtp_security": "none", "smtp_port": port}),
    "username (own login)": (
        {"smtp_same_credentials": False, "smtp_username": ADDRESS, "smtp_password": PASSWORD},
        lambda port: {"smtp_username": "mallory@example.test", "smtp_port": port}),
    "switch to the same credentials": (
        {"smtp_same_credentials": False, "smtp_username": ADDRESS, "smtp_password": OTHER_PASSWORD},
        lambda port: {"smtp_same_credentials": True, "smtp_port": port}),
}


@pytest.mark.parametrize("kind", sorted(OUTGOING_MOVES))
def test_an_admins_change_of_the_outgoing_server_sends_no_password_there(kind, admin_a, user_s, capture, api_as):
    server = capture("smtp")
    before, change = OUTGOING_MOVES[kind]
    account = account_for(user_s, **before)
    response = patch(api_as(admin_a), account, change(server.port))
    assert response.status_code == 200, response.json()
    steps = check(account)
    assert server.accepted >= 1
    assert not sent_secret(server.received, PASSWORD)
    assert (steps["smtp_auth"].status, steps["smtp_auth"].code) == ("skipped", "password_needed")


def test_an_operators_change_clears_the_password_the_same_way(operator, user_s, capture, api_as):
    server = capture("imap")
    account = account_for(user_s, incoming_host="old-server.example.test", incoming_port=server.port)
    assert patch(api_as(operator), account, {"incoming_host": "localhost"}).status_code == 200
    check(account)
    assert server.accepted >= 1 and not sent_secret(server.received, PASSWORD)


def test_a_change_in_the_django_admins_form_sends_no_password_there(admin_a, user_s, capture, client):
    from django.urls import reverse

    server = capture("imap")
    account = account_for(user_s, incoming_host="old-server.example.test", incoming_port=server.port)
    client.force_login(admin_a)
    data = {name: getattr(account, name) for name in (
        "address", "protocol", "incoming_port", "incoming_security", "incoming_username", "smtp_host", "smtp_port",
        "smtp_security")}
    data.update(incoming_host="127.0.0.1", smtp_same_credentials="on")
    response = client.post(reverse("admin:mailsettings_mailaccount_change", args=[account.pk]), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    check(account)
    assert server.accepted >= 1 and not sent_secret(server.received, PASSWORD)


# --- the owner must bring the password: without it nothing moves ---------------------------------------------

def test_the_owners_change_without_the_password_is_refused_and_nothing_is_sent(user_s, capture, api_as):
    server = capture("imap")
    account = account_for(user_s, incoming_host="old-server.example.test", incoming_port=server.port)
    response = patch(api_as(user_s), account, {"incoming_host": "127.0.0.1"})
    check(account)
    assert not sent_secret(server.received, PASSWORD)
    assert server.accepted == 0  # the account still points where it did
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "password_required"
    assert set(response.json()["error"]["fields"]) == {"incoming_password"}


def test_the_owners_change_with_the_password_sends_that_new_password(user_s, capture, api_as):
    server = capture("imap")
    account = account_for(user_s, incoming_host="old-server.example.test", incoming_port=server.port)
    body = {"incoming_host": "127.0.0.1", "incoming_password": "typed-for-the-new-server"}
    assert patch(api_as(user_s), account, body).status_code == 200
    steps = check(account)
    assert steps["login"].status == "passed"
    assert sent_secret(server.received, "typed-for-the-new-server") and not sent_secret(server.received, PASSWORD)


# --- the other ways a stored password could be sent -----------------------------------------------------------

def test_the_periodic_recheck_sends_no_password_to_the_new_server(admin_a, user_s, capture, api_as):
    from diagnostics.services import accounts_recheck_due

    server = capture("imap")
    account = account_for(user_s, incoming_host="old-server.example.test", incoming_port=server.port)
    assert patch(api_as(admin_a), account, {"incoming_host": "127.0.0.1"}).status_code == 200
    assert accounts_recheck_due() == 1
    run = DiagnosticRun.objects.get(account=account, trigger="schedule")
    walk.run_execute(run_id=run.pk)
    assert server.accepted >= 1 and not sent_secret(server.received, PASSWORD)
    account.refresh_from_db()
    assert account.status == "needs_password"  # a check without sign-in does not end the wait


def test_turning_a_moved_account_back_on_sends_no_password_there(admin_a, user_s, capture, api_as):
    server = capture("imap")
    account = account_for(user_s, incoming_host="old-server.example.test", incoming_port=server.port)
    client = api_as(admin_a)
    assert client.delete(f"/api/v1/mail-accounts/{account.pk}/").status_code == 200
    assert patch(client, account, {"incoming_host": "127.0.0.1"}).status_code == 200
    enabled = client.post(f"/api/v1/mail-accounts/{account.pk}/enable/")
    check(account)
    assert server.accepted >= 1 and not sent_secret(server.received, PASSWORD)
    assert enabled.status_code == 200 and enabled.json()["status"] == "needs_password"


WIRE_FORMS = {
    # name: (side, protocol, behaviour): every way a probe sends a password.
    "IMAP LOGIN": ("incoming", "imap", lambda: s.imap(login_reply=s.IMAP_LOGIN_OK)),
    "IMAP AUTHENTICATE PLAIN": ("incoming", "imap", lambda: s.imap(
        capabilities="IMAP4rev1 AUTH=PLAIN SASL-IR LOGINDISABLED", login_reply=s.IMAP_LOGIN_OK)),
    "POP3 USER/PASS": ("incoming", "pop3", lambda: s.pop3(pass_reply=s.POP3_PASS_OK)),
    "SMTP AUTH PLAIN": ("outgoing", "imap", lambda: s.smtp(auth_reply=s.SMTP_AUTH_OK, auth_mechanisms="PLAIN")),
    "SMTP AUTH LOGIN": ("outgoing", "imap", lambda: s.smtp(auth_reply=s.SMTP_AUTH_OK, auth_mechanisms="LOGIN")),
}


@pytest.mark.parametrize("form", sorted(WIRE_FORMS))
def test_each_wire_form_carries_the_password_before_a_move_and_never_after(form, admin_a, user_s, scripted_server,
                                                                           api_as):
    side, protocol, behaviour = WIRE_FORMS[form]
    server = scripted_server(behaviour())
    prefix = "incoming" if side == "incoming" else "smtp"
    account = account_for(user_s, protocol=protocol, **{f"{prefix}_port": server.port})
    check(account)
    assert sent_secret(server.received, PASSWORD), f"{form}: the capture must see the password it was entered for"
    server.received.clear()
    # The same server under another spelling is another place as far as the rule knows: moved without the password.
    assert patch(api_as(admin_a), account, {f"{prefix}_host": "localhost"}).status_code == 200
    check(account)
    assert server.accepted >= 2 and not sent_secret(server.received, PASSWORD)


def test_a_check_of_a_moved_account_tells_nobody_it_works_again(admin_a, user_s, capture, api_as):
    from accounts.models import AuditEvent
    from mailsettings.services import mail_account_record_check

    imap_server, smtp_server = capture("imap"), capture("smtp")
    account = account_for(user_s, incoming_host="old-server.example.test", incoming_port=imap_server.port,
                          smtp_port=smtp_server.port)
    mail_account_record_check(account=account, status="connected")  # it worked where it was
    assert patch(api_as(admin_a), account, {"incoming_host": "127.0.0.1"}).status_code == 200
    steps = check(account)
    assert all(step.status in ("passed", "skipped", "warning") for step in steps.values())
    account.refresh_from_db()
    assert account.status == "needs_password"
    # The health trail (and the notifications it feeds) says what the account is, not what the check implied.
    changes = AuditEvent.objects.filter(action="mail_account.status_changed", target_id=str(account.pk))
    assert [event.details["to"] for event in changes] in ([], ["needs_password"])


# --- OAuth2 bindings: the token is sent the same way, so the same rule holds -----------------------------------

@pytest.mark.django_db(transaction=True)
def test_an_oauth2_bindings_token_never_reaches_a_server_an_admin_moved_it_to(
        admin_a, user_s, api_as, scripted_server, oauth_provider, dovecot_oauth, smtp_oauth, test_ca):
    from mailsettings.models_oauth import OAuthCredential
    from tests.oauth_helpers import bind_with_oauth
    from tests.servers.dovecot import CAROL

    account = bind_with_oauth(user_s, dovecot=dovecot_oauth, smtp_oauth=smtp_oauth, ca_file=test_ca.ca_pem,
                              address=CAROL)
    DiagnosticRun.objects.all().delete()  # the check the callback queued
    token = OAuthCredential.objects.get(account=account).access_token
    assert token
    # A TLS server that takes any XOAUTH2 sign-in, where someone would like to receive the token.
    server = scripted_server(s.imap(capabilities="IMAP4rev1 SASL-IR AUTH=XOAUTH2 AUTH=OAUTHBEARER",
                                    login_reply=s.IMAP_LOGIN_OK), tls="implicit")
    moved = {"incoming_host": "127.0.0.1", "incoming_port": server.port}
    refused = patch(api_as(user_s), account, moved)  # the owner: sign in again with the new servers
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "sign_in_required"
    assert patch(api_as(admin_a), account, moved).status_code == 200
    check(account)
    assert not sent_secret(server.received, token)
    account.refresh_from_db()
    assert account.status == "reauth_required"
    assert OAuthCredential.objects.get(account=account).access_token == ""


def test_send_a_test_message_waits_for_the_password_too(admin_a, user_s, capture, api_as):
    smtp_server = capture("smtp")
    account = account_for(user_s, smtp_host="old-smtp.example.test", smtp_port=smtp_server.port)
    queued = DiagnosticRun.objects.create(organization=account.organization, account=account, kind="sent_test")
    assert patch(api_as(admin_a), account, {"smtp_host": "127.0.0.1"}).status_code == 200
    # The test asked for before the move sends nothing where the account now points...
    walk.run_execute(run_id=queued.pk)
    assert not sent_secret(smtp_server.received, PASSWORD) and smtp_server.accepted == 0
    assert queued.steps.get(name="send").code == "password_needed"
    # ...and a new one is refused with the sentence until the owner enters the password.
    response = api_as(user_s).post(f"/api/v1/mail-accounts/{account.pk}/sent-test/")
    assert response.status_code == 409 and response.json()["error"]["code"] == "password_needed"
