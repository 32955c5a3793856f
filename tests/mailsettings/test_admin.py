"""The MailAccount admin: organization-scoped, changes through the services (audited), never a password shown."""
from __future__ import annotations

import re

import pytest
from django.urls import reverse

from accounts.models import AuditEvent
from locks.models import SettingsLock
from mailsettings.models import MailAccount
from tests.factories import account_create
from tests.helpers import LOCKED_MESSAGE, SENTINEL, messages_of, signed_in

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:mailsettings_mailaccount_changelist")
ADD = reverse("admin:mailsettings_mailaccount_add")


def change_url(account) -> str:
    return reverse("admin:mailsettings_mailaccount_change", args=[account.pk])


def password_url(account) -> str:
    return reverse("admin:mailsettings_mailaccount_password", args=[account.pk])


def form_data(account, **overrides) -> dict:
    data = {
        "address": account.address, "protocol": account.protocol,
        "incoming_host": account.incoming_host, "incoming_port": account.incoming_port,
        "incoming_security": account.incoming_security, "incoming_username": account.incoming_username,
        "smtp_host": account.smtp_host, "smtp_port": account.smtp_port, "smtp_security": account.smtp_security,
        "smtp_same_credentials": "on" if account.smtp_same_credentials else "",
        "smtp_username": account.smtp_username, "save_sent_on_server": "on" if account.save_sent_on_server else "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v != ""}


@pytest.fixture
def accounts(user_s, admin_x):
    return {"s": account_create(user_s, address="s@example.com"), "x": account_create(admin_x, address="x@ex.org")}


def test_an_admin_lists_only_their_organizations_accounts(admin_a, accounts):
    response = signed_in(admin_a).get(CHANGELIST)
    assert response.status_code == 200
    assert "s@example.com" in response.content.decode()
    assert "x@ex.org" not in response.content.decode()
    search = signed_in(admin_a).get(CHANGELIST, {"q": "x@ex"})
    assert "x@ex.org" not in search.content.decode()


def test_another_organizations_account_cannot_be_opened(admin_x, accounts):
    response = signed_in(admin_x).get(change_url(accounts["s"]))
    assert response.status_code in (302, 404)
    assert "s@example.com" not in signed_in(admin_x).get(CHANGELIST).content.decode()
    assert signed_in(admin_x).get(password_url(accounts["s"])).status_code == 404


def test_the_change_page_never_renders_a_password(admin_a, accounts):
    response = signed_in(admin_a).get(change_url(accounts["s"]))
    html = response.content.decode()
    assert response.status_code == 200
    assert SENTINEL not in html
    # The password boxes (for a change of where a password goes, and for turning same-credentials off) are
    # write-only: always empty.
    for name in ("incoming_password", "smtp_password"):
        [box] = re.findall(rf'<input[^>]*name="{name}"[^>]*>', html)
        assert 'type="password"' in box and "value=" not in box
    assert password_url(accounts["s"]) in html


def test_a_change_goes_through_the_service_and_is_audited(admin_a, accounts):
    account = accounts["s"]
    response = signed_in(admin_a).post(change_url(account), form_data(account, incoming_host="IMAP2.example.com"))
    assert response.status_code == 302, response.content.decode()[:2000]
    account.refresh_from_db()
    assert account.incoming_host == "imap2.example.com"  # normalized by the service's rules
    event = AuditEvent.objects.get(action="mail_account.updated")
    # Someone else's server moved without the password: the stored one is removed (the password rule).
    assert event.actor == admin_a and event.details["fields"] == ["incoming_host", "incoming_password"]
    assert event.details["passwords_cleared"] == ["incoming_password"]


def test_turning_same_credentials_off_takes_the_outgoing_password_in_the_change_form(admin_a, accounts):
    account = accounts["s"]
    client = signed_in(admin_a)
    data = form_data(account, smtp_same_credentials="", smtp_username="sender@example.com")
    refused = client.post(change_url(account), data)
    assert refused.status_code == 200
    assert "smtp_password" in refused.context["adminform"].form.errors
    assert MailAccount.objects.get(pk=account.pk).smtp_same_credentials is True
    response = client.post(change_url(account), {**data, "smtp_password": "sending secret"})
    assert response.status_code == 302, response.content.decode()[:2000]
    account.refresh_from_db()
    assert (account.smtp_same_credentials, account.smtp_username, account.smtp_password) == (
        False, "sender@example.com", "sending secret")
    assert account.incoming_password == SENTINEL
    event = AuditEvent.objects.get(action="mail_account.updated")
    assert "smtp_password" in event.details["fields"] and "sending secret" not in str(event.details)


def test_every_view_taking_a_password_hides_the_post_from_error_reports(admin_a, accounts):
    client = signed_in(admin_a)
    for url in (ADD, change_url(accounts["s"]), password_url(accounts["s"])):
        response = client.post(url, {"password": "x", "password1": "x", "password2": "y"})
        assert response.wsgi_request.sensitive_post_parameters == "__ALL__", url


def test_a_bad_value_is_a_form_error_not_a_500(admin_a, accounts):
    account = accounts["s"]
    response = signed_in(admin_a).post(change_url(account), form_data(account, incoming_host="https://imap.x"))
    assert response.status_code == 200
    assert "without" in response.content.decode()  # the hosts module's sentence about the scheme


def test_the_add_form_registers_through_the_service_and_never_echoes_the_password(admin_a, user_s):
    data = {
        "owner": user_s.pk, "address": "new@example.com", "protocol": "imap", "incoming_host": "imap.example.com",
        "incoming_port": 993, "incoming_security": "ssl", "incoming_password": SENTINEL,
        "smtp_host": "smtp.example.com", "smtp_port": 587, "smtp_security": "starttls",
        "smtp_same_credentials": "on",
    }
    client = signed_in(admin_a)
    invalid = client.post(ADD, {**data, "incoming_port": 0})
    assert invalid.status_code == 200 and SENTINEL not in invalid.content.decode()
    response = client.post(ADD, data)
    assert response.status_code == 302
    account = MailAccount.objects.get(address_normalized="new@example.com")
    assert (account.owner, account.incoming_password, account.incoming_username) == (
        user_s, SENTINEL, "new@example.com")
    assert AuditEvent.objects.filter(action="mail_account.registered", actor=admin_a).exists()


def test_adding_a_taken_address_is_a_message_naming_the_holder_not_a_500(admin_a, admin_b, accounts):
    data = {
        "owner": admin_b.pk, "address": "S@example.com", "protocol": "imap", "incoming_host": "imap.example.com",
        "incoming_port": 993, "incoming_security": "ssl", "incoming_password": SENTINEL,
        "smtp_host": "smtp.example.com", "smtp_port": 587, "smtp_security": "starttls",
        "smtp_same_credentials": "on",
    }
    response = signed_in(admin_a).post(ADD, data, follow=True)
    assert response.status_code == 200
    [message] = [m for m in messages_of(response) if "already configured" in m]
    assert "user.s@acme.test" in message
    assert SENTINEL not in response.content.decode()
    assert not MailAccount.objects.filter(owner=admin_b).exists()


def test_the_change_password_page_sets_a_new_password_for_both_by_default(admin_a, accounts):
    account = accounts["s"]
    client = signed_in(admin_a)
    page = client.get(password_url(account))
    assert page.status_code == 200 and SENTINEL not in page.content.decode()
    response = client.post(password_url(account), {"password": "brand new", "apply_to": ""})
    assert response.status_code == 302
    account.refresh_from_db()
    assert (account.incoming_password, account.effective_smtp_password) == ("brand new", "brand new")
    assert AuditEvent.objects.filter(action="mail_account.password_changed", actor=admin_a).exists()


def test_the_change_password_page_can_change_only_the_outgoing_server(admin_a, accounts):
    account = accounts["s"]
    signed_in(admin_a).post(password_url(account), {"password": "smtp only", "apply_to": "outgoing"})
    account.refresh_from_db()
    assert (account.incoming_password, account.effective_smtp_password) == (SENTINEL, "smtp only")


def test_a_locked_admin_is_refused_their_own_account_with_the_lock_sentence(admin_a, admin_b):
    own = account_create(admin_b, address="b@example.com")
    SettingsLock.objects.create(user=admin_b, organization=admin_b.organization, locked_by=admin_a)
    client = signed_in(admin_b)
    for url in (change_url(own), password_url(own)):
        response = client.get(url, follow=True)
        assert LOCKED_MESSAGE in messages_of(response)
    response = client.post(change_url(own), form_data(own, incoming_host="evil.example.com"), follow=True)
    assert LOCKED_MESSAGE in messages_of(response)
    response = client.post(password_url(own), {"password": "x", "apply_to": "both"}, follow=True)
    assert LOCKED_MESSAGE in messages_of(response)
    own.refresh_from_db()
    assert own.incoming_host == "imap.example.com" and own.incoming_password == SENTINEL


def test_a_locked_admins_own_account_is_left_out_of_the_list_and_its_history_refused(admin_a, admin_b, accounts):
    own = account_create(admin_b, address="b@example.com")
    SettingsLock.objects.create(user=admin_b, organization=admin_b.organization, locked_by=admin_a)
    client = signed_in(admin_b)
    listed = client.get(CHANGELIST).content.decode()
    assert "s@example.com" in listed and "b@example.com" not in listed
    assert "b@example.com" not in client.get(CHANGELIST, {"q": "b@example"}).content.decode()
    history = reverse("admin:mailsettings_mailaccount_history", args=[own.pk])
    response = client.get(history, follow=True)
    assert LOCKED_MESSAGE in messages_of(response) and "b@example.com" not in response.content.decode()
    # The others' accounts stay in reach: that is the point of a lock.
    assert client.get(reverse("admin:mailsettings_mailaccount_history", args=[accounts["s"].pk])).status_code == 200
    assert client.get(change_url(accounts["s"])).status_code == 200


def test_the_bulk_actions_turn_accounts_off_and_on(admin_a, accounts):
    account = accounts["s"]
    client = signed_in(admin_a)
    response = client.post(CHANGELIST, {"action": "disable_selected", "_selected_action": [account.pk]}, follow=True)
    account.refresh_from_db()
    assert account.status == "disabled"
    assert any("Turned off" in m for m in messages_of(response))
    client.post(CHANGELIST, {"action": "enable_selected", "_selected_action": [account.pk]})
    account.refresh_from_db()
    assert account.status == "pending"


def test_accounts_cannot_be_deleted_in_the_admin(admin_a, operator, accounts):
    url = reverse("admin:mailsettings_mailaccount_delete", args=[accounts["s"].pk])
    assert signed_in(admin_a).post(url, {"post": "yes"}).status_code in (302, 403)
    assert signed_in(operator).post(url, {"post": "yes"}).status_code in (302, 403)
    assert MailAccount.objects.filter(pk=accounts["s"].pk).exists()
