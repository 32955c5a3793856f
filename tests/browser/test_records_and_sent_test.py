"""In Chromium, with JavaScript on and off: the domain details tool shows the domain's mail records (English and
Japanese), and "Send a test message" shows exactly what will be sent before it is sent, then its result; a POP3
account reads why there is nothing to measure. Every photographed state is checked with axe-core."""
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

JS = pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
RECORDS = {
    "records.test": {"MX": ["10 mail.records.test."], "TXT": ['"v=spf1 include:_spf.records.test +all"']},
    "mail.records.test": {"CNAME": ["mx.records.test."]},
    "mx.records.test": {"A": ["192.0.2.25"]},
    "_spf.records.test": {"TXT": ['"v=spf1 ip4:192.0.2.0/24 -all"']},
    "_dmarc.records.test": {"TXT": ['"v=DMARC1; p=none; rua=mailto:reports@records.test"']},
    "_smtp._tls.records.test": {"TXT": ['"v=TLSRPTv1; rua=mailto:tls@records.test"']},
}


@JS
@pytest.mark.parametrize("locale", ["en", "ja"])
def test_the_domain_details_tool_shows_the_mail_records(open_page, shot, user_s, loopback_browser_flows, js,
                                                        locale):
    from diagnostics import walk
    from diagnostics.models import DiagnosticRun

    loopback_browser_flows.zone.update(RECORDS)
    page = open_page(js=js, locale=locale)
    sign_in(page, user_s.email)
    page.goto("/tools/domain-details/")
    page.fill("#id_domain", "records.test")
    page.click("main form button[type=submit]")
    page.wait_for_url("**/tools/runs/*/")
    walk.run_execute(run_id=DiagnosticRun.objects.get().pk)
    page.reload()
    records = page.locator("#mail-records")
    expect(records).to_be_visible()
    expect(records.locator("[data-record]")).to_have_count(6)
    spf = records.locator("[data-record=spf]")
    expect(spf).to_contain_text("v=spf1 include:_spf.records.test +all")
    if locale == "en":
        expect(page.locator("#mail-records-heading")).to_have_text("Mail records of records.test")
        expect(spf).to_contain_text("Problem")
        expect(records.locator("[data-record=mx]")).to_contain_text("alias (CNAME): mail.records.test")
        expect(records.locator("[data-record=dmarc]")).to_contain_text("monitoring only")
    else:
        expect(page.locator("#mail-records-heading")).to_have_text("records.test のメール関連レコード")
        expect(spf.locator(".badge-record-error")).to_have_text("問題")
    shot(page, f"records-{locale}")


def _account(owner, dovecot, smtp_implicit, **fields):
    from tests.factories import account_on_test_servers

    return account_on_test_servers(owner, dovecot=dovecot, smtp_implicit=smtp_implicit, **fields)


@JS
def test_send_a_test_message_shows_what_will_be_sent_then_the_result(open_page, shot, settings, user_s, dovecot,
                                                                    smtp_implicit, loopback_browser_flows, js):
    from diagnostics import walk
    from diagnostics.models import DiagnosticRun

    settings.DIAGNOSTICS_SENT_TEST_WAIT = 1.0
    _account(user_s, dovecot, smtp_implicit)
    page = open_page(js=js)
    sign_in(page, user_s.email)
    page.click("#sent-test-link")
    preview = page.locator("#sent-test-preview")
    expect(preview).to_contain_text("Subject: mailbind: sent-mail test (this message deletes itself)")
    expect(preview).to_contain_text("To: alice@example.test")
    shot(page, "preview")
    assert not DiagnosticRun.objects.exists()
    before = len(smtp_implicit.messages)
    page.get_by_role("button", name="Send it and count the copies").click()
    page.wait_for_url("**/settings/email/runs/*/")
    walk.run_execute(run_id=DiagnosticRun.objects.get().pk)
    page.reload()
    expect(page.locator("#run-progress")).to_have_attribute("data-finished", "true")
    # This test server accepts mail without delivering it: no copy reaches Sent (T5).
    expect(page.locator("#advice")).to_contain_text("Sent mail is not kept in the Sent folder")
    assert len(smtp_implicit.messages) == before + 1
    shot(page, "result")


def test_a_pop3_account_reads_why_there_is_no_sent_folder_in_japanese(open_page, shot, user_s, dovecot,
                                                                      smtp_implicit, loopback_browser_flows):
    _account(user_s, dovecot, smtp_implicit, protocol="pop3", incoming_port=dovecot.pop3s_port)
    page = open_page(locale="ja")
    sign_in(page, user_s.email)
    page.goto("/settings/email/sent-test/")
    expect(page.locator("#sent-test-pop3")).to_contain_text("POP3には送信済みフォルダーがありません")
    shot(page, "pop3-ja")
