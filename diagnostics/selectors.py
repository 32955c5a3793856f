"""Reads of diagnostics, scoped to the organization (and, for standard users, to their own accounts)."""
from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from config.errors import NotFound
from diagnostics.models import IN_FLIGHT, DiagnosticRun
from mailsettings.selectors import mail_account_get


def diagnostic_run_list_for_account(*, actor: User, account_id: int) -> QuerySet[DiagnosticRun]:
    account = mail_account_get(actor=actor, account_id=account_id)  # tenant scope and settings lock
    return DiagnosticRun.objects.filter(account=account).prefetch_related("steps").order_by("-created_at", "-id")


def diagnostic_run_latest_for_account(
    *, actor: User, account_id: int
) -> tuple[DiagnosticRun | None, DiagnosticRun | None]:
    """(the run in flight, the last finished run with its steps) of an account, either None: what the account page
    shows, in two narrow queries (no steps of older runs)."""
    account = mail_account_get(actor=actor, account_id=account_id)  # tenant scope and settings lock
    runs = DiagnosticRun.objects.filter(account=account).order_by("-created_at", "-id")
    in_flight = runs.filter(status__in=IN_FLIGHT).first()
    last = runs.exclude(status__in=IN_FLIGHT).prefetch_related("steps").first()
    return in_flight, last


def diagnostic_run_get(*, actor: User, run_id: int) -> DiagnosticRun:
    """A run the actor may read: 404 for another tenant's, or for another user's unless the actor is an admin.
    Account runs pass the mail-settings check (a locked user cannot read their account's runs)."""
    runs = DiagnosticRun.objects.select_related("account").prefetch_related("steps")
    if not actor.is_superuser:
        runs = runs.filter(organization_id=actor.organization_id)
        if not actor.is_org_admin:
            runs = runs.filter(Q(account__owner=actor) | Q(account__isnull=True, requested_by=actor))
    run = runs.filter(pk=run_id).first()
    if run is None:
        raise NotFound()
    if run.account_id is not None:
        mail_account_get(actor=actor, account_id=run.account_id)
    return run


def sent_test_preview(*, actor: User, account_id: int) -> dict:
    """What "Send a test message" sends for this account, and what happens to it (raises for POP3 accounts)."""
    from diagnostics.errors import SentTestNeedsImap, SentTestNeedsPassword
    from diagnostics.sent_test_message import preview

    account = mail_account_get(actor=actor, account_id=account_id)  # tenant scope and settings lock
    if account.protocol != "imap":
        raise SentTestNeedsImap()
    if account.auth_method != "password":
        raise SentTestNeedsPassword()
    return {"account": account.pk, **preview(account.address), "note": str(SENT_TEST_NOTE)}


SENT_TEST_NOTE = _(
    "The message goes from this address to itself through its outgoing server. The Sent folder is then watched "
    "for copies for a short while; if \"Save sent mail on the server\" is on, a copy is saved there as a mail "
    "program would. Afterwards the test messages are deleted from the Sent folder and the Inbox."
)
