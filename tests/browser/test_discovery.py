"""Settings discovery on the new-account page, JavaScript on and off. The address's domain publishes its settings in
an autoconfig file (a local HTTPS server with a test-CA certificate, named by our DNS server):

- with JavaScript, leaving the address shows the local answer at once (a guess: the domain is in no list) and
  replaces it with the domain's own settings when the network's answer arrives;
- without JavaScript, "Detect settings" runs the whole look-up and the page shows the domain's settings, where they
  came from, and the other candidates.
"""
import pytest
from playwright.sync_api import expect

from mailsettings.discovery import network_answer_forget
from tests.browser.conftest import sign_in
from tests.diagnostics.discovery_helpers import client_config
from tests.servers.dns_server import running_dns_server
from tests.servers.https_server import Route, running_https_server

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
DOMAIN = "publisher.example"


@pytest.fixture
def published_settings(settings, test_ca):
    network_answer_forget(DOMAIN)
    leaf = test_ca.issue(f"autoconfig.{DOMAIN}")
    xml = client_config(DOMAIN, imap=("imap.mailhost.example", 993, "SSL"), pop3=("pop.mailhost.example", 995, "SSL"),
                        smtp=("smtp.mailhost.example", 465, "SSL"), name="Publisher Mail")
    # The answer waits a little, so the page shows the local answer before the network's.
    with running_https_server({"/mail/config-v1.1.xml": Route(body=xml, delay=1.0)}, leaf=leaf) as web, \
            running_dns_server({f"autoconfig.{DOMAIN}": {"A": [web.address]}}) as dns:
        settings.DIAGNOSTICS_ALLOWED_NETWORKS = ["127.0.0.0/8"]
        settings.DIAGNOSTICS_CA_FILE = str(test_ca.ca_pem)
        settings.DNS_NAMESERVERS = [f"127.0.0.1:{dns.port}"]
        settings.DNS_TIMEOUT = 1.0
        settings.DISCOVERY_DEADLINE = 6.0
        yield web
    network_answer_forget(DOMAIN)


def test_with_javascript_the_local_answer_comes_first_and_the_domains_own_settings_replace_it(
        open_page, shot, user_s, published_settings):
    page = open_page()
    sign_in(page, user_s.email)
    page.fill("#id_address", f"hanako@{DOMAIN}")
    page.keyboard.press("Tab")
    expect(page.locator("#id_incoming_host")).to_have_value(f"imap.{DOMAIN}")  # the local guess, at once
    expect(page.locator("#detect-notes")).to_contain_text("Looking further")
    shot(page, "local-answer-at-once")
    expect(page.locator("#id_incoming_host")).to_have_value("imap.mailhost.example", timeout=10_000)
    expect(page.locator("#id_smtp_host")).to_have_value("smtp.mailhost.example")
    expect(page.locator("#id_smtp_port")).to_have_value("465")
    expect(page.locator("#detect-notes")).to_contain_text("Better settings were found")
    expect(page.locator("#detect-notes")).to_contain_text(f"published by {DOMAIN} itself")
    shot(page, "upgraded-to-the-domains-settings")


def test_a_typed_server_is_never_replaced_by_the_upgrade(open_page, user_s, published_settings):
    page = open_page()
    sign_in(page, user_s.email)
    page.fill("#id_address", f"hanako@{DOMAIN}")
    page.keyboard.press("Tab")
    expect(page.locator("#detect-notes")).to_contain_text("Looking further")
    page.fill("#id_incoming_host", "imap.my-choice.example")
    expect(page.locator("#detect-notes")).to_contain_text("Better settings were found", timeout=10_000)
    expect(page.locator("#id_incoming_host")).to_have_value("imap.my-choice.example")
    expect(page.locator("#id_smtp_host")).to_have_value("smtp.mailhost.example")


@pytest.mark.parametrize("locale", ["en", "ja"])
def test_without_javascript_detect_runs_the_whole_look_up_and_shows_where_the_settings_came_from(
        open_page, shot, user_s, published_settings, locale):
    page = open_page(js=False, locale=locale)
    sign_in(page, user_s.email)
    page.fill("#id_address", f"hanako@{DOMAIN}")
    page.click("button[name=detect]")
    expect(page.locator("#id_incoming_host")).to_have_value("imap.mailhost.example")
    expect(page.locator("#id_incoming_port")).to_have_value("993")
    expect(page.locator("#id_smtp_host")).to_have_value("smtp.mailhost.example")
    notes = page.locator("#detect-notes")
    if locale == "en":
        expect(notes).to_contain_text("Settings of Publisher Mail were filled in.")
        expect(notes).to_contain_text(f"These settings are published by {DOMAIN} itself")
        expect(notes.locator("summary")).to_have_text("Other possible settings")
    else:
        expect(notes).to_contain_text("自身が公開している")
        expect(notes.locator("summary")).to_have_text("ほかの候補")
    notes.locator("summary").click()
    expect(notes.locator("details li").first).to_contain_text("POP3 pop.mailhost.example:995")
    shot(page, f"detected-without-javascript-{locale}")
    assert [host for host, _path in published_settings.requests] == [f"autoconfig.{DOMAIN}"]


def test_the_answer_is_checked_for_accessibility_with_javascript_in_japanese(
        open_page, shot, user_s, published_settings):
    page = open_page(locale="ja")
    sign_in(page, user_s.email)
    page.fill("#id_address", f"hanako@{DOMAIN}")
    page.click("button[name=detect]")  # the button works with JavaScript too: the server's page
    expect(page.locator("#id_incoming_host")).to_have_value("imap.mailhost.example")
    page.locator("#detect-notes summary").click()
    shot(page, "detected-ja-with-alternatives")
