"""The lock API and the persona matrix of docs/scenarios.md T7/T9 — the one matrix of locked users on every
mail-settings endpoint: A locks S, S is refused everywhere; A locks B, B is refused their own settings, still manages
the others' and cannot unlock themselves; A unlocks B; X of another organization sees and changes nothing (404)."""
import pytest

from locks.models import SettingsLock
from locks.services import settings_lock_create
from mailsettings.models import MailAccount
from tests.factories import account_make
from tests.helpers import LOCKED_MESSAGE, OWN_LOCK_MESSAGE

pytestmark = pytest.mark.django_db


def lock_url(user) -> str:
    return f"/api/v1/users/{user.pk}/settings-lock/"


# --- POST / DELETE /api/v1/users/{id}/settings-lock/ ---------------------------------------------------------


def test_an_admin_locks_a_user_and_gets_the_lock(api_as, admin_a, user_s):
    response = api_as(admin_a).post(lock_url(user_s), {"reason": "Leaving on Friday"}, format="json")
    assert response.status_code == 201
    body = response.json()
    lock = SettingsLock.objects.get()
    assert body["id"] == lock.pk
    assert body["user"] == {"id": user_s.pk, "email": "user.s@acme.test"}
    assert (body["active"], body["locked_by"], body["reason"]) == (True, "Admin.A", "Leaving on Friday")
    assert body["locked_at"] and body["released_at"] is None and body["released_by"] is None


def test_a_lock_needs_no_reason(api_as, admin_a, user_s):
    response = api_as(admin_a).post(lock_url(user_s))
    assert response.status_code == 201 and response.json()["reason"] == ""


def test_another_admin_unlocks_and_gets_the_released_lock(api_as, admin_a, admin_b, user_s):
    settings_lock_create(actor=admin_a, user=user_s)
    response = api_as(admin_b).delete(lock_url(user_s), {"reason": "Back from leave"}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert (body["active"], body["released_by"], body["release_reason"]) == (False, "Admin.B", "Back from leave")
    assert body["locked_by"] == "Admin.A" and body["released_at"]


def test_locking_a_locked_user_is_409_already_locked(api_as, admin_a, admin_b, user_s):
    api_as(admin_a).post(lock_url(user_s))
    response = api_as(admin_b).post(lock_url(user_s))
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "already_locked" and error["locked_by"] == "Admin.A"


def test_unlocking_a_user_without_a_lock_is_409_not_locked(api_as, admin_a, user_s):
    response = api_as(admin_a).delete(lock_url(user_s))
    assert response.status_code == 409 and response.json()["error"]["code"] == "not_locked"


def test_a_standard_user_may_not_lock_or_unlock(api_as, user_s, admin_a, admin_b):
    client = api_as(user_s)
    response = client.post(lock_url(admin_a))
    assert response.status_code == 403 and response.json()["error"]["code"] == "permission_denied"
    settings_lock_create(actor=admin_a, user=admin_b)
    response = client.delete(lock_url(admin_b))
    assert response.status_code == 403 and response.json()["error"]["code"] == "permission_denied"
    assert SettingsLock.objects.filter(released_at__isnull=True).count() == 1


def test_an_unknown_user_is_404(api_as, admin_a):
    response = api_as(admin_a).post("/api/v1/users/999999/settings-lock/")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_anonymous_callers_are_401(api, user_s):
    assert api.post(lock_url(user_s)).status_code == 401
    assert api.delete(lock_url(user_s)).status_code == 401


def test_a_too_long_reason_is_400_on_the_field(api_as, admin_a, user_s):
    response = api_as(admin_a).post(lock_url(user_s), {"reason": "x" * 501}, format="json")
    assert response.status_code == 400 and "reason" in response.json()["error"]["fields"]


# --- /api/v1/me/ shows the lock to the locked user ---------------------------------------------------------


def test_me_shows_the_lock_who_locked_when_and_why(api_as, admin_a, user_s):
    lock = settings_lock_create(actor=admin_a, user=user_s, reason="Security review")
    body = api_as(user_s).get("/api/v1/me/").json()
    assert body["mail_settings_locked"] is True
    assert body["lock"]["locked_by"] == "Admin.A" and body["lock"]["reason"] == "Security review"
    assert body["lock"]["locked_at"].replace("Z", "+00:00")[:19] == lock.locked_at.isoformat()[:19]
    assert set(body["lock"]) == {"locked_by", "locked_at", "reason"}


def test_me_shows_no_lock_once_released(api_as, admin_a, admin_b, user_s):
    settings_lock_create(actor=admin_a, user=user_s)
    api_as(admin_b).delete(lock_url(user_s))
    body = api_as(user_s).get("/api/v1/me/").json()
    assert body["mail_settings_locked"] is False and body["lock"] is None


def test_me_survives_the_locking_admin_being_removed(api_as, admin_a, user_s):
    settings_lock_create(actor=admin_a, user=user_s)
    admin_a.delete()
    body = api_as(user_s).get("/api/v1/me/").json()
    assert body["mail_settings_locked"] is True and body["lock"]["locked_by"] is None


# --- The persona matrix on the mail-settings endpoints -----------------------------------------------------

ACCOUNT_BODY = {
    "address": "user.s@acme.test", "protocol": "imap",
    "incoming_host": "imap.acme.test", "incoming_port": 993, "incoming_security": "ssl",
    "incoming_password": "secret-value", "smtp_host": "smtp.acme.test", "smtp_port": 587,
    "smtp_security": "starttls", "smtp_same_credentials": True, "save_sent_on_server": False,
}


def own_account_requests(account) -> list[tuple[str, str, dict | None]]:
    """Every operation a user performs on their own mail settings ."""
    base = f"/api/v1/mail-accounts/{account.pk}/"
    return [
        ("get", "/api/v1/mail-accounts/", None),
        ("get", base, None),
        ("patch", base, {"incoming_port": 143, "incoming_security": "starttls"}),
        ("post", f"{base}password/", {"password": "new-secret", "apply_to": "both"}),
        ("delete", base, None),
        ("post", f"{base}enable/", None),
        ("post", f"{base}diagnostics/", None),
    ]


def assert_locked(response) -> None:
    assert response.status_code == 403, (response.status_code, response.content[:300])
    error = response.json()["error"]
    assert error["code"] == "settings_locked"
    assert error["message"] == LOCKED_MESSAGE
    assert error["locked_by"] == "Admin.A" and error["locked_at"]


def test_a_locked_standard_user_is_refused_on_every_mail_settings_endpoint(api_as, admin_a, user_s):
    account = account_make(user_s)
    api_as(admin_a).post(lock_url(user_s))
    client = api_as(user_s)
    for method, url, data in own_account_requests(account):
        assert_locked(getattr(client, method)(url, data, format="json"))
    other = "/api/v1/mail-accounts/"
    assert_locked(client.post(other, {**ACCOUNT_BODY, "address": "second@acme.test"}, format="json"))
    account.refresh_from_db()
    assert (account.incoming_port, account.disabled_at) == (993, None)


def test_a_locked_standard_user_with_no_account_cannot_register_one(api_as, admin_a, user_s):
    api_as(admin_a).post(lock_url(user_s))
    assert_locked(api_as(user_s).post("/api/v1/mail-accounts/", ACCOUNT_BODY, format="json"))


def test_the_admin_who_locked_still_manages_the_locked_users_account(api_as, admin_a, user_s):
    account = account_make(user_s)
    api_as(admin_a).post(lock_url(user_s))
    client = api_as(admin_a)
    assert client.get(f"/api/v1/mail-accounts/{account.pk}/").status_code == 200
    response = client.patch(f"/api/v1/mail-accounts/{account.pk}/", {"save_sent_on_server": True}, format="json")
    assert response.status_code == 200
    response = client.post(f"/api/v1/mail-accounts/{account.pk}/password/", {"password": "reset"}, format="json")
    assert response.status_code == 200
    assert MailAccount.objects.get(pk=account.pk).incoming_password == "reset"


def test_a_locked_admin_is_refused_their_own_settings_and_cannot_unlock_themselves(api_as, admin_a, admin_b):
    account = account_make(admin_b)
    assert api_as(admin_a).post(lock_url(admin_b)).status_code == 201
    client = api_as(admin_b)
    for method, url, data in own_account_requests(account)[1:]:  # the list still shows them the others' accounts
        assert_locked(getattr(client, method)(url, data, format="json"))
    response = client.delete(lock_url(admin_b))
    assert response.status_code == 403
    assert response.json()["error"] == {"code": "cannot_unlock_own_settings", "message": OWN_LOCK_MESSAGE}
    assert SettingsLock.objects.get(user=admin_b).is_active


def test_a_locked_admin_still_manages_the_other_users_accounts(api_as, admin_a, admin_b, user_s):
    other = account_make(user_s)
    api_as(admin_a).post(lock_url(admin_b))
    client = api_as(admin_b)
    url = f"/api/v1/mail-accounts/{other.pk}/"
    assert client.patch(url, {"save_sent_on_server": True}, format="json").status_code == 200
    assert client.delete(url).status_code == 200
    body = {**ACCOUNT_BODY, "address": "fresh@acme.test", "owner": user_s.pk}
    assert client.post("/api/v1/mail-accounts/", body, format="json").status_code == 201


def test_a_locked_admins_list_leaves_out_their_own_account(api_as, admin_a, admin_b, user_s):
    account_make(admin_b)
    account_make(user_s)
    api_as(admin_a).post(lock_url(admin_b))
    body = api_as(admin_b).get("/api/v1/mail-accounts/").json()
    assert [row["address"] for row in body["results"]] == ["user.s@acme.test"]


def test_admin_a_unlocks_admin_b_who_gets_their_settings_back(api_as, admin_a, admin_b):
    account = account_make(admin_b)
    api_as(admin_a).post(lock_url(admin_b))
    assert api_as(admin_a).delete(lock_url(admin_b)).status_code == 200
    client = api_as(admin_b)
    assert client.get(f"/api/v1/mail-accounts/{account.pk}/").status_code == 200
    assert client.get("/api/v1/me/").json()["mail_settings_locked"] is False


@pytest.mark.parametrize("method", ["post", "delete"])
def test_an_admin_of_another_organization_cannot_lock_or_unlock_anyone_of_organization_1(
    api_as, admin_a, admin_b, user_s, admin_x, method
):
    settings_lock_create(actor=admin_a, user=admin_b)
    client = api_as(admin_x)
    for target in (admin_a, admin_b, user_s):
        response = getattr(client, method)(lock_url(target))
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert SettingsLock.objects.filter(released_at__isnull=True).count() == 1


def test_an_admin_of_another_organization_sees_nobody_of_organization_1(api_as, admin_a, user_s, admin_x):
    account = account_make(user_s)
    settings_lock_create(actor=admin_a, user=user_s)
    client = api_as(admin_x)
    emails = [row["email"] for row in client.get("/api/v1/users/").json()["results"]]
    assert emails == ["admin.x@globex.test"]
    events = client.get("/api/v1/audit-events/").json()["results"]
    assert [event["action"] for event in events] == ["token.issued"]  # X's own sign-in token, nothing of Acme
    assert client.get(f"/api/v1/mail-accounts/{account.pk}/").status_code == 404
