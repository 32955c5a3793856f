"""GET /api/v1/users/: the admin's list of their organization's users, with mail binding and lock state."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from locks.services import settings_lock_create
from mailsettings.services import mail_account_disable
from tests.factories import account_make

pytestmark = pytest.mark.django_db

URL = "/api/v1/users/"


def rows_by_email(body) -> dict:
    return {row["email"]: row for row in body["results"]}


def test_an_admin_lists_every_user_of_their_organization_with_state(api_as, admin_a, admin_b, user_s, admin_x):
    account = account_make(user_s)
    settings_lock_create(actor=admin_a, user=user_s, reason="Review")
    body = api_as(admin_a).get(URL).json()
    assert set(body) == {"count", "next", "previous", "results"}
    rows = rows_by_email(body)
    assert list(rows) == ["admin.a@acme.test", "admin.b@acme.test", "user.s@acme.test"]
    assert rows["user.s@acme.test"]["role"] == "standard"
    assert rows["user.s@acme.test"]["has_mail_account"] is True
    assert rows["user.s@acme.test"]["mail_account"] == {
        "id": account.pk, "address": "user.s@acme.test", "protocol": "imap", "status": "pending",
    }
    assert rows["user.s@acme.test"]["mail_settings_locked"] is True
    assert rows["user.s@acme.test"]["lock"]["locked_by"] == "Admin.A"
    assert rows["user.s@acme.test"]["lock"]["reason"] == "Review"
    assert rows["admin.b@acme.test"]["has_mail_account"] is False
    assert rows["admin.b@acme.test"]["mail_account"] is None
    assert rows["admin.b@acme.test"]["lock"] is None and rows["admin.b@acme.test"]["mail_settings_locked"] is False


def test_no_password_ever_appears(api_as, admin_a, user_s):
    account_make(user_s, incoming_password="SENTINEL-pw-1234")
    assert b"SENTINEL" not in api_as(admin_a).get(URL).content


def test_a_turned_off_account_shows_its_status_but_is_no_binding(api_as, admin_a, user_s):
    account = account_make(user_s)
    mail_account_disable(actor=admin_a, account=account)
    row = rows_by_email(api_as(admin_a).get(URL).json())["user.s@acme.test"]
    assert row["has_mail_account"] is False and row["mail_account"]["status"] == "disabled"


def test_it_filters_by_lock_state_binding_and_role(api_as, admin_a, admin_b, user_s):
    account_make(admin_b)
    settings_lock_create(actor=admin_a, user=user_s)
    client = api_as(admin_a)
    assert list(rows_by_email(client.get(URL, {"locked": "true"}).json())) == ["user.s@acme.test"]
    assert list(rows_by_email(client.get(URL, {"has_mail_account": "true"}).json())) == ["admin.b@acme.test"]
    assert list(rows_by_email(client.get(URL, {"role": "standard"}).json())) == ["user.s@acme.test"]


def test_the_query_count_does_not_grow_with_the_users(api_as, admin_a, admin_b, user_s):
    client = api_as(admin_a)
    account_make(user_s)
    settings_lock_create(actor=admin_a, user=user_s)
    client.get(URL)  # the token's first use is recorded once; count the queries after it
    with CaptureQueriesContext(connection) as few:
        client.get(URL)
    account_make(admin_b)
    settings_lock_create(actor=admin_a, user=admin_b)
    with CaptureQueriesContext(connection) as more:
        client.get(URL)
    assert len(more) == len(few)


def test_an_admin_of_another_organization_sees_only_their_own(api_as, admin_a, user_s, admin_x):
    account_make(user_s)
    assert list(rows_by_email(api_as(admin_x).get(URL).json())) == ["admin.x@globex.test"]


def test_a_standard_user_may_not_list_users(api_as, user_s):
    response = api_as(user_s).get(URL)
    assert response.status_code == 403 and response.json()["error"]["code"] == "permission_denied"


def test_anonymous_callers_are_401(api):
    assert api.get(URL).status_code == 401
