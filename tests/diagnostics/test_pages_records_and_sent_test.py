"""The domain details tool shows the domain's mail records (en + ja); the account page offers "Send a test message"
with exactly what will be sent, and the POP3 explanation instead for POP3 accounts."""
import pytest

from diagnostics import walk
from diagnostics.models import DiagnosticRun, RunKind
from tests.helpers import PageClient, signed_in

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("loopback_diagnostics")]

RECORDS = {
    "records.test": {"MX": ["10 mx.records.test."], "TXT": ['"v=spf1 include:_spf.records.test +all"']},
    "mx.records.test": {"A": ["192.0.2.25"]},
    "_spf.records.test": {"TXT": ['"v=spf1 ip4:192.0.2.0/24 -all"']},
    "_dmarc.records.test": {"TXT": ['"v=DMARC1; p=none; rua=mailto:reports@records.test"']},
}


@pytest.fixture
def pages_s(user_s):
    """User S's pages."""
    return signed_in(user_s, client_class=PageClient)


def _serve(dns_server, zone):
    dns_server.zone.update({name: {k: list(v) for k, v in records.items()} for name, records in zone.items()})


@pytest.mark.parametrize(("language", "texts"), [
    ("en", ["Mail records of records.test", "Allowed senders (SPF)", 'badge-record-error">Problem<',
            "v=spf1 include:_spf.records.test +all", "allows every server in the world", "monitoring only",
            "mailto:reports@records.test"]),
    ("ja", ["records.test のメール関連レコード", "送信を許可するサーバー（SPF）", 'badge-record-error">問題<',
            "v=spf1 include:_spf.records.test +all", "世界中のすべてのサーバー", "監視のみ"]),
])
def test_the_domain_details_tool_shows_each_record_with_its_verdict_and_advice(pages_s, dns_server, language,
                                                                               texts):
    _serve(dns_server, RECORDS)
    response = pages_s.post("/tools/domain-details/", {"domain": "records.test"})
    run = DiagnosticRun.objects.get()
    walk.run_execute(run_id=run.pk)
    run.refresh_from_db()
    domain = run.steps.get(name="domain")
    assert (domain.status, domain.code) == ("warning", "mail_records_problem")
    html = pages_s.get(response["Location"], HTTP_ACCEPT_LANGUAGE=language).content.decode()
    for text in texts:
        assert text in html, text


def test_the_account_page_offers_a_test_message_and_shows_what_will_be_sent(pages_s, user_s, make_account):
    make_account(user_s)
    assert 'href="/settings/email/sent-test/"' in pages_s.get("/settings/email/").content.decode()
    html = pages_s.get("/settings/email/sent-test/").content.decode()
    assert "Subject: mailbind: sent-mail test (this message deletes itself)" in html
    assert "From: alice@example.test" in html and "To: alice@example.test" in html
    assert "Message-ID: &lt;mailbind-test.(a unique code)@example.test&gt;" in html
    assert "deleted from the Sent folder and the Inbox" in html
    assert not DiagnosticRun.objects.exists()  # nothing is sent before the person confirms
    response = pages_s.post("/settings/email/sent-test/")
    run = DiagnosticRun.objects.get()
    assert run.kind == RunKind.SENT_TEST and response["Location"] == f"/settings/email/runs/{run.pk}/"
    waiting = pages_s.get(response["Location"]).content.decode()
    assert "Sending the test message" in waiting and "Copies in the Sent folder" in waiting


def test_a_pop3_account_reads_that_pop3_has_no_sent_folder(pages_s, user_s, make_account, dovecot):
    make_account(user_s, protocol="pop3", incoming_port=dovecot.pop3s_port)
    html = pages_s.get("/settings/email/sent-test/").content.decode()
    assert "POP3 has no Sent folder" in html and "Send it and count the copies" not in html
    pages_s.post("/settings/email/sent-test/")
    assert not DiagnosticRun.objects.exists()
