"""The Django admin's "Security settings > Mail users" page, through Django's test client (docs/scenarios.md T7/T9)."""
import re

import pytest

from locks.models import SettingsLock
from locks.selectors import settings_lock_active
from locks.services import settings_lock_create, settings_lock_release
from tests import helpers
from tests.factories import account_make

pytestmark = pytest.mark.django_db

LIST = "/admin/locks/mailuser/"


def lock_url(user) -> str:
    return f"/admin/locks/mailuser/{user.pk}/lock/"


def unlock_url(user) -> str:
    return f"/admin/locks/mailuser/{user.pk}/unlock/"


def signed_in(user):
    """A test client that checks CSRF like a browser's session would."""
    return helpers.signed_in(user, enforce_csrf_checks=True)


def csrf_post(client, url, data=None, *, follow=True):
    """POST as the browser does: with the token from the page's form."""
    page = client.get(url)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    return client.post(url, {**(data or {}), "csrfmiddlewaretoken": token}, follow=follow)


def row_of(page: str, email: str) -> str:
    """The HTML of the list's row that holds this email."""
    for row in re.findall(r"<tr[^>]*>.*?</tr>", page, flags=re.S):
        if f">{email}<" in row:
            return row
    raise AssertionError(f"no row for {email}")


def emails_listed(page: str) -> list[str]:
    return re.findall(r'class="field-email">([^<]+)<', page)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def acme(admin_a, admin_b, user_s, admin_x):
    """S has a binding and is locked by A; B has a binding; X (Globex) has a binding."""
    account_make(user_s)
    account_make(admin_b, protocol="pop3", incoming_port=995)
    account_make(admin_x)
    settings_lock_create(actor=admin_a, user=user_s, reason="Security review")


# --- The list ---------------------------------------------------------------------------------------------------


def test_the_section_is_security_settings_with_a_mail_users_page(admin_a):
    page = signed_in(admin_a).get("/admin/").content.decode()
    assert "Security settings" in page and "Mail users" in page and LIST in page


def test_the_list_shows_bound_or_locked_users_of_the_organization_only(admin_a, acme):
    page = signed_in(admin_a).get(LIST).content.decode()
    assert emails_listed(page) == ["admin.b@acme.test", "user.s@acme.test"]  # A: no binding, no lock
    assert "globex" not in page


def test_a_row_shows_address_protocol_status_and_lock(admin_a, acme):
    page = signed_in(admin_a).get(LIST).content.decode()
    row = row_of(page, "user.s@acme.test")
    assert "IMAP" in row and "Not checked yet" in row and "Locked by Admin.A" in row
    row = row_of(page, "admin.b@acme.test")
    assert "POP3" in row and "Not locked" in row


def test_locked_rows_have_unlock_and_unlocked_rows_have_lock(admin_a, admin_b, user_s, acme):
    page = signed_in(admin_a).get(LIST).content.decode()
    assert unlock_url(user_s) in row_of(page, "user.s@acme.test")
    assert "Unlock settings" in row_of(page, "user.s@acme.test")
    assert lock_url(admin_b) in row_of(page, "admin.b@acme.test")
    assert "Lock settings" in row_of(page, "admin.b@acme.test")


def test_the_own_locked_row_has_no_button_and_says_to_ask_another_admin(admin_a, admin_b, acme):
    settings_lock_create(actor=admin_a, user=admin_b)
    row = row_of(signed_in(admin_b).get(LIST).content.decode(), "admin.b@acme.test")
    assert "ask another administrator to unlock" in row
    assert "/unlock/" not in row and "/lock/" not in row


def test_the_own_unlocked_row_offers_no_lock_button(admin_b, acme):
    row = row_of(signed_in(admin_b).get(LIST).content.decode(), "admin.b@acme.test")
    assert "/lock/" not in row and "Lock settings" not in row


def test_all_users_shows_people_without_mail_settings_too(admin_a, acme):
    page = signed_in(admin_a).get(LIST, {"shown": "all"}).content.decode()
    assert emails_listed(page) == ["admin.a@acme.test", "admin.b@acme.test", "user.s@acme.test"]
    assert "globex" not in page


def test_search_finds_by_mail_address_and_never_crosses_organizations(admin_a, acme):
    client = signed_in(admin_a)
    assert emails_listed(client.get(LIST, {"q": "user.s"}).content.decode()) == ["user.s@acme.test"]
    assert emails_listed(client.get(LIST, {"q": "globex", "shown": "all"}).content.decode()) == []


def test_an_operator_sees_every_organization(operator, acme):
    emails = emails_listed(signed_in(operator).get(LIST, {"shown": "all"}).content.decode())
    assert "user.s@acme.test" in emails and "admin.x@globex.test" in emails
    assert "operator@mailbind.test" not in emails  # operators have no mail settings


def test_a_standard_user_is_sent_to_the_admin_sign_in(user_s):
    response = signed_in(user_s).get(LIST)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


# --- One user: confirmation page, then a POST with CSRF ---------------------------------------------------------


def test_unlock_asks_for_confirmation_first(admin_a, user_s, acme):
    page = signed_in(admin_a).get(unlock_url(user_s)).content.decode()
    assert "Unlock the mail settings" in page and "Security review" in page
    assert 'name="csrfmiddlewaretoken"' in page and 'method="post"' in page
    assert settings_lock_active(user=user_s) is not None


def test_unlock_posts_and_changes_the_state_with_a_message(admin_b, user_s, acme):
    response = csrf_post(signed_in(admin_b), unlock_url(user_s), {"reason": "Review done"})
    assert response.redirect_chain[-1][0].startswith(LIST)
    assert messages_of(response) == ["Unlocked mail settings of user.s@acme.test"]
    lock = SettingsLock.objects.get(user=user_s)
    assert (lock.released_by.email, lock.release_reason) == ("admin.b@acme.test", "Review done")
    assert "Lock settings" in row_of(response.content.decode(), "user.s@acme.test")


def test_lock_posts_and_changes_the_state_with_a_message(admin_a, admin_b, acme):
    response = csrf_post(signed_in(admin_a), lock_url(admin_b), {"reason": "Suspicious logins"})
    assert messages_of(response) == ["Locked mail settings of admin.b@acme.test"]
    assert settings_lock_active(user=admin_b).reason == "Suspicious logins"
    assert "Unlock settings" in row_of(response.content.decode(), "admin.b@acme.test")


def test_a_post_without_the_csrf_token_is_refused(admin_a, user_s, acme):
    response = signed_in(admin_a).post(unlock_url(user_s), {})
    assert response.status_code == 403
    assert settings_lock_active(user=user_s) is not None


def test_a_lock_released_meanwhile_by_another_admin_is_a_message_not_a_500(admin_a, admin_b, user_s, acme):
    client = signed_in(admin_a)
    page = client.get(unlock_url(user_s)).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    settings_lock_release(actor=admin_b, user=user_s)  # B was faster
    response = client.post(unlock_url(user_s), {"csrfmiddlewaretoken": token}, follow=True)
    assert response.status_code == 200
    assert messages_of(response) == ["user.s@acme.test: This user's mail settings are not locked."]


def test_a_locked_admin_posting_their_own_unlock_gets_a_message(admin_a, admin_b, acme):
    settings_lock_create(actor=admin_a, user=admin_b)
    response = csrf_post(signed_in(admin_b), unlock_url(admin_b))
    assert response.status_code == 200
    assert messages_of(response) == [
        "admin.b@acme.test: Your settings were locked by an administrator. Ask another administrator to unlock them."
    ]
    assert settings_lock_active(user=admin_b) is not None


def test_another_organizations_admin_cannot_reach_the_confirmation_or_post(admin_x, user_s, acme):
    client = signed_in(admin_x)
    response = client.get(unlock_url(user_s), follow=True)
    assert "user.s@acme.test" not in response.content.decode()
    assert "doesn’t exist" in " ".join(messages_of(response))
    client.get("/admin/")  # X's own CSRF token: the refusal below is the scoping's, not CSRF's
    response = client.post(unlock_url(user_s), {"csrfmiddlewaretoken": client.cookies["csrftoken"].value})
    assert response.status_code == 302
    assert settings_lock_active(user=user_s) is not None


def test_the_list_filters_are_kept_after_an_action(admin_a, admin_b, acme):
    client = signed_in(admin_a)
    page = client.get(LIST, {"locked": "no"}).content.decode()
    assert "_changelist_filters=locked%3Dno" in row_of(page, "admin.b@acme.test")
    response = csrf_post(client, f"{lock_url(admin_b)}?_changelist_filters=locked%3Dno")
    assert response.redirect_chain[-1][0] == f"{LIST}?locked=no"


# --- Bulk actions -----------------------------------------------------------------------------------------------


def bulk(client, action, users, extra=None):
    page = client.get(LIST, {"shown": "all"}).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    data = {"action": action, "_selected_action": [u.pk for u in users], "csrfmiddlewaretoken": token, **(extra or {})}
    return client.post(f"{LIST}?shown=all", data, follow=True)


def test_bulk_lock_asks_for_confirmation_then_locks_each(admin_a, admin_b, user_s, acme):
    client = signed_in(admin_a)
    confirm = bulk(client, "lock_selected", [admin_b])
    assert "Lock the mail settings" in confirm.content.decode()
    assert settings_lock_active(user=admin_b) is None
    done = bulk(client, "lock_selected", [admin_b, user_s], {"post": "yes", "reason": "Audit"})
    assert messages_of(done) == [
        "Locked mail settings of admin.b@acme.test",
        "user.s@acme.test: This user's mail settings are already locked.",
    ]
    assert settings_lock_active(user=admin_b).reason == "Audit"


def test_bulk_unlock_unlocks_others_and_refuses_the_own_lock(admin_a, admin_b, user_s, acme):
    settings_lock_create(actor=admin_a, user=admin_b)
    done = bulk(signed_in(admin_b), "unlock_selected", [admin_b, user_s], {"post": "yes"})
    assert sorted(messages_of(done)) == [
        "Unlocked mail settings of user.s@acme.test",
        "admin.b@acme.test: Your settings were locked by an administrator. Ask another administrator to unlock them.",
    ]
    assert settings_lock_active(user=admin_b) is not None and settings_lock_active(user=user_s) is None


def test_bulk_actions_cannot_reach_another_organization(admin_x, user_s, acme):
    bulk(signed_in(admin_x), "unlock_selected", [user_s], {"post": "yes"})
    assert settings_lock_active(user=user_s) is not None


# --- The history of locks ---------------------------------------------------------------------------------------


def test_the_lock_history_is_read_only_and_organization_scoped(admin_a, admin_b, admin_x, user_s, acme):
    x2 = admin_x.__class__.objects.create_user("x2@globex.test", "pw", organization=admin_x.organization)
    settings_lock_create(actor=admin_x, user=x2)
    settings_lock_release(actor=admin_b, user=user_s)
    client = signed_in(admin_a)
    page = client.get("/admin/locks/settingslock/").content.decode()
    assert "user.s@acme.test" in page and "x2@globex.test" not in page
    lock = SettingsLock.objects.get(user=user_s)
    detail = client.get(f"/admin/locks/settingslock/{lock.pk}/change/").content.decode()
    assert "Security review" in detail and 'type="submit"' not in detail.split('id="content-main"')[1]
    foreign = SettingsLock.objects.get(user=x2)
    assert client.get(f"/admin/locks/settingslock/{foreign.pk}/change/").status_code == 302
