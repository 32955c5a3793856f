"""A locked admin cannot get around the lock: no adding users, no changing roles, emails or active state, no
setting passwords, no locking others — in the services, the API and the Django admin (messages, never a 500).
Releasing other people's locks stays allowed. Admin B is locked by admin A in every test here."""
from __future__ import annotations

import pytest
from django.urls import reverse

from accounts import services as account_services
from accounts.models import AuditEvent, User
from locks.errors import LockedAdminRestricted
from locks.models import SettingsLock
from locks.services import settings_lock_create
from tests.helpers import messages_of, signed_in

pytestmark = pytest.mark.django_db

RESTRICTED = (
    "Your mail settings are locked, so you can't manage users or locks until another administrator unlocks them."
)
PASSWORD = "a long enough new password 42"


@pytest.fixture
def locked_b(admin_a, admin_b):
    settings_lock_create(actor=admin_a, user=admin_b, reason="investigation")
    return admin_b


def change_data(user, **overrides) -> dict:
    data = {"email": user.email, "full_name": user.full_name, "language": user.language, "role": user.role,
            "is_active": "on" if user.is_active else ""}
    data.update(overrides)
    return {k: v for k, v in data.items() if v != ""}


# --- services -----------------------------------------------------------------------------------------------


def test_the_locks_app_registered_its_guard_with_accounts():
    from locks.services import locked_admin_check

    assert locked_admin_check in account_services.user_management_guards


def test_a_locked_admin_is_refused_every_guarded_user_operation(locked_b, admin_a, user_s, org1):
    with pytest.raises(LockedAdminRestricted):
        account_services.user_create(
            organization=org1, email="new@acme.test", password=PASSWORD, role="standard", actor=locked_b
        )
    for changes in ({"role": "admin"}, {"email": "other@acme.test"}, {"is_active": False}):
        with pytest.raises(LockedAdminRestricted):
            account_services.user_update(actor=locked_b, user=user_s, changes=changes)
    with pytest.raises(LockedAdminRestricted):
        account_services.user_set_password(actor=locked_b, user=admin_a, password=PASSWORD)
    user_s.refresh_from_db()
    assert (user_s.role, user_s.email, user_s.is_active) == ("standard", "user.s@acme.test", True)
    assert not User.objects.filter(email="new@acme.test").exists()
    assert not AuditEvent.objects.filter(action__in=["user.created", "user.updated", "user.password_set"]).exists()


def test_a_locked_admin_may_still_correct_a_name_or_a_language(locked_b, user_s):
    account_services.user_update(actor=locked_b, user=user_s, changes={"full_name": "Sam", "language": "ja"})
    user_s.refresh_from_db()
    assert (user_s.full_name, user_s.language) == ("Sam", "ja")


def test_once_unlocked_the_admin_manages_users_again(locked_b, admin_a, user_s):
    from locks.services import settings_lock_release

    settings_lock_release(actor=admin_a, user=locked_b)
    account_services.user_update(actor=locked_b, user=user_s, changes={"role": "admin"})
    assert User.objects.get(pk=user_s.pk).role == "admin"


# --- the API --------------------------------------------------------------------------------------------------


def test_a_locked_admin_locking_another_user_is_403_locked_admin_restricted(locked_b, admin_a, api_as):
    response = api_as(locked_b).post(f"/api/v1/users/{admin_a.pk}/settings-lock/", {"reason": "revenge"})
    assert response.status_code == 403
    assert response.json()["error"] == {"code": "locked_admin_restricted", "message": RESTRICTED}
    assert not SettingsLock.objects.filter(user=admin_a).exists()


def test_a_locked_admin_still_unlocks_a_user_another_admin_locked(locked_b, admin_a, org1, api_as):
    user_c = User.objects.create_user("user.c@acme.test", "pw", organization=org1, role="standard")
    settings_lock_create(actor=admin_a, user=user_c)
    response = api_as(locked_b).delete(f"/api/v1/users/{user_c.pk}/settings-lock/")
    assert response.status_code == 200
    assert SettingsLock.objects.get(user=user_c).released_by == locked_b


# --- the Django admin: messages, never a 500 ----------------------------------------------------------------


def test_a_locked_admin_cannot_add_a_user_in_the_admin(locked_b):
    client = signed_in(locked_b)
    add = reverse("admin:accounts_user_add")
    page = client.get(add, follow=True)
    assert page.status_code == 200 and RESTRICTED in messages_of(page)
    response = client.post(add, {"email": "new@acme.test", "full_name": "New", "role": "standard",
                                 "organization": locked_b.organization_id, "language": "", "password": PASSWORD},
                           follow=True)
    assert response.status_code == 200 and RESTRICTED in messages_of(response)
    assert not User.objects.filter(email="new@acme.test").exists()


def test_a_locked_admin_cannot_promote_a_user_in_the_admin(locked_b, user_s):
    url = reverse("admin:accounts_user_change", args=[user_s.pk])
    response = signed_in(locked_b).post(url, change_data(user_s, role="admin"), follow=True)
    assert response.status_code == 200 and RESTRICTED in messages_of(response)
    user_s.refresh_from_db()
    assert user_s.role == "standard"
    assert not AuditEvent.objects.filter(action="user.updated").exists()


def test_a_locked_admin_cannot_set_another_admins_password_in_the_admin(locked_b, admin_a):
    url = reverse("admin:auth_user_password_change", args=[admin_a.pk])
    response = signed_in(locked_b).post(url, {"password1": PASSWORD, "password2": PASSWORD,
                                              "usable_password": "true", "set-password": "1"}, follow=True)
    assert response.status_code == 200 and RESTRICTED in messages_of(response)
    admin_a.refresh_from_db()
    assert admin_a.check_password("correct horse battery") and not admin_a.check_password(PASSWORD)
    assert not AuditEvent.objects.filter(action="user.password_set").exists()


def test_a_locked_admin_cannot_lock_anyone_on_the_mail_users_page(locked_b, admin_a):
    url = reverse("admin:locks_mailuser_lock", args=[admin_a.pk])
    response = signed_in(locked_b).post(url, {"reason": ""}, follow=True)
    assert response.status_code == 200
    assert f"{admin_a.email}: {RESTRICTED}" in messages_of(response)
    assert not SettingsLock.objects.filter(user=admin_a).exists()
