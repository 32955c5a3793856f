"""OAuth2 sign-in in headless Chromium, against the test authorization server (Authlib, HTTPS on loopback), Dovecot
with its oauth2 passdb and aiosmtpd with XOAUTH2, through a REAL Celery worker:

1. IMAPS: the address's provider offers "Sign in with ..." first; consent; the callback binds the account and the
   check passes with XOAUTH2; the provider expires the token, "Test again" refreshes it and passes; the provider
   revokes the grant, the check says to sign in again, with the button; signing in again restores it.
2. POP3S: the same sign-in and a passing check.
3. Consent denied: the sentence, nothing saved.
4. A password binding refused by a server that takes only OAuth2: the advice offers the sign-in, which switches it.
5. A Gmail address offers "Sign in with Google" first (not followed: it would leave the machine).

Screenshots: test-artifacts/screenshots/<test name>/ (pages of the test provider are not ours: no axe there).
"""
import pytest
from playwright.sync_api import expect

from mailsettings.models import MailAccount
from tests.browser.conftest import sign_in
from tests.factories import account_make
from tests.oauth_helpers import PROVIDER_NAME
from tests.servers.dovecot import ALICE, CAROL

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("loopback_browser_flows", "oauth_browser")]

SIGN_IN = f"Sign in with {PROVIDER_NAME}"


@pytest.fixture
def oauth_browser(settings, oauth_provider, live_server):
    settings.OAUTH_REDIRECT_BASE_URL = live_server.url  # the provider sends the browser back to the live server
    return oauth_provider


def _fill_servers(page, *, dovecot, smtp_oauth, protocol="imap"):
    page.select_option("#id_protocol", protocol)
    page.fill("#id_incoming_host", "localhost")
    page.fill("#id_incoming_port", str(dovecot.imaps_port if protocol == "imap" else dovecot.pop3s_port))
    page.select_option("#id_incoming_security", "ssl")
    page.fill("#id_smtp_host", "localhost")
    page.fill("#id_smtp_port", str(smtp_oauth.port))
    page.select_option("#id_smtp_security", "ssl")


def _consent(page, shot, *, user, allow=True, label="consent"):
    expect(page.locator("h1")).to_have_text("Test provider")
    page.fill("#user", user)
    shot(page, label, axe=False)
    page.click("#allow" if allow else "#deny")


def _sign_in_with_provider(page, shot, *, dovecot, smtp_oauth, protocol="imap"):
    page.fill("#id_address", CAROL)
    page.keyboard.press("Tab")  # leaving the address field detects: the provider signs in with OAuth2
    button = page.locator("#oauth-signin-button")
    expect(button).to_have_text(SIGN_IN)
    expect(page.locator("#oauth-signin")).to_contain_text("app password")
    _fill_servers(page, dovecot=dovecot, smtp_oauth=smtp_oauth, protocol=protocol)
    shot(page, "sign-in-offered")
    button.click()
    _consent(page, shot, user=CAROL)
    page.wait_for_url("**/settings/email/runs/*/")


def _passes(page, shot, label):
    expect(page.locator("#advice")).to_contain_text("Everything checked out", timeout=60_000)
    expect(page.locator("#run-progress")).to_contain_text("Signing in to the incoming server works.")
    expect(page.locator("#run-progress")).to_contain_text("Signing in to the outgoing server works.")
    shot(page, label)


def test_sign_in_check_refresh_revoke_and_sign_in_again_over_imaps(
        open_page, shot, user_s, oauth_browser, dovecot_oauth, smtp_oauth, celery_worker):
    page = open_page(trust_test_ca=True)
    sign_in(page, user_s.email)
    _sign_in_with_provider(page, shot, dovecot=dovecot_oauth, smtp_oauth=smtp_oauth)
    expect(page.locator(".messages")).to_contain_text(f"is connected with {PROVIDER_NAME}")
    _passes(page, shot, "check-passed")

    page.get_by_role("link", name="Back to email settings").click()
    expect(page.locator("#oauth-summary")).to_contain_text(f"Signed in with {PROVIDER_NAME} as {CAROL}")
    expect(page.locator("a[href='/settings/email/password/']")).to_have_count(0)  # no password to change
    shot(page, "account")

    oauth_browser.expire_access_tokens(CAROL)
    page.get_by_role("button", name="Test again").click()
    _passes(page, shot, "refreshed-and-passed")

    oauth_browser.revoke_grants(CAROL)
    page.get_by_role("link", name="Back to email settings").click()
    page.get_by_role("button", name="Test again").click()
    advice = page.locator("#advice")
    expect(advice).to_contain_text("Sign in again to keep this mailbox connected", timeout=60_000)
    shot(page, "reauth-required")
    page.get_by_role("link", name="Back to email settings").click()
    expect(page.locator("#account-status")).to_have_text("Sign in again")
    page.locator("#advice").get_by_role("button", name=SIGN_IN).click()
    _consent(page, shot, user=CAROL, label="consent-again")
    page.wait_for_url("**/settings/email/runs/*/")
    _passes(page, shot, "restored")
    assert MailAccount.objects.get(owner=user_s).auth_method == "oauth2"


def test_sign_in_and_check_over_pop3s(open_page, shot, user_s, dovecot_oauth, smtp_oauth, celery_worker):
    page = open_page(trust_test_ca=True)
    sign_in(page, user_s.email)
    _sign_in_with_provider(page, shot, dovecot=dovecot_oauth, smtp_oauth=smtp_oauth, protocol="pop3")
    _passes(page, shot, "check-passed")
    assert MailAccount.objects.get(owner=user_s).protocol == "pop3"


def test_consent_denied_is_a_sentence_and_nothing_is_saved(open_page, shot, user_s, dovecot_oauth, smtp_oauth):
    page = open_page(trust_test_ca=True, locale="ja")
    sign_in(page, user_s.email)
    page.fill("#id_address", CAROL)
    page.keyboard.press("Tab")
    _fill_servers(page, dovecot=dovecot_oauth, smtp_oauth=smtp_oauth)
    page.locator("#oauth-signin-button").click()
    _consent(page, shot, user=CAROL, allow=False)
    result = page.locator("#oauth-result")
    from django.utils import translation

    with translation.override("ja"):
        sentence = translation.gettext("You did not allow access to your mailbox, so nothing was saved. To connect "
                                       "it, sign in again and choose Allow.")
    expect(result).to_contain_text(sentence)
    shot(page, "denied")
    assert not MailAccount.objects.exists()


def test_a_password_binding_refused_for_oauth_only_sending_offers_the_sign_in_that_switches_it(
        open_page, shot, user_s, dovecot_oauth, smtp_oauth, celery_worker):
    account_make(user_s, ALICE, incoming_host="localhost", incoming_port=dovecot_oauth.imaps_port,
                 incoming_password=dovecot_oauth.users[ALICE], smtp_host="localhost", smtp_port=smtp_oauth.port,
                 smtp_security="ssl")
    page = open_page(trust_test_ca=True)
    sign_in(page, user_s.email)
    page.get_by_role("button", name="Test again").click()
    advice = page.locator("#advice")
    expect(advice).to_contain_text("Password sign-in is turned off for this mailbox", timeout=60_000)
    expect(advice).to_contain_text("Or sign in with Google or Microsoft instead")
    shot(page, "basic-auth-disabled")
    advice.get_by_role("button", name=SIGN_IN).click()
    _consent(page, shot, user=ALICE)
    page.wait_for_url("**/settings/email/runs/*/")
    _passes(page, shot, "switched-and-passed")
    account = MailAccount.objects.get(owner=user_s)
    assert (account.auth_method, account.incoming_password) == ("oauth2", "")


def test_a_gmail_address_offers_sign_in_with_google_first(open_page, shot, settings, user_s):
    settings.OAUTH_GOOGLE_CLIENT_ID, settings.OAUTH_GOOGLE_CLIENT_SECRET = "operator-id", "operator-secret"
    page = open_page(js=False)
    sign_in(page, user_s.email)
    page.fill("#id_address", "someone@gmail.com")
    page.get_by_role("button", name="Detect settings").click()
    button = page.locator("#oauth-signin-button")
    expect(button).to_have_text("Sign in with Google")
    expect(page.locator("#oauth-signin")).to_contain_text("Or connect with an app password in the form below.")
    shot(page, "google-offered", axe=False)  # without JavaScript: axe needs it (the same page is checked above)
