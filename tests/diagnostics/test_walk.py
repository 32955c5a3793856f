"""Account runs walked in-process (the same walk the worker calls) against real servers on loopback."""
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from diagnostics import lifecycle, walk
from diagnostics.models import DiagnosticRun, RunKind
from tests.servers.ports import free_port

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("loopback_diagnostics")]

ORDER = ["settings", "domain", "dns", "port", "tls", "greeting", "login", "folders", "smtp_auth", "duplicates"]


def run_for(account):
    run = DiagnosticRun.objects.create(organization=account.organization, account=account, kind=RunKind.ACCOUNT)
    written = []
    walk.run_execute(run_id=run.pk, on_step=lambda row: written.append(row.name))
    run.refresh_from_db()
    account.refresh_from_db()
    return run, {s.name: s for s in run.steps.all()}, written


def test_a_good_imap_account_passes_every_step_in_order_and_is_connected(user_s, make_account):
    account = make_account(user_s)
    run, steps, written = run_for(account)
    assert written == ORDER
    assert [s.name for s in run.steps.all()] == ORDER
    assert {name: s.status for name, s in steps.items()} == {name: "passed" for name in ORDER}, {
        n: (s.status, s.code, s.details) for n, s in steps.items() if s.status != "passed"}
    assert (run.status, run.outcome) == ("passed", "ok")
    assert steps["folders"].details["sent"]["name"] == "Sent"
    assert account.status == "connected" and account.last_checked_at is not None and account.last_error_code == ""


def test_a_wrong_password_fails_login_as_invalid_credentials_with_t2_advice(user_s, make_account):
    account = make_account(user_s, incoming_password="not-the-password")
    run, steps, _ = run_for(account)
    assert (steps["login"].status, steps["login"].code) == ("failed", "auth_invalid_credentials")
    assert steps["folders"].status == "skipped"
    assert steps["smtp_auth"].status == "passed"
    assert (run.status, run.outcome) == ("failed", "auth_invalid_credentials")
    assert (account.status, account.last_error_code) == ("auth_failed", "auth_invalid_credentials")


def test_a_mailbox_without_sent_is_folder_missing_but_still_connected(user_s, make_account, dovecot):
    account = make_account(user_s, address="bob@example.test", smtp_same_credentials=False)
    run, steps, _ = run_for(account)
    assert (steps["folders"].status, steps["folders"].code) == ("failed", "folder_missing")
    assert run.outcome == "folder_missing"
    assert account.status == "connected" and account.last_error_code == "folder_missing"


def test_pop3_over_starttls_checks_the_mailbox_with_stat(user_s, make_account, dovecot):
    account = make_account(user_s, protocol="pop3", incoming_port=dovecot.pop3_port, incoming_security="starttls")
    run, steps, _ = run_for(account)
    assert run.status in ("passed", "warning"), {n: (s.status, s.code) for n, s in steps.items()}
    assert steps["tls"].details["incoming"]["tls_version"].startswith("TLS")
    assert "messages" in json.dumps(steps["folders"].details)


def test_imap_starttls_on_port_143_style_passes(user_s, make_account, dovecot):
    account = make_account(user_s, incoming_port=dovecot.imap_port, incoming_security="starttls")
    run, steps, _ = run_for(account)
    assert run.status == "passed", {n: (s.status, s.code) for n, s in steps.items()}


def test_an_smtp_app_password_answer_is_recognized_and_the_account_is_auth_failed(user_s, make_account,
                                                                                   smtp_implicit):
    account = make_account(user_s, smtp_username=smtp_implicit.app_password_user, smtp_password="anything")
    run, steps, _ = run_for(account)
    assert (steps["smtp_auth"].status, steps["smtp_auth"].code) == ("failed", "auth_app_password_required")
    assert account.status == "auth_failed"


def test_a_closed_port_fails_the_port_step_and_skips_the_incoming_sign_in(user_s, make_account):
    account = make_account(user_s, incoming_port=free_port())
    run, steps, _ = run_for(account)
    assert (steps["port"].status, steps["port"].code) == ("failed", "port_closed")
    assert steps["port"].details["outgoing"].get("ip") == "127.0.0.1"
    assert steps["login"].status == steps["folders"].status == "skipped"
    assert steps["smtp_auth"].status == "passed"
    assert account.status == "connection_failed"


def test_loopback_is_refused_by_default(user_s, make_account, settings):
    settings.DIAGNOSTICS_ALLOWED_NETWORKS = []
    account = make_account(user_s)
    run, steps, _ = run_for(account)
    assert steps["port"].code == "target_not_allowed"
    assert run.outcome == "target_not_allowed"


def test_a_gmail_hosted_domain_configured_elsewhere_is_a_provider_mismatch_with_suggestions(user_s, make_account):
    account = make_account(user_s, address="someone@gmail-hosted.test")
    run, steps, _ = run_for(account)
    domain = steps["domain"]
    assert (domain.status, domain.code) == ("warning", "provider_mismatch")
    assert domain.details["provider"]["id"] == "google_workspace"
    assert domain.details["suggested"]["incoming"]["host"] == "imap.gmail.com"


def test_the_domain_step_uses_the_same_detection_as_the_page_ispdb_included(user_s, make_account):
    # OCN is in no table of ours, only in the bundled ISPDB: a POP3 account pointed elsewhere is still a mismatch.
    account = make_account(user_s, address="taro@ocn.ne.jp", protocol="pop3")
    _run, steps, _ = run_for(account)
    domain = steps["domain"]
    assert (domain.status, domain.code) == ("warning", "provider_mismatch")
    assert domain.details["source"] == "ispdb" and domain.details["provider"]["name"] == "OCN"
    assert domain.details["suggested"]["incoming"] == {"protocol": "pop3", "host": "pop.ocn.ne.jp", "port": 995,
                                                       "security": "ssl", "username": "taro@ocn.ne.jp"}
    assert domain.details["candidates"][0]["evidence"][0]["file"] == "ocn.ne.jp.xml"


def test_saving_sent_mail_with_a_provider_that_saves_it_warns_of_duplicates(user_s, make_account):
    account = make_account(user_s, address="someone@gmail-hosted.test", save_sent_on_server=True)
    _run, steps, _ = run_for(account)
    assert (steps["duplicates"].status, steps["duplicates"].code) == ("warning", "duplicate_sent_risk")


def test_no_password_reaches_a_step_row(user_s, make_account, dovecot, smtp_implicit):
    account = make_account(user_s, incoming_password="Wrong-S3ntinel-pw")
    run, _steps, _ = run_for(account)
    stored = json.dumps(list(run.steps.values("details", "message")))
    for secret in ("Wrong-S3ntinel-pw", smtp_implicit.users["alice@example.test"]):
        assert secret not in stored


def test_a_finished_run_is_not_run_again(user_s, make_account):
    account = make_account(user_s)
    run, _steps, _ = run_for(account)
    finished_at = run.finished_at
    assert walk.run_execute(run_id=run.pk) is None
    run.refresh_from_db()
    assert run.finished_at == finished_at and run.steps.count() == len(ORDER)


def test_a_run_redelivered_after_its_worker_died_starts_over_once_then_gives_up(user_s, make_account):
    long_ago = timezone.now() - timedelta(seconds=lifecycle.longest_run_seconds() + 1)
    account = make_account(user_s)
    run = DiagnosticRun.objects.create(organization=account.organization, account=account, kind=RunKind.ACCOUNT,
                                       status="running", attempts=1, started_at=long_ago)
    run.steps.create(position=1, name="settings", status="passed")
    walk.run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == "passed" and run.attempts == 2 and run.steps.count() == len(ORDER)
    lost = DiagnosticRun.objects.create(organization=account.organization, account=account, kind=RunKind.ACCOUNT,
                                        status="running", attempts=2, started_at=long_ago)
    walk.run_execute(run_id=lost.pk)
    lost.refresh_from_db()
    assert (lost.status, lost.outcome) == ("error", "worker_lost")


def test_a_run_another_executor_is_walking_is_left_alone(user_s, make_account):
    account = make_account(user_s)
    run = DiagnosticRun.objects.create(organization=account.organization, account=account, kind=RunKind.ACCOUNT,
                                       status="running", attempts=1, started_at=timezone.now())
    run.steps.create(position=1, name="settings", status="passed")
    assert walk.run_execute(run_id=run.pk) is None
    run.refresh_from_db()
    assert run.status == "running" and run.attempts == 1 and run.steps.count() == 1


def test_celerys_soft_time_limit_ends_the_run_as_a_timeout_with_every_step_accounted_for(user_s, make_account):
    from celery.exceptions import SoftTimeLimitExceeded

    account = make_account(user_s)
    run = DiagnosticRun.objects.create(organization=account.organization, account=account, kind=RunKind.ACCOUNT)

    def signal_arrives(row):
        if row.position == 3:  # the worker's soft limit fires while the run walks its third step
            raise SoftTimeLimitExceeded()

    walk.run_execute(run_id=run.pk, on_step=signal_arrives)
    run.refresh_from_db()
    account.refresh_from_db()
    assert (run.status, run.outcome) == ("error", "timeout")
    assert [s.name for s in run.steps.all()] == ORDER
    assert [s.status for s in run.steps.all()][3:] == ["skipped"] * 7
    assert run.steps.get(position=4).details == {"skipped_because": "run_time_limit"}
    assert account.status == "pending"  # a run that could not finish says nothing about the account


def test_a_server_that_drips_cannot_hold_a_run_past_its_budget(user_s, make_account, scripted_server, settings):
    import time

    from tests.servers import scripted

    settings.DIAGNOSTICS_RUN_TIMEOUT = 2.0
    settings.DIAGNOSTICS_STEP_TIMEOUT = 30.0
    drip = scripted_server(scripted.drip(interval=0.5))
    account = make_account(user_s, incoming_port=drip.port, incoming_security="none")
    started = time.monotonic()
    run, steps, _ = run_for(account)
    assert time.monotonic() - started < 2.0 + 3.0
    assert (run.status, run.outcome) == ("error", "timeout")
    assert list(steps) == ORDER


def test_no_password_reaches_a_log_line_even_at_debug(user_s, make_account, caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    account = make_account(user_s, incoming_password="Log-S3ntinel-pw", save_sent_on_server=True)
    run_for(account)
    assert caplog.records, "the run logged nothing at all: this test would prove nothing"
    assert "Log-S3ntinel-pw" not in caplog.text


def test_runs_are_held_to_the_mail_ports(user_s, make_account, settings, dovecot):
    settings.DIAGNOSTICS_EXTRA_PORTS = []
    account = make_account(user_s)
    _run, steps, _ = run_for(account)
    assert steps["port"].code == "target_not_allowed"
    assert steps["port"].details["incoming"]["reason"] == "port_not_allowed"


def test_a_configuration_without_tls_says_so(user_s, make_account, dovecot, smtp_starttls):
    account = make_account(user_s, incoming_port=dovecot.imap_port, incoming_security="none")
    _run, steps, _ = run_for(account)
    assert steps["tls"].details["incoming"]["not_applicable"] == "no_tls_configured"


def test_the_duplicate_warning_agrees_with_the_accounts_own_warnings(user_s, make_account):
    from mailsettings.warnings import account_warnings

    # A custom domain whose MX names no provider, sending through Gmail's SMTP server (which files the copy).
    account = make_account(user_s, smtp_host="smtp.gmail.com", save_sent_on_server=True)
    _run, steps, _ = run_for(account)
    assert "duplicate_sent_risk" in [w.code for w in account_warnings(account)]
    assert (steps["duplicates"].status, steps["duplicates"].code) == ("warning", "duplicate_sent_risk")


def test_a_refused_accounts_steps_name_no_internal_address(user_s, make_account, settings):
    settings.DIAGNOSTICS_ALLOWED_NETWORKS = []
    account = make_account(user_s)  # localhost: refused by default
    run, steps, _ = run_for(account)
    assert steps["port"].code == "target_not_allowed"
    assert steps["dns"].details["incoming"]["addresses_refused"] == "private_or_reserved"
    assert "private or reserved" in steps["dns"].message
    rows = json.dumps([(s.details, s.message) for s in run.steps.all()])
    assert "127.0.0.1" not in rows and "::1" not in rows


def test_a_failed_sign_in_row_names_the_address_the_probe_connected_to(user_s, make_account):
    # The failed-sign-in guard counts these rows per address as well as per host spelling.
    account = make_account(user_s, incoming_password="not-the-password")
    _run, steps, _ = run_for(account)
    assert steps["login"].status == "failed"
    assert (steps["login"].details["host"], steps["login"].details["ip"]) == ("localhost", "127.0.0.1")
