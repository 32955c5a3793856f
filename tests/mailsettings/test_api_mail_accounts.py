"""The mail-accounts API with each persona: user S and admin A of organization 1, admin X of organization 2."""
from __future__ import annotations

import pytest

from accounts.models import AuditEvent
from mailsettings.models import MailAccount
from tests.factories import account_create, account_data
from tests.helpers import SENTINEL

pytestmark = pytest.mark.django_db

LIST = "/api/v1/mail-accounts/"
IN_USE = (
    "This address is already configured with IMAP/POP3 in another account and can't be used here. "
    "Use a different address, or ask the account that uses it to turn IMAP/POP3 off."
)


def detail(account) -> str:
    return f"{LIST}{account.pk}/"


def error(response) -> dict:
    return response.json()["error"]


# --- register ------------------------------------------------------------------------------------------------


def test_a_standard_user_registers_their_own_account_and_never_gets_a_password_back(api_as, user_s):
    response = api_as(user_s).post(LIST, account_data(), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["owner"] == user_s.pk
    assert body["address"] == "alice@example.com"
    assert body["incoming_username"] == "alice@example.com"  # defaults to the address
    assert body["status"] == "pending"
    assert body["warnings"] == []
    assert not any("password" in key for key in body)
    assert set(body) >= {"id", "status", "last_checked_at", "last_error_code", "warnings", "created_at", "updated_at"}
    account = MailAccount.objects.get(pk=body["id"])
    assert account.organization_id == user_s.organization_id
    assert account.incoming_password == SENTINEL


def test_an_admin_registers_for_a_user_of_their_organization(api_as, admin_a, user_s):
    response = api_as(admin_a).post(LIST, account_data(owner=user_s.pk), format="json")
    assert response.status_code == 201
    assert response.json()["owner"] == user_s.pk


def test_a_standard_user_cannot_register_for_a_colleague(api_as, user_s, admin_b):
    response = api_as(user_s).post(LIST, account_data(owner=admin_b.pk), format="json")
    assert response.status_code == 404
    assert not MailAccount.objects.exists()


def test_an_admin_of_another_organization_cannot_register_for_user_s(api_as, admin_x, user_s):
    response = api_as(admin_x).post(LIST, account_data(owner=user_s.pk), format="json")
    assert response.status_code == 404
    assert error(response)["code"] == "not_found"


def test_anonymous_callers_are_refused(api):
    assert api.get(LIST).status_code == 401
    assert api.post(LIST, account_data(), format="json").status_code == 401


def test_invalid_fields_are_400_invalid_per_field(api_as, user_s):
    body = account_data(
        address="not an address", incoming_host="https://imap.example.com", incoming_port=70000,
        smtp_security="tls", protocol="smtp",
    )
    response = api_as(user_s).post(LIST, body, format="json")
    assert response.status_code == 400
    fields = error(response)["fields"]
    assert error(response)["code"] == "invalid"
    assert set(fields) == {"address", "incoming_host", "incoming_port", "smtp_security", "protocol"}


def test_unusual_but_legal_settings_are_saved_with_warnings(api_as, user_s):
    body = account_data(incoming_security="starttls", smtp_port=2525)
    response = api_as(user_s).post(LIST, body, format="json")
    assert response.status_code == 201
    warnings = response.json()["warnings"]
    assert [w["code"] for w in warnings] == ["port_security_mismatch", "nonstandard_port"]
    assert all(set(w) == {"code", "message"} and w["message"] for w in warnings)


def test_a_second_account_of_one_user_is_409_account_exists(api_as, user_s):
    account_create(user_s)
    response = api_as(user_s).post(LIST, account_data("other@example.com"), format="json")
    assert response.status_code == 409
    assert error(response)["code"] == "account_exists"


@pytest.mark.parametrize(
    "second",
    ["Alice@Example.COM", "  alice@example.com ", "ALICE@EXAMPLE.COM"],
)
def test_case_and_spaces_collide_with_the_bound_address(api_as, user_s, admin_b, second):
    account_create(user_s, address="alice@example.com")
    response = api_as(admin_b).post(LIST, account_data(second), format="json")
    assert response.status_code == 409
    assert error(response)["code"] == "address_in_use"
    assert error(response)["message"] == IN_USE
    assert "fields" not in error(response)  # fields are for validation errors only


def test_an_idn_domain_collides_with_its_ascii_form(api_as, user_s, admin_b):
    account_create(user_s, address="taro@xn--r8jz45g.jp")
    response = api_as(admin_b).post(LIST, account_data("Taro@例え.jp"), format="json")
    assert response.status_code == 409
    assert error(response)["code"] == "address_in_use"


def test_plus_addressing_is_a_different_address(api_as, user_s, admin_b):
    account_create(user_s, address="alice@example.com")
    response = api_as(admin_b).post(LIST, account_data("alice+crm@example.com"), format="json")
    assert response.status_code == 201


def test_the_holder_is_shown_to_an_admin_of_its_organization(api_as, user_s, admin_a):
    account_create(user_s)
    response = api_as(admin_a).post(LIST, account_data("ALICE@example.com"), format="json")
    assert response.status_code == 409
    assert error(response)["holder"] == {"id": user_s.pk, "email": user_s.email}


def test_the_holder_is_hidden_from_a_standard_user_of_the_same_organization(api_as, admin_b, user_s):
    account_create(admin_b)
    response = api_as(user_s).post(LIST, account_data(), format="json")
    assert response.status_code == 409
    assert "holder" not in error(response)
    assert admin_b.email not in response.content.decode()


def test_the_holder_is_hidden_from_an_admin_of_another_organization(api_as, user_s, admin_x):
    account_create(user_s)
    response = api_as(admin_x).post(LIST, account_data(), format="json")
    assert response.status_code == 409
    assert error(response)["message"] == IN_USE
    assert "holder" not in error(response)
    assert user_s.email not in response.content.decode()


# --- list and detail -------------------------------------------------------------------------------------------


@pytest.fixture
def accounts(user_s, admin_a, admin_x):
    return {
        "s": account_create(user_s, address="s@example.com"),
        "a": account_create(admin_a, address="a@example.com", protocol="pop3", incoming_port=995),
        "x": account_create(admin_x, address="x@example.org"),
    }


def addresses(response) -> list[str]:
    return sorted(row["address"] for row in response.json()["results"])


def test_a_standard_user_lists_only_their_own(api_as, user_s, accounts):
    response = api_as(user_s).get(LIST)
    assert response.status_code == 200
    assert set(response.json()) == {"count", "next", "previous", "results"}
    assert addresses(response) == ["s@example.com"]


def test_an_admin_lists_their_organization_only(api_as, admin_a, admin_x, accounts):
    assert addresses(api_as(admin_a).get(LIST)) == ["a@example.com", "s@example.com"]
    assert addresses(api_as(admin_x).get(LIST)) == ["x@example.org"]


def test_the_list_filters_by_status_protocol_owner_and_address(api_as, admin_a, user_s, accounts):
    client = api_as(admin_a)
    assert addresses(client.get(LIST, {"protocol": "pop3"})) == ["a@example.com"]
    assert addresses(client.get(LIST, {"owner": user_s.pk})) == ["s@example.com"]
    assert addresses(client.get(LIST, {"address": "S@Example.com"})) == ["s@example.com"]
    assert addresses(client.get(LIST, {"status": "disabled"})) == []
    client.delete(detail(accounts["s"]))
    assert addresses(client.get(LIST, {"status": "disabled"})) == ["s@example.com"]
    assert client.get(LIST, {"status": "nonsense"}).status_code == 400


@pytest.mark.parametrize("owner", [str(10**25), "-" + str(10**25), "1.5", "x"])
def test_an_owner_id_out_of_range_or_not_whole_is_400_on_the_field_not_a_500(api_as, admin_a, owner):
    response = api_as(admin_a).get(LIST, {"owner": owner})
    assert response.status_code == 400
    assert error(response)["code"] == "invalid" and "owner" in error(response)["fields"]


def test_the_list_is_paginated(api_as, admin_a, accounts):
    body = api_as(admin_a).get(LIST, {"page_size": 1}).json()
    assert body["count"] == 2
    assert len(body["results"]) == 1
    assert body["next"]


@pytest.mark.parametrize(
    ("persona", "target", "expected"),
    [
        ("user_s", "s", 200), ("user_s", "a", 404), ("user_s", "x", 404),
        ("admin_a", "s", 200), ("admin_a", "a", 200), ("admin_a", "x", 404),
        ("admin_x", "s", 404), ("admin_x", "a", 404), ("admin_x", "x", 200),
    ],
)
def test_each_persona_reaches_exactly_the_accounts_it_may(api_as, request, accounts, persona, target, expected):
    client = api_as(request.getfixturevalue(persona))
    account = accounts[target]
    assert client.get(detail(account)).status_code == expected
    patched = client.patch(detail(account), {"save_sent_on_server": True}, format="json")
    assert patched.status_code == expected
    password = client.post(f"{detail(account)}password/", {"password": "n3w pass"}, format="json")
    assert password.status_code == expected
    deleted = client.delete(detail(account))
    assert deleted.status_code == expected
    enabled = client.post(f"{detail(account)}enable/")
    assert enabled.status_code == expected
    if expected == 404:
        for response in (patched, password, deleted, enabled):
            assert error(response)["code"] == "not_found"  # never a 403 that confirms it exists
        account.refresh_from_db()
        assert account.is_active and account.save_sent_on_server is False


def test_an_unknown_id_is_404(api_as, admin_a):
    assert api_as(admin_a).get(f"{LIST}999999/").status_code == 404


# --- update ---------------------------------------------------------------------------------------------------


def test_patch_changes_only_the_fields_given_and_makes_the_account_pending_again(api_as, user_s):
    from mailsettings.services import mail_account_record_check

    account = account_create(user_s)
    mail_account_record_check(account=account, status="connected")
    response = api_as(user_s).patch(
        detail(account), {"incoming_host": "IMAP2.Example.com", "incoming_password": "for the new server"},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["incoming_host"] == "imap2.example.com"
    assert body["status"] == "pending"
    assert body["smtp_host"] == "smtp.example.com"
    event = AuditEvent.objects.filter(action="mail_account.updated").get()
    assert event.details["fields"] == ["incoming_host", "incoming_password"]


def test_patch_to_a_taken_address_is_409(api_as, user_s, admin_b):
    account_create(admin_b, address="taken@example.com")
    account = account_create(user_s)
    response = api_as(user_s).patch(detail(account), {"address": "Taken@example.com"}, format="json")
    assert response.status_code == 409
    assert error(response)["code"] == "address_in_use"
    account.refresh_from_db()
    assert account.address == "alice@example.com"


def test_patch_with_separate_smtp_credentials_needs_a_username_and_password(api_as, user_s):
    account = account_create(user_s)
    client = api_as(user_s)
    response = client.patch(detail(account), {"smtp_same_credentials": False}, format="json")
    assert response.status_code == 400
    assert set(error(response)["fields"]) == {"smtp_username", "smtp_password"}
    response = client.patch(
        detail(account),
        {"smtp_same_credentials": False, "smtp_username": "sender", "smtp_password": "other secret"},
        format="json",
    )
    assert response.status_code == 200
    account.refresh_from_db()
    assert (account.effective_smtp_username, account.effective_smtp_password) == ("sender", "other secret")


# --- disable, enable ------------------------------------------------------------------------------------------


def test_delete_turns_the_account_off_and_frees_the_address(api_as, user_s, admin_b):
    account = account_create(user_s)
    response = api_as(user_s).delete(detail(account))
    assert response.status_code == 200
    assert response.json()["status"] == "disabled"
    assert MailAccount.objects.filter(pk=account.pk).exists()  # kept for history
    assert api_as(admin_b).post(LIST, account_data(), format="json").status_code == 201


def test_delete_twice_changes_nothing_the_second_time(api_as, user_s):
    account = account_create(user_s)
    client = api_as(user_s)
    client.delete(detail(account))
    assert client.delete(detail(account)).status_code == 200
    assert AuditEvent.objects.filter(action="mail_account.disabled").count() == 1


def test_enable_brings_the_account_back_while_the_address_is_free(api_as, user_s):
    account = account_create(user_s)
    client = api_as(user_s)
    client.delete(detail(account))
    response = client.post(f"{detail(account)}enable/")
    assert response.status_code == 200
    assert response.json()["status"] == "pending"


def test_enable_rechecks_the_address(api_as, user_s, admin_a, admin_b):
    account = account_create(user_s)
    api_as(user_s).delete(detail(account))
    account_create(admin_b)  # took the freed address meanwhile
    response = api_as(admin_a).post(f"{detail(account)}enable/")
    assert response.status_code == 409
    assert error(response)["code"] == "address_in_use"
    assert error(response)["holder"] == {"id": admin_b.pk, "email": admin_b.email}
    account.refresh_from_db()
    assert account.status == "disabled"


def test_enable_rechecks_the_owner_has_no_other_active_account(api_as, user_s):
    account = account_create(user_s)
    client = api_as(user_s)
    client.delete(detail(account))
    account_create(user_s, address="second@example.com")
    response = client.post(f"{detail(account)}enable/")
    assert response.status_code == 409
    assert error(response)["code"] == "account_exists"


# --- password -------------------------------------------------------------------------------------------------


def test_a_password_change_defaults_to_both_servers_with_same_credentials(api_as, user_s):
    account = account_create(user_s)
    response = api_as(user_s).post(f"{detail(account)}password/", {"password": "fresh one"}, format="json")
    assert response.status_code == 200
    account.refresh_from_db()
    assert (account.incoming_password, account.effective_smtp_password) == ("fresh one", "fresh one")
    event = AuditEvent.objects.get(action="mail_account.password_changed")
    assert event.details["apply_to"] == "both"
    assert event.details["fields"] == ["incoming_password"]


@pytest.mark.parametrize(
    ("apply_to", "incoming", "outgoing"),
    [("incoming", "fresh one", SENTINEL), ("outgoing", SENTINEL, "fresh one"), ("both", "fresh one", "fresh one")],
)
def test_a_password_change_applies_where_asked(api_as, user_s, apply_to, incoming, outgoing):
    account = account_create(user_s)
    response = api_as(user_s).post(
        f"{detail(account)}password/", {"password": "fresh one", "apply_to": apply_to}, format="json"
    )
    assert response.status_code == 200
    account.refresh_from_db()
    assert account.incoming_password == incoming
    assert account.effective_smtp_password == outgoing
    assert account.effective_smtp_username == "alice@example.com"


@pytest.mark.parametrize(
    ("apply_to", "incoming", "outgoing"),
    [("incoming", "fresh one", "smtp secret"), ("outgoing", SENTINEL, "fresh one"), ("both", "fresh one", "fresh one")],
)
def test_a_password_change_with_separate_credentials(api_as, user_s, apply_to, incoming, outgoing):
    account = account_create(
        user_s, smtp_same_credentials=False, smtp_username="sender", smtp_password="smtp secret"
    )
    response = api_as(user_s).post(
        f"{detail(account)}password/", {"password": "fresh one", "apply_to": apply_to}, format="json"
    )
    assert response.status_code == 200
    account.refresh_from_db()
    assert (account.incoming_password, account.smtp_password) == (incoming, outgoing)


def test_separate_credentials_need_an_explicit_apply_to(api_as, user_s):
    account = account_create(
        user_s, smtp_same_credentials=False, smtp_username="sender", smtp_password="smtp secret"
    )
    response = api_as(user_s).post(f"{detail(account)}password/", {"password": "fresh one"}, format="json")
    assert response.status_code == 400
    assert "apply_to" in error(response)["fields"]
    response = api_as(user_s).post(
        f"{detail(account)}password/", {"password": "fresh one", "apply_to": "sideways"}, format="json"
    )
    assert response.status_code == 400


def test_an_empty_password_is_refused(api_as, user_s):
    account = account_create(user_s)
    response = api_as(user_s).post(f"{detail(account)}password/", {"password": ""}, format="json")
    assert response.status_code == 400
    assert "password" in error(response)["fields"]
