"""An account's streak (working / failing since), the status-change audit events the notifier reads, the outcome
rows of each day, and beat's daily snapshot."""
import datetime

import pytest
from django.utils import timezone

from accounts.models import AuditEvent
from diagnostics.health.models import AccountHealth, AccountOutcomeDay, StatusSnapshot
from diagnostics.health.services import failing_statuses, status_snapshot_take
from mailsettings.models import AccountStatus
from tests.diagnostics.health_helpers import finish_check, make_account

pytestmark = pytest.mark.django_db
T0 = timezone.now() - datetime.timedelta(days=3)


def at(hours: float) -> datetime.datetime:
    return T0 + datetime.timedelta(hours=hours)


def status_events(account):
    return list(AuditEvent.objects.filter(action="mail_account.status_changed", target_id=str(account.pk))
                .order_by("id").values_list("details", flat=True))


def test_failing_statuses_come_from_the_model_choices():
    expected = [s for s in AccountStatus.values if s not in ("pending", "connected", "disabled")]
    assert failing_statuses() == expected and "auth_failed" in expected and "connection_failed" in expected


def test_a_streak_starts_at_the_first_failure_and_repeated_failures_keep_it(user_s):
    account = make_account(user_s)
    finish_check(account, "ok", at=at(0))
    finish_check(account, "auth_invalid_credentials", at=at(1))
    finish_check(account, "auth_invalid_credentials", at=at(7))
    finish_check(account, "port_closed", at=at(13))  # another problem, the same streak
    health = AccountHealth.objects.get(pk=account.pk)
    assert (health.state, health.since, health.outcome) == ("failing", at(1), "port_closed")
    assert account.status == "connection_failed"


def test_a_status_change_is_audited_once_with_its_transition_and_a_recheck_is_not(user_s):
    account = make_account(user_s)
    finish_check(account, "ok", at=at(0))  # pending -> connected: a first verdict, no transition
    finish_check(account, "ok", at=at(6))  # no change: no event
    finish_check(account, "auth_invalid_credentials", at=at(12))
    finish_check(account, "auth_invalid_credentials", at=at(18))  # no change: no event
    finish_check(account, "ok", at=at(24))
    events = status_events(account)
    assert [(e["from"], e["to"], e["transition"]) for e in events] == [
        ("pending", "connected", ""), ("connected", "auth_failed", "failing"),
        ("auth_failed", "connected", "recovered"),
    ]
    assert events[1]["outcome"] == "auth_invalid_credentials"
    assert events[2]["previous_outcome"] == "auth_invalid_credentials"


def test_an_account_that_never_worked_has_no_transition_when_it_fails(user_s):
    account = make_account(user_s)
    finish_check(account, "dns_not_found", at=at(0))
    assert status_events(account)[0]["transition"] == ""
    assert AccountHealth.objects.get(pk=account.pk).since == at(0)


def test_a_check_of_a_turned_off_account_changes_nothing(user_s):
    account = make_account(user_s)
    finish_check(account, "ok", at=at(0))
    account.disabled_at, account.status = timezone.now(), "disabled"
    account.save(update_fields=["disabled_at", "status"])
    finish_check(account, "auth_invalid_credentials", at=timezone.now() + datetime.timedelta(seconds=5))
    assert AccountHealth.objects.get(pk=account.pk).state == "working"
    assert len(status_events(account)) == 1


def test_each_account_has_one_outcome_row_a_day_however_often_it_fails(user_s):
    account = make_account(user_s)
    for hour in (0, 6, 12):
        finish_check(account, "auth_invalid_credentials", at=at(hour))
    finish_check(account, "duplicate_sent_risk", at=at(13))  # warnings are outcomes too
    finish_check(account, "ok", at=at(14))  # ok is not one
    day = timezone.localdate
    expected = {(day(at(h)), "auth_invalid_credentials") for h in (0, 6, 12)} | {(day(at(13)), "duplicate_sent_risk")}
    assert set(AccountOutcomeDay.objects.values_list("date", "outcome")) == expected
    assert AccountOutcomeDay.objects.count() == len(expected)


def test_the_snapshot_counts_accounts_by_organization_and_status_and_is_idempotent_per_day(user_s, admin_a, admin_x):
    finish_check(make_account(user_s), "auth_invalid_credentials")
    finish_check(make_account(admin_a), "ok")
    make_account(admin_x)
    today = timezone.localdate()
    status_snapshot_take()
    status_snapshot_take()  # again the same day: the day's rows are replaced, never doubled
    rows = set(StatusSnapshot.objects.filter(date=today).values_list("organization__name", "status", "accounts"))
    assert rows == {("Acme", "auth_failed", 1), ("Acme", "connected", 1), ("Globex", "pending", 1)}
    yesterday = today - datetime.timedelta(days=1)
    status_snapshot_take(day=yesterday)
    assert StatusSnapshot.objects.filter(date=yesterday).count() == 3
    assert StatusSnapshot.objects.count() == 6
