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
    from tests.mailsettings.factories import account_create

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
