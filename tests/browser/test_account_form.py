"""The new-account form from the keyboard: Enter anywhere in it saves (the form's default button), never "Detect",
so the servers the person typed and both passwords are kept. JavaScript on and off."""
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.browser.test_flows import JS, _fill_servers

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("loopback_browser_flows")]


@JS
def test_enter_in_the_password_field_saves_the_typed_servers_and_starts_the_check(
        open_page, shot, js, user_s, dovecot, smtp_implicit):
    from mailsettings.models import MailAccount

    page = open_page(js=js)
    sign_in(page, user_s.email)
    page.fill("#id_address", "alice@example.test")
    _fill_servers(page, dovecot=dovecot, smtp_implicit=smtp_implicit, js=js)
    if js:  # leaving the address filled nothing over what was typed
        expect(page.locator("#detect-notes")).to_contain_text("These settings are a guess")
        expect(page.locator("#id_incoming_host")).to_have_value("localhost")
    page.focus("#id_incoming_password")
    page.keyboard.press("Enter")
    page.wait_for_url("**/settings/email/runs/*/")
    expect(page.locator("#run-progress")).to_be_visible()
    shot(page, "saved-with-enter")
    account = MailAccount.objects.get(owner=user_s)
    assert (account.incoming_host, account.incoming_port) == ("localhost", dovecot.imaps_port)
    assert (account.smtp_host, account.smtp_port) == ("localhost", smtp_implicit.port)
    assert account.incoming_password == dovecot.users["alice@example.test"]
    assert account.smtp_password == smtp_implicit.users["alice@example.test"]


def test_choosing_pop3_asks_for_the_addresss_pop3_servers_again(open_page, user_s):
    page = open_page()
    sign_in(page, user_s.email)
    page.fill("#id_address", "alice@example.test")
    page.keyboard.press("Tab")
    expect(page.locator("#id_incoming_host")).to_have_value("imap.example.test")
    page.select_option("#id_protocol", "pop3")
    expect(page.locator("#id_incoming_host")).to_have_value("pop.example.test")
    expect(page.locator("#id_incoming_port")).to_have_value("995")
    expect(page.locator("#id_protocol")).to_have_value("pop3")  # the person's choice stays
