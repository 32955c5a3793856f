"""Every mail-accounts endpoint goes through the one access check, so a lock refuses in one place."""
from __future__ import annotations

import pytest

from locks.models import SettingsLock
from mailsettings.models import MailAccount
from tests.mailsettings.factories import account_create, account_data

pytestmark = pytest.mark.django_db

LIST = "/api/v1/mail-accounts/"


def lock(user, by):
    return SettingsLock.objects.create(user=user, organization=user.organization, locked_by=by, reason="audit")


def calls(account):
    url = f"{LIST}{account.pk}/"
    return [
        ("get", LIST, None),
        ("post", LIST, account_data("new@example.com")),
        ("get", url, None),
        ("patch", url, {"save_sent_on_server": True}),
        ("post", f"{url}password/", {"password": "x y z"}),
        ("delete", url, None),
        ("post", f"{url}enable/", None),
    ]


def test_a_locked_standard_user_is_refused_every_endpoint_with_the_lock_sentence(api_as, user_s, admin_a):
    account = account_create(user_s)
    lock(user_s, admin_a)
    client = api_as(user_s)
    for method, url, body in calls(account):
        response = getattr(client, method)(url, body, format="json")
        assert response.status_code == 403, (method, url)
        error = response.json()["error"]
        assert error["code"] == "settings_locked"
        assert error["message"] == (
            "You don't have permission to change these mail settings. Contact your organization's administrator."
        )
        assert error["locked_by"] and error["locked_at"]
    account.refresh_from_db()
    assert account.is_active and not account.save_sent_on_server


def test_a_locked_admin_is_refused_their_own_account_but_manages_the_others(api_as, admin_b, admin_a, user_s):
    own = account_create(admin_b, address="b@example.com")
    other = account_create(user_s, address="s@example.com")
    lock(admin_b, admin_a)
    client = api_as(admin_b)
    for method, url, body in calls(own)[2:]:
        assert getattr(client, method)(url, body, format="json").status_code == 403, (method, url)
    listed = [row["address"] for row in client.get(LIST).json()["results"]]
    assert listed == ["s@example.com"]
    assert client.patch(f"{LIST}{other.pk}/", {"save_sent_on_server": True}, format="json").status_code == 200
    assert client.delete(f"{LIST}{other.pk}/").status_code == 200
    response = client.post(LIST, account_data("fresh@example.com", owner=user_s.pk), format="json")
    assert response.status_code == 201


def test_the_other_admin_still_manages_the_locked_users_account(api_as, user_s, admin_a):
    account = account_create(user_s)
    lock(user_s, admin_a)
    client = api_as(admin_a)
    assert client.get(f"{LIST}{account.pk}/").status_code == 200
    assert client.post(f"{LIST}{account.pk}/password/", {"password": "reset"}, format="json").status_code == 200
    assert MailAccount.objects.get(pk=account.pk).incoming_password == "reset"
