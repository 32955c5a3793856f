"""Builders for the health, notification and metrics tests: accounts made through the ORM and checks finished
through the same code the walk calls when a run ends (diagnostics.lifecycle.run_finished_record)."""
from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from diagnostics.lifecycle import run_finished_record
from diagnostics.models import DiagnosticRun, DiagnosticStep
from diagnostics.results import WARNING_CODES
from mailsettings.models import MailAccount
from tests.factories import account_make

LONG_AGO = timezone.now() - datetime.timedelta(days=60)
# The step whose failure gives each outcome (what the walk would have written).
_STEP_OF = {
    "auth_invalid_credentials": "login", "auth_app_password_required": "login", "smtp_auth_failed": "smtp_auth",
    "port_closed": "port", "port_filtered": "port", "dns_not_found": "dns", "tls_certificate_invalid": "tls",
    "folder_missing": "folders", "duplicate_sent_risk": "duplicates",
}


def make_account(owner, address: str | None = None, **fields) -> MailAccount:
    """An active IMAP account, its settings last changed long ago (so checks of any time after are recorded)."""
    account = account_make(owner, address, **{"incoming_host": "imap.example.test", "smtp_host": "smtp.example.test",
                                              "smtp_port": 465, "smtp_security": "ssl", **fields})
    MailAccount.objects.filter(pk=account.pk).update(updated_at=LONG_AGO)
    account.refresh_from_db()
    return account


def finish_check(account: MailAccount, outcome: str = "ok", *, at: datetime.datetime | None = None,
                 trigger: str = "schedule") -> DiagnosticRun:
    """A finished account run with `outcome`, ended the way the lifecycle ends one (verdict, status, streak, audit)."""
    at = at or timezone.now()
    if outcome == "ok":
        status, step, step_status = "passed", "login", "passed"
    elif outcome in WARNING_CODES:
        status, step, step_status = "warning", _STEP_OF[outcome], "warning"
    else:
        status, step, step_status = "failed", _STEP_OF[outcome], "failed"
    run = DiagnosticRun.objects.create(organization_id=account.organization_id, account=account, kind="account",
                                       trigger=trigger, status="running", started_at=at, created_at=at, attempts=1)
    DiagnosticStep.objects.create(run=run, position=1, name=step, status=step_status,
                                  code="" if outcome == "ok" else outcome)
    DiagnosticRun.objects.filter(pk=run.pk).update(status=status, outcome=outcome,
                                                   finished_at=at + datetime.timedelta(seconds=2))
    run.refresh_from_db()
    with transaction.atomic():
        run_finished_record(run=run)
    account.refresh_from_db()
    return run
