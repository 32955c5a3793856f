"""Writes of the health page's data: an account's streak after each check (and the audit event of a status change,
which the notifier reads), the outcome-of-the-day rows, and the daily snapshot beat takes."""
from __future__ import annotations

import datetime
from typing import Any

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from accounts.services import audit_record
from diagnostics.health.models import AccountHealth, AccountOutcomeDay, HealthState, StatusSnapshot
from mailsettings.models import AccountStatus, MailAccount

# Statuses that say nothing about whether mail works: not checked yet, or turned off.
NO_VERDICT = frozenset({AccountStatus.PENDING, AccountStatus.DISABLED})
STATUS_CHANGED = "mail_account.status_changed"
# How long the outcome-of-the-day rows are kept (the page shows 7 days).
OUTCOME_DAYS_KEPT = 31


def failing_statuses() -> list[str]:
    """Every status that means mail does not work, from the model's choices: a status added later (a password
    to enter again, a sign-in to renew) counts as failing without a change here."""
    return [value for value in AccountStatus.values if value not in NO_VERDICT and value != AccountStatus.CONNECTED]


def health_state_of(status: str) -> str | None:
    if status == AccountStatus.CONNECTED:
        return HealthState.WORKING
    if status in NO_VERDICT:
        return None
    return HealthState.FAILING


def account_status_locked(*, account_id: int) -> str | None:
    """The account's status as committed, its row locked until the caller's transaction ends (a check's result
    and the transition it makes are decided from the same row)."""
    return (MailAccount.objects.select_for_update().filter(pk=account_id)
            .values_list("status", flat=True).first())


def health_after_check(*, account: MailAccount, previous_status: str | None, status: str, outcome: str,
                       checked_at: datetime.datetime, run_id: int | None = None) -> str | None:
    """Called in the transaction that recorded a check. Moves the account's streak, remembers the day's outcome,
    and writes `mail_account.status_changed` when the status changed. Returns the transition: "failing" (it
    worked and now fails), "recovered" (it failed and works again) or None (a first verdict, or no change)."""
    transition, previous_outcome = _streak_move(account=account, state=health_state_of(status), outcome=outcome,
                                                checked_at=checked_at)
    if outcome:
        AccountOutcomeDay.objects.bulk_create(
            [AccountOutcomeDay(date=timezone.localdate(checked_at), account_id=account.pk,
                               organization_id=account.organization_id, outcome=outcome)],
            ignore_conflicts=True,
        )
    if previous_status != status:
        details: dict[str, Any] = {"from": previous_status or "", "to": status, "outcome": outcome,
                                   "owner_id": account.owner_id, "transition": transition or ""}
        if run_id is not None:
            details["run"] = run_id
        if transition == "recovered":
            details["previous_outcome"] = previous_outcome
        audit_record(action=STATUS_CHANGED, actor=None, organization=account.organization, target=account,
                     details=details)
    return transition


def _streak_move(*, account: MailAccount, state: str | None, outcome: str,
                 checked_at: datetime.datetime) -> tuple[str | None, str]:
    """(transition, the outcome the streak had before)."""
    if state is None:
        return None, ""
    row = AccountHealth.objects.select_for_update().filter(pk=account.pk).first()
    if row is None:
        # A first verdict is no transition: an account that never worked did not "stop working".
        AccountHealth.objects.create(account_id=account.pk, organization_id=account.organization_id, state=state,
                                     since=checked_at, outcome=outcome)
        return None, ""
    before = row.outcome
    if row.state == state:
        if row.outcome != outcome:
            row.outcome = outcome
            row.save(update_fields=["outcome"])
        return None, before
    row.state, row.since, row.outcome, row.changed_at = state, checked_at, outcome, timezone.now()
    row.save(update_fields=["state", "since", "outcome", "changed_at"])
    return ("failing" if state == HealthState.FAILING else "recovered"), before


def status_snapshot_take(*, day: datetime.date | None = None) -> int:
    """Count every organization's accounts by status into the day's snapshot (today by default). Idempotent: the
    day's rows are replaced, so running it again the same day leaves one set, with the latest counts.
    Returns the number of rows written."""
    day = day or timezone.localdate()
    counts = (MailAccount.objects.order_by().values_list("organization_id", "status")
              .annotate(accounts=Count("id")))
    rows = [StatusSnapshot(date=day, organization_id=org, status=status, accounts=n) for org, status, n in counts]
    with transaction.atomic():
        StatusSnapshot.objects.filter(date=day).delete()
        StatusSnapshot.objects.bulk_create(rows)
        AccountOutcomeDay.objects.filter(date__lt=day - datetime.timedelta(days=OUTCOME_DAYS_KEPT)).delete()
    return len(rows)
