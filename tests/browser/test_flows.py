"""The main flows in headless Chromium, each with JavaScript on and off (same end states):

1. a new user signs in, detects the provider's settings for an address whose domain our DNS server answers,
   corrects them to the loopback Dovecot/aiosmtpd, saves, and watches the diagnostic pass — through a REAL Celery
   worker thread (the `celery_worker` fixture) consuming from the configured broker;
2. a second user tries the same address and reads the address-in-use sentence (docs/scenarios.md T6) next to it;
3. admin A locks the user on the admin's Mail users page (in a phone-width window), the user (browser in Japanese)
   reloads and reads the lock sentence, admin A unlocks, and the user can edit again.

Screenshots: test-artifacts/screenshots/<test name>/.
"""
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.factories import account_on_test_servers

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("loopback_browser_flows")]

JS = pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
LOCK_SENTENCE = "You don't have permission to change these mail settings. Contact your organization's administrator."
T6_SENTENCE = "This address is already configured with IMAP/POP3 in another account and can't be used here."


def _in_japanese(sentence: str) -> str:
    """The catalogue's Japanese for an English message id; the test fails if there is none."""
    from django.utils import translation

    with translation.override("ja"):
        japanese = translation.gettext(sentence)
    assert japanese != sentence, f"no Japanese translation of {sentence!r}"
    return japanese


def _alice_account(owner, dovecot, smtp_implicit):
    return account_on_test_servers(owner, dovecot=dovecot, smtp_implicit=smtp_implicit)


def _fill_servers(page, *, dovecot, smtp_implicit, js: bool) -> None:
    """What the person does after detection: the test servers listen on loopback, not on imap.example.test."""
    page.fill("#id_incoming_host", "localhost")
    page.fill("#id_incoming_port", str(dovecot.imaps_port))
    page.select_option("#id_incoming_security", "ssl")
    page.fill("#id_incoming_password", dovecot.users["alice@example.test"])
    page.fill("#id_smtp_host", "localhost")
    page.fill("#id_smtp_port", str(smtp_implicit.port))
    page.select_option("#id_smtp_security", "ssl")
    page.uncheck("#id_smtp_same_credentials")
    if js:
        expect(page.locator("#id_smtp_username")).to_be_visible()  # shown only when the login differs
    page.fill("#id_smtp_username", "alice@example.test")
    page.fill("#id_smtp_password", smtp_implicit.users["alice@example.test"])


@JS
def test_a_new_user_detects_saves_and_watches_the_check_pass_against_dovecot(
        open_page, shot, js, user_s, dovecot, smtp_implicit, celery_worker):
    page = open_page(js=js)
    sign_in(page, user_s.email)
    expect(page.locator("h1")).to_have_text("Email settings")
    shot(page, "empty-form")

    page.fill("#id_address", "alice@example.test")
    if js:
        page.keyboard.press("Tab")  # leaving the address field detects
    else:
        page.get_by_role("button", name="Detect settings").click()
    expect(page.locator("#id_incoming_host")).to_have_value("imap.example.test")
    expect(page.locator("#id_smtp_host")).to_have_value("smtp.example.test")
    expect(page.locator("#detect-notes")).to_contain_text("These settings are a guess")
    shot(page, "detected")

    _fill_servers(page, dovecot=dovecot, smtp_implicit=smtp_implicit, js=js)
    shot(page, "filled")
    page.get_by_role("button", name="Save and check").click()
    page.wait_for_url("**/settings/email/runs/*/")
    expect(page.locator("#advice")).to_contain_text("Everything checked out", timeout=60_000)
    expect(page.locator(".step-passed")).to_have_count(10)
    expect(page.locator("#run-progress")).to_contain_text("Signing in to the incoming server works.")
    shot(page, "check-passed")

    page.get_by_role("link", name="Back to email settings").click()
    expect(page.locator("#account-status")).to_have_text("Connected")
    expect(page.locator("#last-check")).to_contain_text("Everything checked out")
    shot(page, "account")
    # No page ever showed a password back.
    assert dovecot.users["alice@example.test"] not in page.content()


@JS
def test_a_second_user_reads_the_t6_sentence_next_to_the_address(
        open_page, shot, js, user_s, admin_x, dovecot, smtp_implicit):
    _alice_account(user_s, dovecot, smtp_implicit)
    page = open_page(js=js, phone=True)  # the form at phone width
    sign_in(page, admin_x.email)
    page.fill("#id_address", "alice@example.test")
    if not js:
        page.get_by_role("button", name="Detect settings").click()
    _fill_servers(page, dovecot=dovecot, smtp_implicit=smtp_implicit, js=js)
    page.get_by_role("button", name="Save and check").click()
    error = page.locator("#id_address_error")
    expect(error).to_contain_text(T6_SENTENCE)
    expect(page.locator("#id_address")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#id_address")).to_have_attribute("aria-describedby", "id_address_helptext id_address_error")
    expect(page.locator("#id_incoming_password")).to_have_value("")  # never echoed back
    if js:
        expect(page.locator("#id_address")).to_be_focused()  # the keyboard lands on what needs fixing
    assert "user.s@acme.test" not in page.content()  # another organization's user stays unknown
    shot(page, "t6")


@JS
def test_admin_a_locks_the_user_who_reads_the_lock_in_japanese_then_unlocks(
        open_page, shot, js, user_s, admin_a, dovecot, smtp_implicit):
    _alice_account(user_s, dovecot, smtp_implicit)
    user = open_page(js=js, locale="ja")
    sign_in(user, user_s.email)
    expect(user.locator("#account-summary")).to_contain_text("alice@example.test")

    admin = open_page(js=js, phone=True)  # the admin's page works from a phone-width window
    sign_in(admin, admin_a.email)
    admin.goto("/admin/locks/mailuser/")
    row = admin.locator("#result_list tr", has_text=user_s.email)
    shot(admin, "admin-mail-users")
    row.locator("a.mail-users-lock").click()
    admin.locator("#content-main input[type=submit]").click()
    expect(admin.locator(".messagelist")).to_contain_text(f"Locked mail settings of {user_s.email}")
    expect(row.locator("a.mail-users-unlock")).to_be_visible()
    shot(admin, "admin-locked")

    user.reload()
    expect(user.locator("html")).to_have_attribute("lang", "ja")
    lock = user.locator("#settings-locked")
    expect(lock).to_contain_text(_in_japanese(LOCK_SENTENCE))
    expect(user.locator("#account-summary")).to_have_count(0)
    expect(user.locator("form#account-form")).to_have_count(0)
    shot(user, "user-locked")

    row.locator("a.mail-users-unlock").click()
    admin.locator("#content-main input[type=submit]").click()
    expect(admin.locator(".messagelist")).to_contain_text(f"Unlocked mail settings of {user_s.email}")
    shot(admin, "admin-unlocked")

    user.reload()
    expect(user.locator("#settings-locked")).to_have_count(0)
    expect(user.locator("#account-summary")).to_contain_text("alice@example.test")
    user.click("a[href='/settings/email/password/']")
    expect(user.locator("#id_password")).to_be_editable()
    shot(user, "user-can-edit")
