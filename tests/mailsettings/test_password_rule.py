"""The password rule (mailsettings.password_rule) through the API, the service, the Django admin's form and the
owner's pages: who must bring the password, what is cleared, what the account's status becomes, what is audited.
The capturing servers that prove no password travels are in tests/diagnostics/test_password_rule_capture.py."""
from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import AuditEvent
from mailsettings.models import MailAccount
from mailsettings.services import mail_account_disable, mail_account_enable, mail_account_record_check
from tests.factories import account_create
from tests.helpers import SENTINEL

pytestmark = pytest.mark.django_db

OWN_LOGIN = {"smtp_same_credentials": False, "smtp_username": "sender@example.com", "smtp_password": "smtp secret"}


def detail(account) -> str:
    return f"/api/v1/mail-accounts/{account.pk}/"


def refused_fields(response) -> set[str]:
    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert error["code"] == "password_required"
    return set(error["fields"])


# --- the owner (anyone acting on their own account) brings the password ---------------------------------------

@pytest.mark.parametrize("change", [
    {"incoming_host": "imap.elsewhere.example"}, {"incoming_port": 143}, {"incoming_security": "starttls"},
    {"protocol": "pop3"}, {"incoming_username": "someone-else@example.com"},
])
def test_the_owner_changing_where_the_incoming_password_goes_must_send_it(api_as, user_s, change):
    account = account_create(user_s, **OWN_LOGIN)
    response = api_as(user_s).patch(detail(account), change, format="json")
    assert refused_fields(response) == {"incoming_password"}
    assert "sent only to the server it was entered for" in response.json()["error"]["fields"]["incoming_password"][0]
    after = MailAccount.objects.get(pk=account.pk)
    assert [getattr(after, name) for name in change] == [getattr(account, name) for name in change]
    assert not AuditEvent.objects.filter(action="mail_account.updated").exists()
    ok = api_as(user_s).patch(detail(account), {**change, "incoming_password": "new one"}, format="json")
    assert ok.status_code == 200 and ok.json()["status"] == "pending"


@pytest.mark.parametrize("change", [{"smtp_host": "smtp.elsewhere.example"}, {"smtp_port": 465},
                                    {"smtp_security": "ssl"}])
def test_with_the_same_credentials_the_outgoing_server_needs_the_incoming_password(api_as, user_s, change):
    account = account_create(user_s)  # sending uses the incoming login
    assert refused_fields(api_as(user_s).patch(detail(account), change, format="json")) == {"incoming_password"}


@pytest.mark.parametrize("change", [{"smtp_host": "smtp.elsewhere.example"}, {"smtp_port": 465},
                                    {"smtp_security": "ssl"}, {"smtp_username": "other-sender@example.com"}])
def test_with_its_own_login_the_outgoing_server_needs_the_outgoing_password(api_as, user_s, change):
    account = account_create(user_s, **OWN_LOGIN)
    assert refused_fields(api_as(user_s).patch(detail(account), change, format="json")) == {"smtp_password"}
    ok = api_as(user_s).patch(detail(account), {**change, "smtp_password": "again"}, format="json")
    assert ok.status_code == 200


def test_switching_to_the_same_credentials_needs_the_incoming_password(api_as, user_s):
    account = account_create(user_s, **OWN_LOGIN)
    response = api_as(user_s).patch(detail(account), {"smtp_same_credentials": True}, format="json")
    assert refused_fields(response) == {"incoming_password"}


def test_a_change_of_both_servers_names_both_passwords(api_as, user_s):
    account = account_create(user_s, **OWN_LOGIN)
    body = {"incoming_host": "imap.elsewhere.example", "smtp_host": "smtp.elsewhere.example"}
    assert refused_fields(api_as(user_s).patch(detail(account), body, format="json")) == {
        "incoming_password", "smtp_password"}


def test_changes_that_send_no_password_elsewhere_need_none(api_as, user_s):
    account = account_create(user_s)
    body = {"save_sent_on_server": True, "address": "new-address@example.com", "incoming_host": "IMAP.example.com"}
    response = api_as(user_s).patch(detail(account), body, format="json")
    assert response.status_code == 200, response.json()  # the host is the same once normalized


def test_an_admin_changing_their_own_account_is_the_owner(api_as, admin_a):
    account = account_create(admin_a)
    response = api_as(admin_a).patch(detail(account), {"incoming_host": "imap.elsewhere.example"}, format="json")
    assert refused_fields(response) == {"incoming_password"}


# --- an admin or operator moving someone else's account: the password is cleared, the owner is asked -----------

def test_an_admins_move_clears_that_sides_password_and_audits_it(api_as, admin_a, user_s):
    account = account_create(user_s, **OWN_LOGIN)
    response = api_as(admin_a).patch(detail(account), {"incoming_host": "imap.moved.example"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "needs_password"
    account.refresh_from_db()
    assert (account.incoming_password, account.smtp_password) == ("", "smtp secret")  # only that side
    assert account.missing_passwords == ["incoming"]
    event = AuditEvent.objects.get(action="mail_account.updated")
    assert event.actor == admin_a and event.details["passwords_cleared"] == ["incoming_password"]
    assert SENTINEL not in str(event.details)


def test_moving_the_outgoing_server_of_a_same_credentials_account_clears_the_one_password(api_as, operator, user_s):
    account = account_create(user_s)
    response = api_as(operator).patch(detail(account), {"smtp_host": "smtp.moved.example"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "needs_password"
    account.refresh_from_db()
    assert account.incoming_password == "" and account.missing_passwords == ["incoming", "outgoing"]


def test_an_admins_move_with_the_password_keeps_it(api_as, admin_a, user_s):
    account = account_create(user_s)
    body = {"incoming_host": "imap.moved.example", "incoming_password": "typed by the admin"}
    response = api_as(admin_a).patch(detail(account), body, format="json")
    assert response.status_code == 200 and response.json()["status"] == "pending"


def test_the_owners_new_password_ends_the_wait(api_as, admin_a, user_s):
    account = account_create(user_s)
    api_as(admin_a).patch(detail(account), {"incoming_host": "imap.moved.example"}, format="json")
    response = api_as(user_s).post(f"{detail(account)}password/", {"password": "for the new server"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "pending"


def test_a_check_does_not_end_the_wait_and_turning_on_again_keeps_it(admin_a, user_s):
    from mailsettings.services import mail_account_update

    account = account_create(user_s)
    mail_account_update(actor=admin_a, account=account, data={"incoming_host": "imap.moved.example"})
    assert mail_account_record_check(account=account, status="connected")
    account.refresh_from_db()
    assert account.status == "needs_password" and account.last_checked_at is not None
    mail_account_disable(actor=user_s, account=account)
    account = mail_account_enable(actor=user_s, account=account)
    assert account.status == "needs_password"


# --- the Django admin's account form ----------------------------------------------------------------------------

def admin_form_data(account, **overrides) -> dict:
    data = {name: getattr(account, name) for name in (
        "address", "protocol", "incoming_host", "incoming_port", "incoming_security", "incoming_username",
        "smtp_host", "smtp_port", "smtp_security", "smtp_username")}
    data["smtp_same_credentials"] = "on" if account.smtp_same_credentials else ""
    data.update(overrides)
    return {key: value for key, value in data.items() if value != ""}


def test_the_admin_form_asks_for_the_password_on_the_own_account_and_saves_nothing_without_it(admin_a):
    account = account_create(admin_a)
    client = Client()
    client.force_login(admin_a)
    url = reverse("admin:mailsettings_mailaccount_change", args=[account.pk])
    page = client.get(url).content.decode()
    [box] = re.findall(r'<input[^>]*name="incoming_password"[^>]*>', page)
    assert 'data-rule-mode="require"' in box and "password_rule.js" in page
    refused = client.post(url, admin_form_data(account, incoming_host="imap.elsewhere.example"))
    assert refused.status_code == 200
    assert "incoming_password" in refused.context["adminform"].form.errors
    assert MailAccount.objects.get(pk=account.pk).incoming_host == "imap.example.com"
    saved = client.post(url, admin_form_data(account, incoming_host="imap.elsewhere.example",
                                             incoming_password="typed again"))
    assert saved.status_code == 302
    account.refresh_from_db()
    assert (account.incoming_host, account.incoming_password) == ("imap.elsewhere.example", "typed again")


def test_the_admin_form_on_someone_elses_account_says_the_password_will_be_removed(admin_a, user_s):
    account = account_create(user_s)
    client = Client()
    client.force_login(admin_a)
    url = reverse("admin:mailsettings_mailaccount_change", args=[account.pk])
    page = client.get(url).content.decode()
    [box] = re.findall(r'<input[^>]*name="incoming_password"[^>]*>', page)
    assert 'data-rule-mode="clear"' in box and "the owner asked for it" in box
    assert client.post(url, admin_form_data(account, smtp_port=465)).status_code == 302
    account.refresh_from_db()
    assert account.status == "needs_password" and account.incoming_password == ""


def test_an_empty_password_box_keeps_a_separate_outgoing_password(admin_a, user_s):
    account = account_create(user_s, **OWN_LOGIN)
    client = Client()
    client.force_login(admin_a)
    url = reverse("admin:mailsettings_mailaccount_change", args=[account.pk])
    assert client.post(url, admin_form_data(account, save_sent_on_server="on")).status_code == 302
    account.refresh_from_db()
    assert (account.save_sent_on_server, account.smtp_password, account.status) == (True, "smtp secret", "pending")


# --- the owner's pages ask for it ---------------------------------------------------------------------------------

def test_the_owners_page_asks_for_the_password_of_the_new_server(admin_a, user_s, api_as):
    account = account_create(user_s, **OWN_LOGIN)
    api_as(admin_a).patch(detail(account), {"smtp_host": "smtp.moved.example"}, format="json")
    client = Client()
    client.force_login(user_s)
    page = client.get(reverse("email-settings")).content.decode()
    assert 'id="password-needed"' in page and "Enter your password for the new server" in page
    form = client.get(reverse("email-password"))
    assert form.context["form"]["apply_to"].value() == "outgoing"  # the side whose password was removed


def test_the_owners_page_asks_in_japanese_too(admin_a, user_s, api_as):
    account = account_create(user_s)
    api_as(admin_a).patch(detail(account), {"incoming_port": 143}, format="json")
    user_s.language = "ja"
    user_s.save(update_fields=["language"])
    client = Client()
    client.force_login(user_s)
    page = client.get(reverse("email-settings")).content.decode()
    assert 'id="password-needed"' in page and "Enter your password for the new server" not in page
