"""A finished run's page in Chromium for the codes of servers we did not build for: a server alert quoted in the
advice (English and Japanese, JavaScript on and off), and a port that expects SSL/TLS from the first byte.
Every photographed state is checked with axe-core (WCAG 2.1 AA). Screenshots: test-artifacts/screenshots/."""
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.servers.dovecot import ALERT_TEXT, ALERTED

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("loopback_browser_flows")]


def _finished_run(owner, *, address, incoming_port, incoming_security, incoming_password, smtp_implicit):
    from diagnostics import walk
    from diagnostics.models import DiagnosticRun, RunKind
    from tests.factories import account_make

    account = account_make(
        owner, address, incoming_host="localhost", incoming_port=incoming_port, incoming_security=incoming_security,
        incoming_password=incoming_password, smtp_host="localhost", smtp_port=smtp_implicit.port, smtp_security="ssl",
        smtp_same_credentials=False, smtp_username="alice@example.test",
        smtp_password=smtp_implicit.users["alice@example.test"],
    )
    run = DiagnosticRun.objects.create(organization=owner.organization, account=account, kind=RunKind.ACCOUNT,
                                       requested_by=owner)
    walk.run_execute(run_id=run.pk)
    run.refresh_from_db()
    return run


@pytest.mark.parametrize(("locale", "js"), [("en", True), ("ja", True), ("en", False)], ids=["en", "ja", "en-nojs"])
def test_a_server_alert_is_quoted_in_the_advice_of_the_run_page(open_page, shot, user_s, dovecot, smtp_implicit,
                                                                 locale, js):
    from django.utils import translation

    run = _finished_run(user_s, address=ALERTED, incoming_port=dovecot.imaps_port, incoming_security="ssl",
                        incoming_password=dovecot.users[ALERTED], smtp_implicit=smtp_implicit)
    assert (run.status, run.outcome) == ("warning", "server_alert")
    page = open_page(locale=locale, js=js)
    sign_in(page, user_s.email)
    page.goto(f"/settings/email/runs/{run.pk}/")
    with translation.override(locale):
        title = translation.gettext("The mail server sent a message for you")
        caption = translation.gettext("What the server said:")
    advice = page.locator("#advice")
    expect(advice.locator("h3")).to_have_text(title)
    expect(advice.locator(".server-alerts figcaption")).to_have_text(caption)
    expect(advice.locator(".server-alerts blockquote")).to_have_text(ALERT_TEXT)  # the server's words, as sent
    shot(page, f"server-alert-{locale}", axe=js)


def test_a_port_expecting_ssl_tls_reads_as_a_settings_error_on_the_run_page(open_page, shot, user_s, dovecot,
                                                                          smtp_implicit):
    run = _finished_run(user_s, address="alice@example.test", incoming_port=dovecot.imaps_port,
                        incoming_security="starttls", incoming_password=dovecot.users["alice@example.test"],
                        smtp_implicit=smtp_implicit)
    assert (run.status, run.outcome) == ("failed", "implicit_tls_expected")
    page = open_page()
    sign_in(page, user_s.email)
    page.goto(f"/settings/email/runs/{run.pk}/")
    expect(page.locator("#advice h3").first).to_have_text("This port expects SSL/TLS from the first moment")
    expect(page.locator('[data-step="greeting"]')).to_contain_text("This port expects SSL/TLS from the first moment")
    shot(page, "implicit-tls-expected")
