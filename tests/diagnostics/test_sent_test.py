""""Send a test message" measures sent-mail copies against Dovecot: aiosmtpd delivers the message into the Dovecot
mailboxes (doveadm save), optionally filing a copy in Sent as Gmail or Microsoft 365 do; the run counts the copies
in Sent over IMAP, then deletes its own test messages. Through the API and a real Celery worker."""
import re
import time

import pytest
from django.core.cache import cache

from diagnostics.models import DiagnosticRun, RunKind
from diagnostics.services import accounts_recheck_due
from tests.servers.delivery import doveadm_count, running_delivering_smtp
from tests.servers.dovecot import ALICE, running_dovecot
from tests.servers.fixtures import _unavailable
from tests.servers.ports import ServerUnavailable

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("loopback_diagnostics")]


@pytest.fixture(scope="module")
def mailstore(test_ca):
    """A Dovecot of its own (the session's is shared with tests that count alice's messages)."""
    try:
        with running_dovecot(certs=test_ca) as server:
            yield server
    except ServerUnavailable as exc:
        _unavailable(str(exc))


@pytest.fixture(scope="module")
def plain_provider(test_ca, mailstore):
    with running_delivering_smtp(certs=test_ca, dovecot=mailstore) as server:
        yield server


@pytest.fixture(scope="module")
def filing_provider(test_ca, mailstore):
    with running_delivering_smtp(certs=test_ca, dovecot=mailstore, files_sent=True) as server:
        yield server


@pytest.fixture(autouse=True)
def _short_wait(settings):
    settings.DIAGNOSTICS_SENT_TEST_WAIT = 3.0
    cache.clear()  # the sent_test rate is counted in the cache


def _account(make_account, owner, mailstore, provider, **fields):
    values = {"incoming_port": mailstore.imaps_port, "incoming_password": mailstore.users[ALICE],
              "smtp_port": provider.port, "smtp_username": ALICE, "smtp_password": mailstore.users[ALICE], **fields}
    return make_account(owner, **values)


def _finish(run_id):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        run = DiagnosticRun.objects.get(pk=run_id)
        if run.is_finished:
            return run
        time.sleep(0.1)
    raise AssertionError("the worker did not finish the run")


@pytest.mark.parametrize(("files_sent", "save_sent", "copies", "status", "code", "scenario"), [
    (False, False, 0, "warning", "sent_copy_missing", "T5"),
    (False, True, 1, "passed", "ok", None),
    (True, False, 1, "passed", "ok", None),
    (True, True, 2, "warning", "sent_copy_duplicated", "T8"),
], ids=["none", "one_saved_by_us", "one_filed_by_the_provider", "two"])
def test_it_counts_the_copies_in_sent_and_deletes_its_test_messages(
        celery_worker, api_as, user_s, make_account, mailstore, plain_provider, filing_provider,
        files_sent, save_sent, copies, status, code, scenario):
    provider = filing_provider if files_sent else plain_provider
    account = _account(make_account, user_s, mailstore, provider, save_sent_on_server=save_sent)
    client = api_as(user_s)
    response = client.post(f"/api/v1/mail-accounts/{account.pk}/sent-test/")
    assert response.status_code == 202, response.json()
    assert response.json()["kind"] == "sent_test"
    run = _finish(response.json()["id"])
    steps = {s.name: s for s in run.steps.all()}
    assert list(steps) == ["send", "sent_folder", "cleanup"]
    assert (run.status, run.outcome) == (status, code), {n: (s.status, s.code, s.details) for n, s in steps.items()}
    assert steps["sent_folder"].details["copies"] == copies
    message_id = steps["send"].details["message_id"]
    # Cleaned up: nothing with the test's Message-ID is left in Sent or the Inbox, and the step says so.
    assert doveadm_count(mailstore, user=ALICE, mailbox="Sent", message_id=message_id) == 0
    assert doveadm_count(mailstore, user=ALICE, mailbox="INBOX", message_id=message_id) == 0
    assert steps["cleanup"].details["sent"]["deleted"] == copies
    assert steps["cleanup"].details["inbox"]["deleted"] == 1
    assert steps["cleanup"].message == "The test messages were deleted from the Sent folder and the Inbox."
    body = client.get(f"/api/v1/diagnostics/{run.pk}/").json()
    assert body["advice"][0]["code"] == code and body["advice"][0]["scenario"] == scenario
    # A sent test says nothing about the account's connection status.
    account.refresh_from_db()
    assert account.last_checked_at is None


def test_the_preview_is_exactly_what_is_sent(celery_worker, api_as, user_s, make_account, mailstore, plain_provider):
    account = _account(make_account, user_s, mailstore, plain_provider)
    client = api_as(user_s)
    preview = client.get(f"/api/v1/mail-accounts/{account.pk}/sent-test/").json()
    assert preview["sender"] == preview["to"] == ALICE
    before = len(plain_provider.messages)
    run = _finish(client.post(f"/api/v1/mail-accounts/{account.pk}/sent-test/").json()["id"])
    assert run.status in ("passed", "warning")
    sent = plain_provider.messages[before].decode()
    headers, _, _body = sent.partition("\r\n\r\n")
    for name, value in preview["headers"]:
        line = re.search(rf"^{re.escape(name)}: (.*?)\r?$", headers, re.M | re.I)
        assert line, name
        if "(" not in value:  # the Message-ID and the date are filled in when sent
            assert line.group(1).strip() == value
    assert re.search(r"^Message-ID: <mailbind-test\.[0-9a-f]{24}@example\.test>\r?$", headers, re.M)
    import email

    assert email.message_from_string(sent).get_payload(decode=True).decode().replace("\r\n", "\n") == preview["body"]


def test_a_pop3_account_is_told_that_pop3_has_no_sent_folder(api_as, user_s, make_account, mailstore, plain_provider):
    account = _account(make_account, user_s, mailstore, plain_provider, protocol="pop3",
                       incoming_port=mailstore.pop3s_port)
    client = api_as(user_s)
    for response in (client.get(f"/api/v1/mail-accounts/{account.pk}/sent-test/"),
                     client.post(f"/api/v1/mail-accounts/{account.pk}/sent-test/")):
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "sent_test_needs_imap"
        assert "POP3 has no Sent folder" in response.json()["error"]["message"]
    assert not DiagnosticRun.objects.filter(kind=RunKind.SENT_TEST).exists()


def test_another_organization_cannot_see_or_start_it(api_as, user_s, admin_x, make_account, mailstore,
                                                     plain_provider):
    account = _account(make_account, user_s, mailstore, plain_provider)
    client = api_as(admin_x)
    assert client.get(f"/api/v1/mail-accounts/{account.pk}/sent-test/").status_code == 404
    assert client.post(f"/api/v1/mail-accounts/{account.pk}/sent-test/").status_code == 404


def test_it_is_rate_limited(throttle_rates, api_as, user_s, make_account, mailstore, plain_provider):
    throttle_rates(sent_test="1/hour")
    account = _account(make_account, user_s, mailstore, plain_provider)
    client = api_as(user_s)
    first = client.post(f"/api/v1/mail-accounts/{account.pk}/sent-test/")
    DiagnosticRun.objects.filter(pk=first.json()["id"]).update(status="passed")
    second = client.post(f"/api/v1/mail-accounts/{account.pk}/sent-test/")
    assert (first.status_code, second.status_code) == (202, 429)


def test_the_periodic_recheck_never_sends_a_test_message(user_s, make_account, mailstore, plain_provider):
    _account(make_account, user_s, mailstore, plain_provider)
    before = len(plain_provider.messages)
    assert accounts_recheck_due() == 1
    assert set(DiagnosticRun.objects.values_list("kind", flat=True)) == {RunKind.ACCOUNT}
    assert len(plain_provider.messages) == before


def test_without_a_sent_folder_it_says_so_and_still_deletes_the_copy_in_the_inbox(
        celery_worker, api_as, user_s, make_account, mailstore, plain_provider):
    from tests.servers.dovecot import BOB

    # bob has an INBOX and no Sent folder.
    account = make_account(user_s, address=BOB, incoming_port=mailstore.imaps_port, incoming_username=BOB,
                           incoming_password=mailstore.users[BOB], smtp_port=plain_provider.port, smtp_username=BOB,
                           smtp_password=mailstore.users[BOB])
    run = _finish(api_as(user_s).post(f"/api/v1/mail-accounts/{account.pk}/sent-test/").json()["id"])
    steps = {s.name: s for s in run.steps.all()}
    assert (run.status, run.outcome) == ("failed", "folder_missing")
    assert steps["sent_folder"].details["inbox"]["deleted"] == 1
    message_id = steps["send"].details["message_id"]
    assert doveadm_count(mailstore, user=BOB, mailbox="INBOX", message_id=message_id) == 0


def test_an_account_connected_with_a_provider_sign_in_is_told_it_needs_a_password(api_as, user_s, make_account,
                                                                                 mailstore, plain_provider):
    account = _account(make_account, user_s, mailstore, plain_provider, auth_method="oauth2")
    client = api_as(user_s)
    for response in (client.get(f"/api/v1/mail-accounts/{account.pk}/sent-test/"),
                     client.post(f"/api/v1/mail-accounts/{account.pk}/sent-test/")):
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "sent_test_needs_password"
    assert not DiagnosticRun.objects.filter(kind=RunKind.SENT_TEST).exists()
