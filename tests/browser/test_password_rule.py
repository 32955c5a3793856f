"""The password rule in the Django admin's account form, in Chromium: with JavaScript the password box becomes
required (own account) or announces the removal (someone else's) as soon as a field deciding where the password
goes changes; without JavaScript the server refuses the own account's change all the same.
Screenshots: test-artifacts/screenshots/<test name>/."""
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REFUSED = "sent only to the server it was entered for"


def account_of(user):
    from tests.factories import account_create

    return account_create(user, address=f"{user.email.split('@')[0]}@example.com")


def change_page(page, account):
    page.goto(f"/admin/mailsettings/mailaccount/{account.pk}/change/")
    return page.locator("#id_incoming_password")


def test_on_the_own_account_the_password_becomes_required_as_soon_as_the_server_changes(open_page, shot, admin_a):
    account = account_of(admin_a)
    page = open_page()
    sign_in(page, admin_a.email)
    box = change_page(page, account)
    expect(box).not_to_have_attribute("required", "")
    note = page.locator("#id_incoming_password-rule-note")
    expect(note).to_be_hidden()
    page.fill("#id_incoming_host", "imap.elsewhere.example")
    expect(box).to_have_attribute("required", "")
    expect(box).to_have_attribute("aria-required", "true")
    expect(note).to_be_visible()
    expect(note).to_contain_text("enter the password again")
    shot(page, "required")
    page.fill("#id_incoming_host", "imap.example.com")  # back as it was: nothing to ask
    expect(box).not_to_have_attribute("required", "")
    page.fill("#id_incoming_host", "imap.elsewhere.example")
    page.click("input[name=_save]")  # the admin's form does not stop at `required` (novalidate): the server does
    expect(page.locator(".field-incoming_password .errorlist")).to_contain_text(REFUSED)
    shot(page, "refused")
    page.fill("#id_incoming_password", "typed for the new server")
    page.click("input[name=_save]")
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    account.refresh_from_db()
    assert (account.incoming_host, account.incoming_password) == ("imap.elsewhere.example", "typed for the new server")


def test_on_someone_elses_account_the_form_says_the_password_will_be_removed(open_page, shot, admin_a, user_s):
    account = account_of(user_s)
    page = open_page()
    sign_in(page, admin_a.email)
    box = change_page(page, account)
    page.select_option("#id_smtp_security", "ssl")  # same credentials: the one password would go there
    note = page.locator("#id_incoming_password-rule-note")
    expect(note).to_be_visible()
    expect(note).to_contain_text("will be removed and the owner asked for it")
    expect(box).not_to_have_attribute("required", "")
    shot(page, "announced")
    page.click("input[name=_save]")
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    account.refresh_from_db()
    assert (account.status, account.incoming_password) == ("needs_password", "")


def test_without_javascript_the_server_still_asks_for_the_password(open_page, shot, admin_a):
    account = account_of(admin_a)
    page = open_page(js=False)
    sign_in(page, admin_a.email)
    change_page(page, account)
    page.fill("#id_incoming_port", "143")
    page.click("input[name=_save]")
    expect(page.locator(".field-incoming_password .errorlist")).to_contain_text(REFUSED)
    shot(page, "refused-without-javascript")
    account.refresh_from_db()
    assert account.incoming_port == 993


@pytest.mark.usefixtures("loopback_browser_flows")
@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_the_owner_is_asked_for_the_password_of_the_moved_server_and_the_check_then_passes(
        open_page, shot, js, admin_a, user_s, dovecot, smtp_implicit, celery_worker):
    from mailsettings.services import mail_account_update
    from tests.factories import account_on_test_servers

    account = account_on_test_servers(user_s, dovecot=dovecot, smtp_implicit=smtp_implicit,
                                      smtp_host="smtp.old-provider.example", smtp_port=465,
                                      smtp_password="the old provider's password")
    # The organization's outgoing server moved: an admin points the account at it, without the user's password.
    moved = {"smtp_host": "localhost", "smtp_port": smtp_implicit.port}
    mail_account_update(actor=admin_a, account=account, data=moved)
    page = open_page(js=js)
    sign_in(page, user_s.email)
    expect(page.locator("#account-status")).to_have_text("Password needed for the new server")
    expect(page.locator("#password-needed")).to_contain_text("Enter your password for the new server")
    shot(page, "asked")
    page.locator("#password-needed a").click()
    expect(page.locator("input[name=apply_to][value=outgoing]")).to_be_checked()
    page.fill("#id_password", smtp_implicit.users["alice@example.test"])
    shot(page, "password")
    page.get_by_role("button", name="Save and check").click()
    page.wait_for_url("**/settings/email/runs/*/")
    expect(page.locator("#advice")).to_contain_text("Everything checked out", timeout=60_000)
    page.get_by_role("link", name="Back to email settings").click()
    expect(page.locator("#account-status")).to_have_text("Connected")
    expect(page.locator("#password-needed")).to_have_count(0)
    shot(page, "connected")
