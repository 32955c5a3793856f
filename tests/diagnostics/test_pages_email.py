"""/settings/email/ through the Django test client: the form, provider detection without JavaScript, saving (which
starts a run), the account page and its buttons, T6, the lock of T7/T9 (docs/scenarios.md), and no password ever
coming back."""
import re

import pytest
from django.utils.html import escape

from diagnostics import walk
from diagnostics.models import DiagnosticRun
from locks.services import settings_lock_create
from mailsettings.models import MailAccount
from tests.helpers import SENTINEL, PageClient, signed_in

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("loopback_diagnostics")]


@pytest.fixture
def pages():
    """pages(user) → a signed-in PageClient; every response is scanned for the sentinel password at the end."""
    clients = []

    def make(user, **headers):
        client = signed_in(user, client_class=PageClient, **headers)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.assert_never_echoed()


def form_data(dovecot, smtp_implicit, **overrides):
    """The new-account form filled in for alice on Dovecot IMAPS and aiosmtpd implicit TLS (own SMTP login)."""
    data = {
        "address": "alice@example.test", "protocol": "imap",
        "incoming_host": "localhost", "incoming_port": str(dovecot.imaps_port), "incoming_security": "ssl",
        "incoming_username": "", "incoming_password": dovecot.users["alice@example.test"],
        "smtp_host": "localhost", "smtp_port": str(smtp_implicit.port), "smtp_security": "ssl",
        "smtp_username": "alice@example.test", "smtp_password": smtp_implicit.users["alice@example.test"],
        "save": "1",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def field_error(html: str, name: str) -> str:
    """The text of the error list tied to field `name` (id_<name>_error), or ""."""
    match = re.search(rf'<ul class="errorlist" id="id_{name}_error">(.*?)</ul>', html, re.S)
    return re.sub(r"<[^>]+>", " ", match.group(1)) if match else ""


def test_a_user_without_an_account_gets_the_form_with_labels(pages, user_s):
    response = pages(user_s).get("/settings/email/")
    html = response.content.decode()
    assert response.status_code == 200
    for name in ("address", "incoming_host", "incoming_port", "incoming_password", "smtp_host",
                 "smtp_same_credentials", "save_sent_on_server"):
        assert f'for="id_{name}"' in html and f'id="id_{name}"' in html
    assert 'name="detect"' in html and "Detect settings" in html


def test_detect_without_javascript_fills_the_provider_settings_and_its_notes(pages, user_s):
    client = pages(user_s)
    response = client.post("/settings/email/", {"address": "someone@gmail-hosted.test", "protocol": "imap",
                                                 "incoming_password": SENTINEL, "detect": "1"})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'value="imap.gmail.com"' in html and 'value="smtp.gmail.com"' in html and 'value="587"' in html
    assert "Settings of Google Workspace were filled in." in html
    assert "app password" in html  # the provider's note (two-step verification)
    assert 'id="duplicate-warning"' in html and 'id="duplicate-warning" hidden' not in html
    assert 'value="someone@gmail-hosted.test"' in html


def test_detect_fills_only_the_servers_left_empty_and_keeps_what_was_typed(pages, user_s):
    html = pages(user_s).post("/settings/email/", {
        "address": "someone@gmail-hosted.test", "protocol": "imap", "incoming_host": "mail.mine.test",
        "incoming_port": "1993", "incoming_security": "starttls", "smtp_host": "", "smtp_port": "2525",
        "incoming_password": SENTINEL, "detect": "1",
    }).content.decode()
    assert 'value="mail.mine.test"' in html and 'value="1993"' in html and "imap.gmail.com" not in html
    assert '<option value="starttls" selected>' in html.split('id="id_incoming_security"')[1].split("</select>")[0]
    assert 'value="smtp.gmail.com"' in html and 'value="2525"' in html  # the empty host filled, the port kept


def test_the_detect_button_returns_to_the_notes_and_saving_is_the_default_button(pages, user_s):
    html = pages(user_s).get("/settings/email/").content.decode()
    assert 'formaction="/settings/email/#detect-notes"' in html
    # The first submit button of the form is what Enter presses: the hidden "save", before "detect".
    buttons = re.findall(r'<button type="submit" name="(\w+)"', html.split('id="account-form"')[1])
    assert buttons[:2] == ["save", "detect"]


def test_detect_for_an_unknown_domain_says_the_settings_are_a_guess(pages, user_s):
    html = pages(user_s).post("/settings/email/", {"address": "alice@example.test", "detect": "1"}).content.decode()
    assert 'value="imap.example.test"' in html and "Suggested settings were filled in." in html
    assert "These settings are a guess" in html
    assert 'id="duplicate-warning" hidden' in html


def test_the_detect_button_spends_the_lookups_rate_shared_with_the_api(pages, user_s, api_as, throttle_rates):
    throttle_rates(lookups="2/hour")
    client = pages(user_s)
    detect = {"address": "alice@example.test", "protocol": "imap", "detect": "1"}
    assert client.post("/settings/email/", detect).status_code == 200
    assert api_as(user_s).get("/api/v1/providers/detect/", {"address": "alice@example.test"}).status_code == 200
    refused = client.post("/settings/email/", detect)
    assert refused.status_code == 429
    assert "Too many attempts" in refused.content.decode()
    assert 'name="address"' in refused.content.decode()  # the form stays, with what was typed


def test_detect_with_a_broken_address_puts_the_sentence_next_to_the_address(pages, user_s):
    response = pages(user_s).post("/settings/email/", {"address": "not an address", "detect": "1"})
    assert response.status_code == 400
    assert field_error(response.content.decode(), "address").strip()


def test_validation_errors_are_sentences_next_to_their_fields_and_passwords_are_not_echoed(
        pages, user_s, dovecot, smtp_implicit):
    data = form_data(dovecot, smtp_implicit, incoming_host="bad host!", incoming_port="70000",
                     smtp_password="", incoming_password=SENTINEL)
    response = pages(user_s).post("/settings/email/", data)
    html = response.content.decode()
    assert response.status_code == 400
    assert field_error(html, "incoming_port").strip() == "Enter a port number between 1 and 65535."
    assert field_error(html, "incoming_host").strip()
    assert "Enter the password" in field_error(html, "smtp_password")
    assert 'aria-describedby="id_incoming_port_error"' in html and 'aria-invalid="true"' in html
    assert "Some of the values are not valid" in html  # the summary above the form
    assert not MailAccount.objects.exists()


def test_saving_registers_the_account_and_shows_the_run_until_its_advice(pages, user_s, dovecot, smtp_implicit):
    client = pages(user_s)
    response = client.post("/settings/email/", form_data(dovecot, smtp_implicit))
    account = MailAccount.objects.get(owner=user_s)
    run = DiagnosticRun.objects.get(account=account)
    assert response.status_code == 302 and response["Location"] == f"/settings/email/runs/{run.pk}/"

    waiting = client.get(response["Location"]).content.decode()
    assert '<meta http-equiv="refresh" content="5">' in waiting and 'data-finished="false"' in waiting
    assert 'id="run-announcer"' in waiting and "aria-busy" not in waiting
    assert "0 of 10 steps done" in waiting and "Your mail account was saved" in waiting

    walk.run_execute(run_id=run.pk)  # what the worker does; the worker itself is in the browser tests
    done = client.get(response["Location"]).content.decode()
    assert 'http-equiv="refresh"' not in done and 'data-finished="true"' in done
    assert "Everything checked out" in done and "Signing in to the incoming server works." in done

    fragment = client.get(f"/settings/email/runs/{run.pk}/steps/")
    assert "no-store" in fragment["Cache-Control"] and b"<html" not in fragment.content
    assert b"Everything checked out" in fragment.content

    page = client.get("/settings/email/").content.decode()
    assert "alice@example.test" in page and "Connected" in page and "Everything checked out" in page
    assert "Test again" in page and "Change password" in page and "Turn IMAP/POP3 off" in page


def test_a_failed_check_ends_with_the_advice_in_plain_words(pages, user_s, dovecot, smtp_implicit):
    client = pages(user_s)
    client.post("/settings/email/", form_data(dovecot, smtp_implicit, incoming_password=SENTINEL))
    run = DiagnosticRun.objects.get()
    walk.run_execute(run_id=run.pk)
    html = client.get(f"/settings/email/runs/{run.pk}/").content.decode()
    assert "The user name or password was not accepted" in html
    assert "Type the password by hand" in html
    assert "auth_invalid_credentials" not in html  # a sentence, never the code


def test_the_second_user_of_an_address_reads_the_t6_sentence_next_to_the_address(
        pages, user_s, admin_b, admin_x, make_account, dovecot, smtp_implicit):
    make_account(user_s)
    response = pages(admin_x).post("/settings/email/", form_data(dovecot, smtp_implicit))
    html = response.content.decode()
    assert response.status_code == 409
    assert "already configured with IMAP/POP3 in another account" in field_error(html, "address")
    assert "user.s@acme.test" not in html  # never another organization's user
    same_org = pages(admin_b).post("/settings/email/", form_data(dovecot, smtp_implicit)).content.decode()
    # An admin of the holder's organization may know who it is: said inside the address field's own block.
    address_block = same_org.split('id="field-address"')[1].split('id="field-protocol"')[0]
    assert "user.s@acme.test uses this address" in address_block and 'id="id_address_note"' in address_block


LOCK_SENTENCE = "You don't have permission to change these mail settings. Contact your organization's administrator."


def _assert_locked(response, path):
    html = response.content.decode()
    assert response.status_code == 403, path
    assert escape(LOCK_SENTENCE) in html and 'id="settings-locked"' in html, path
    assert 'id="account-form"' not in html and "id_incoming_host" not in html and 'id="id_password"' not in html
    assert 'id="account-summary"' not in html and "settings_locked" not in html


def _locked_paths(run, dovecot, smtp_implicit):
    """Every page of one's own mail settings (and of one's account's runs), with what a browser would send."""
    detect = {"address": "alice@example.test", "protocol": "imap", "detect": "1"}
    return [
        ("get", "/settings/email/", None), ("post", "/settings/email/", form_data(dovecot, smtp_implicit)),
        ("post", "/settings/email/", detect), ("post", "/settings/email/test/", None),
        ("get", "/settings/email/password/", None),
        ("post", "/settings/email/password/", {"apply_to": "both", "password": SENTINEL}),
        ("get", "/settings/email/turn-off/", None), ("post", "/settings/email/turn-off/", None),
        ("get", f"/settings/email/runs/{run.pk}/", None), ("get", f"/settings/email/runs/{run.pk}/steps/", None),
        ("get", f"/tools/runs/{run.pk}/", None), ("get", f"/tools/runs/{run.pk}/steps/", None),
    ]


def test_a_locked_user_reads_the_lock_sentence_instead_of_the_form_everywhere(
        pages, user_s, admin_a, make_account, dovecot, smtp_implicit):
    account = make_account(user_s)
    password = account.incoming_password
    run = DiagnosticRun.objects.create(organization=account.organization, account=account, kind="account")
    settings_lock_create(actor=admin_a, user=user_s, reason="audit")
    client = pages(user_s)
    for method, path, data in _locked_paths(run, dovecot, smtp_implicit):
        _assert_locked(getattr(client, method)(path, data), path)
    account.refresh_from_db()
    assert account.is_active and account.incoming_password == password and DiagnosticRun.objects.count() == 1


def test_a_locked_admin_reads_the_lock_on_their_own_settings_but_still_sees_their_users_runs(
        pages, user_s, admin_a, admin_b, make_account, dovecot, smtp_implicit):
    """docs/scenarios.md T9: the lock binds an admin's own settings like anyone's; managing the organization's
    users is the admin's."""
    own = make_account(admin_a, address="admin.a@example.test")
    own_run = DiagnosticRun.objects.create(organization=own.organization, account=own, kind="account")
    users = make_account(user_s)
    users_run = DiagnosticRun.objects.create(organization=users.organization, account=users, kind="account")
    settings_lock_create(actor=admin_b, user=admin_a, reason="audit")
    client = pages(admin_a)
    for method, path, data in _locked_paths(own_run, dovecot, smtp_implicit):
        _assert_locked(getattr(client, method)(path, data), path)
    own.refresh_from_db()
    assert own.is_active and DiagnosticRun.objects.filter(account=own).count() == 1
    response = client.get(f"/settings/email/runs/{users_run.pk}/")
    assert response.status_code == 200 and b"alice@example.test" in response.content


def test_the_lock_page_follows_the_browser_language(pages, user_s, admin_a):
    from django.utils import translation

    settings_lock_create(actor=admin_a, user=user_s)
    response = pages(user_s).get("/settings/email/", HTTP_ACCEPT_LANGUAGE="ja")
    with translation.override("ja"):
        japanese = translation.gettext(LOCK_SENTENCE)
    assert japanese != LOCK_SENTENCE  # the catalog has it
    html = response.content.decode()
    assert response.status_code == 403 and 'lang="ja"' in html
    assert escape(japanese) in html and "メール設定" in html


def test_test_again_starts_a_run_and_a_second_press_shows_the_same_run(pages, user_s, make_account):
    account = make_account(user_s)
    client = pages(user_s)
    first = client.post("/settings/email/test/")
    second = client.post("/settings/email/test/")
    run = DiagnosticRun.objects.get(account=account)
    assert first["Location"] == second["Location"] == f"/settings/email/runs/{run.pk}/"
    assert "A check is running now." in client.get("/settings/email/").content.decode()


def _finished_run(account, *, code, created_at):
    from diagnostics.models import DiagnosticStep

    run = DiagnosticRun.objects.create(organization=account.organization, account=account, kind="account",
                                       status="failed", created_at=created_at, finished_at=created_at)
    DiagnosticStep.objects.create(run=run, position=0, name="login", status="failed", code=code)
    return run


def test_the_account_page_shows_the_run_in_flight_and_the_last_finished_runs_advice_in_few_queries(
        pages, user_s, make_account):
    from datetime import timedelta

    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    account = make_account(user_s)
    now = timezone.now()
    _finished_run(account, code="tls_certificate_expired", created_at=now - timedelta(hours=3))
    _finished_run(account, code="auth_invalid_credentials", created_at=now - timedelta(hours=2))
    client = pages(user_s)
    with CaptureQueriesContext(connection) as few:
        client.get("/settings/email/")
    for hours in range(4, 14):  # ten more, older runs: the page reads no more of them
        _finished_run(account, code="tls_certificate_expired", created_at=now - timedelta(hours=hours))
    DiagnosticRun.objects.create(organization=account.organization, account=account, kind="account",
                                 status="running", created_at=now - timedelta(hours=1))
    with CaptureQueriesContext(connection) as many:
        html = client.get("/settings/email/").content.decode()
    assert len(many) == len(few)
    last_check = html.split('id="last-check"')[1]
    assert "A check is running now." in html
    assert "The user name or password was not accepted" in last_check
    assert "certificate" not in last_check


@pytest.mark.parametrize(("apply_to", "incoming", "outgoing"), [
    ("both", True, True), ("incoming", True, False), ("outgoing", False, True)])
def test_change_password_sets_incoming_outgoing_or_both_and_checks_again(
        pages, user_s, make_account, apply_to, incoming, outgoing):
    account = make_account(user_s)
    old_in, old_out = account.incoming_password, account.smtp_password
    client = pages(user_s)
    assert b"Incoming and outgoing servers" in client.get("/settings/email/password/").content
    response = client.post("/settings/email/password/", {"apply_to": apply_to, "password": SENTINEL})
    run = DiagnosticRun.objects.get(account=account)
    assert response["Location"] == f"/settings/email/runs/{run.pk}/"
    account.refresh_from_db()
    assert (account.incoming_password == SENTINEL) is incoming and (account.incoming_password == old_in) is not incoming
    assert (account.smtp_password == SENTINEL) is outgoing and (account.smtp_password == old_out) is not outgoing


def test_an_empty_new_password_is_a_sentence_next_to_the_field(pages, user_s, make_account):
    make_account(user_s)
    response = pages(user_s).post("/settings/email/password/", {"apply_to": "both", "password": ""})
    assert response.status_code == 400
    assert field_error(response.content.decode(), "password").strip() == "Enter the password."


def test_turning_off_asks_first_then_frees_the_address(pages, user_s, make_account):
    account = make_account(user_s)
    client = pages(user_s)
    confirm = client.get("/settings/email/turn-off/").content.decode()
    assert "Yes, turn it off" in confirm
    account.refresh_from_db()
    assert account.is_active
    response = client.post("/settings/email/turn-off/")
    assert response["Location"] == "/settings/email/"
    account.refresh_from_db()
    assert not account.is_active
    page = client.get("/settings/email/").content.decode()
    assert "IMAP/POP3 is turned off for alice@example.test" in page and 'id="account-form"' in page


def test_the_account_buttons_without_an_account_lead_back_to_the_form(pages, user_s):
    client = pages(user_s)
    for path in ("/settings/email/password/", "/settings/email/turn-off/"):
        assert client.get(path)["Location"] == "/settings/email/"


def test_nobody_reads_another_organizations_or_another_users_run(pages, user_s, admin_a, admin_x, make_account):
    account = make_account(user_s)
    run = DiagnosticRun.objects.create(organization=account.organization, account=account, kind="account")
    for outsider in (admin_x,):
        for path in (f"/settings/email/runs/{run.pk}/", f"/settings/email/runs/{run.pk}/steps/"):
            response = pages(outsider).get(path)
            assert response.status_code == 404 and b"alice@example.test" not in response.content
    assert pages(admin_a).get(f"/settings/email/runs/{run.pk}/").status_code == 200  # their organization's admin


def test_a_standard_user_cannot_read_a_colleagues_run(pages, user_s, admin_a, make_account):
    account = make_account(admin_a, address="colleague@example.test")
    run = DiagnosticRun.objects.create(organization=account.organization, account=account, kind="account")
    client = pages(user_s)
    for path in (f"/settings/email/runs/{run.pk}/", f"/settings/email/runs/{run.pk}/steps/",
                 f"/tools/runs/{run.pk}/", f"/tools/runs/{run.pk}/steps/"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert b"colleague@example.test" not in response.content
        assert b"Nothing was found here." in response.content


def test_an_operator_is_told_they_have_no_mail_settings(pages, operator):
    client = pages(operator)
    for method, path in [("get", "/settings/email/"), ("post", "/settings/email/"), ("post", "/settings/email/test/"),
                         ("get", "/settings/email/password/"), ("get", "/settings/email/turn-off/")]:
        response = getattr(client, method)(path)
        assert response.status_code == 403, path
        assert "Mail settings belong to users of an organization; operators have none." in response.content.decode()
        assert "no_mail_settings" not in response.content.decode()


def test_signed_in_pages_are_never_cached(pages, user_s, make_account):
    account = make_account(user_s)
    run = DiagnosticRun.objects.create(organization=account.organization, account=account, kind="account")
    client = pages(user_s)
    for path in ("/settings/email/", "/settings/email/password/", "/settings/email/turn-off/",
                 f"/settings/email/runs/{run.pk}/", f"/settings/email/runs/{run.pk}/steps/", "/tools/port-check/",
                 "/tools/domain-details/"):
        cache_control = client.get(path)["Cache-Control"]
        assert "no-store" in cache_control and "private" in cache_control, path


def test_the_password_posts_are_hidden_from_error_reports(pages, user_s, make_account, dovecot, smtp_implicit):
    client = pages(user_s)
    new = client.post("/settings/email/", form_data(dovecot, smtp_implicit, incoming_port="x"))
    assert new.wsgi_request.sensitive_post_parameters == ("incoming_password", "smtp_password")
    make_account(user_s)
    change = client.post("/settings/email/password/", {"apply_to": "both", "password": ""})
    assert change.wsgi_request.sensitive_post_parameters == ("password",)


def test_a_lock_placed_while_the_password_form_was_open_propagates_from_the_form(user_s, admin_a, make_account):
    from locks.errors import SettingsLocked
    from mailsettings.forms import PasswordChangeForm

    account = make_account(user_s)
    settings_lock_create(actor=admin_a, user=user_s)
    form = PasswordChangeForm({"apply_to": "both", "password": SENTINEL})
    with pytest.raises(SettingsLocked):
        form.change(actor=user_s, account=account)
    account.refresh_from_db()
    assert account.incoming_password != SENTINEL


@pytest.mark.parametrize(("address", "smtp_host", "shown"), [
    ("someone@gmail.com", "smtp.gmail.com", True),  # the provider's preset domain and its own SMTP server
    ("someone@example.test", "smtp.gmail.com", True),  # sent through the provider's SMTP server
    ("someone@example.test", "localhost", False),
])
def test_the_duplicate_warning_is_recomputed_when_a_refused_form_comes_back(
        pages, user_s, dovecot, smtp_implicit, address, smtp_host, shown):
    data = form_data(dovecot, smtp_implicit, address=address, smtp_host=smtp_host, incoming_password="",
                     save_sent_on_server="on")
    html = pages(user_s).post("/settings/email/", data).content.decode()
    assert 'id="duplicate-warning"' in html
    assert ('id="duplicate-warning" hidden' not in html) is shown


def test_an_invalid_choice_of_where_the_password_applies_is_tied_to_its_fieldset(pages, user_s, make_account):
    make_account(user_s)
    html = pages(user_s).post("/settings/email/password/", {"apply_to": "sideways", "password": SENTINEL}
                              ).content.decode()
    assert '<fieldset aria-describedby="id_apply_to_error">' in html
    assert field_error(html, "apply_to").strip()


def test_the_lock_page_says_who_locked_and_since_when(pages, user_s, admin_a):
    lock = settings_lock_create(actor=admin_a, user=user_s, reason="audit")
    html = pages(user_s).get("/settings/email/").content.decode()
    since = re.search(r'id="locked-since">(.*?)</p>', html, re.S).group(1)
    assert lock.locked_by_name in since and str(lock.locked_at.year) in since and "since" in since


def test_an_admin_watching_a_users_run_is_not_told_it_is_their_account(pages, user_s, admin_a, make_account):
    account = make_account(user_s)
    run = DiagnosticRun.objects.create(organization=account.organization, account=account, kind="account")
    admins_view = pages(admin_a).get(f"/settings/email/runs/{run.pk}/").content.decode()
    assert "Checking a mail account" in admins_view and "your mail account" not in admins_view
    assert "Checking your mail account" in pages(user_s).get(f"/settings/email/runs/{run.pk}/").content.decode()


def test_saving_again_when_an_account_exists_changes_nothing_and_shows_the_account(
        pages, user_s, make_account, dovecot, smtp_implicit):
    account = make_account(user_s)
    client = pages(user_s)
    response = client.post("/settings/email/", form_data(dovecot, smtp_implicit, address="other@example.test",
                                                         incoming_password=SENTINEL))
    assert response.status_code == 302 and response["Location"] == "/settings/email/"
    assert MailAccount.objects.get() == account and not DiagnosticRun.objects.exists()
    assert MailAccount.objects.get().incoming_password != SENTINEL
    assert 'id="account-summary"' in client.get("/settings/email/").content.decode()


def test_test_again_when_throttled_says_so_on_the_account_page(pages, user_s, make_account, throttle_rates):
    throttle_rates(diagnostics="1/hour")
    account = make_account(user_s)
    client = pages(user_s)
    assert client.post("/settings/email/test/")["Location"].startswith("/settings/email/runs/")
    DiagnosticRun.objects.filter(account=account).update(status="passed")  # finished: a new press would start one
    response = client.post("/settings/email/test/")
    assert response.status_code == 302 and response["Location"] == "/settings/email/"
    page = client.get("/settings/email/").content.decode()
    assert "Too many attempts. Wait a few minutes and try again." in page and 'class="message message-error"' in page
    assert DiagnosticRun.objects.filter(account=account).count() == 1


@pytest.mark.django_db(transaction=True)
def test_test_again_when_the_queue_is_down_says_so_and_records_the_run_as_error(
        pages, user_s, make_account, broker_unreachable):
    account = make_account(user_s)
    client = pages(user_s)
    response = client.post("/settings/email/test/")
    assert response.status_code == 302 and response["Location"] == "/settings/email/"
    page = client.get("/settings/email/").content.decode()
    assert "the task queue is unreachable" in page and "queue_unavailable" not in page
    run = DiagnosticRun.objects.get(account=account)
    assert (run.status, run.outcome) == ("error", "queue_unavailable")
    assert "The check could not be queued" in page  # the last run's advice, in words
