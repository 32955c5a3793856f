"""Reads of the health page and its CSV export, scoped to what the actor may see: an organization admin their own
organization, an operator every organization or the one they filter by. A fixed, small number of queries
whatever the number of accounts (measured by tests/benchmarks/health_page.py)."""
from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import Case, CharField, Count, DateTimeField, F, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import Organization, User
from config.errors import NotFound, PermissionDenied
from diagnostics.health.models import AccountOutcomeDay, HealthState, StatusSnapshot
from diagnostics.health.services import failing_statuses
from mailsettings.models import AccountStatus, MailAccount

TREND_DAYS = 30
TOP_OUTCOME_DAYS = 7


@dataclass(frozen=True)
class HealthScope:
    """Which accounts the page is about: one organization, or (operators only) all of them."""

    organization: Organization | None

    def accounts(self) -> QuerySet[MailAccount]:
        qs = MailAccount.objects.all()
        return qs if self.organization is None else qs.filter(organization_id=self.organization.pk)

    def filter(self, qs: QuerySet, field: str = "organization_id") -> QuerySet:
        return qs if self.organization is None else qs.filter(**{field: self.organization.pk})


def health_scope(*, actor: User, organization_id: object = None) -> HealthScope:
    """An organization admin sees their organization whatever they ask; an operator all, or the one asked for."""
    if actor.is_superuser and actor.is_active:
        if organization_id in (None, ""):
            return HealthScope(organization=None)
        try:
            organization = Organization.objects.filter(pk=int(organization_id)).first()
        except (TypeError, ValueError):
            organization = None
        if organization is None:
            raise NotFound()
        return HealthScope(organization=organization)
    if not actor.is_org_admin:
        raise PermissionDenied()
    return HealthScope(organization=actor.organization)


def status_counts(*, scope: HealthScope) -> list[tuple[str, object, int]]:
    """(status, label, accounts) for every status of the model's choices, zeros included, in the choices' order."""
    counts = dict(scope.accounts().order_by().values_list("status").annotate(n=Count("id")))
    return [(value, label, counts.get(value, 0)) for value, label in AccountStatus.choices]


def _failing_since() -> Case:
    # The streak's start when the streak is a failing one; an account made failing some other way (not by a
    # check) has no streak yet: its last check, else its last change.
    return Case(
        When(health__state=HealthState.FAILING, then=F("health__since")),
        default=Coalesce(F("last_checked_at"), F("updated_at")),
        output_field=DateTimeField(),
    )


def failing_accounts(*, scope: HealthScope) -> QuerySet[MailAccount]:
    """Active accounts whose status says mail does not work, longest-failing first."""
    return (
        scope.accounts()
        .filter(status__in=failing_statuses(), disabled_at__isnull=True)
        .select_related("owner", "organization")
        .annotate(failing_since=_failing_since())
        .order_by("failing_since", "id")
    )


def top_outcomes(*, scope: HealthScope, days: int = TOP_OUTCOME_DAYS, limit: int = 8) -> list[tuple[str, int]]:
    """(outcome, accounts): the problems that hit the most accounts in the last `days` days (today included)."""
    since = timezone.localdate() - datetime.timedelta(days=days - 1)
    rows = (scope.filter(AccountOutcomeDay.objects.filter(date__gte=since)).order_by()
            .values_list("outcome").annotate(accounts=Count("account_id", distinct=True))
            .order_by("-accounts", "outcome")[:limit])
    return list(rows)


@dataclass(frozen=True)
class Trend:
    days: list[datetime.date]
    # status -> a count per day (None: no snapshot that day)
    series: dict[str, list[int | None]]

    @property
    def peak(self) -> int:
        totals = [sum(values[i] or 0 for values in self.series.values()) for i in range(len(self.days))]
        return max(totals, default=0)


def status_trend(*, scope: HealthScope, days: int = TREND_DAYS,
                 today_counts: list[tuple[str, object, int]] | None = None) -> Trend:
    """Daily counts by status for the last `days` days: past days from the snapshots beat takes, today live."""
    today = timezone.localdate()
    dates = [today - datetime.timedelta(days=offset) for offset in range(days - 1, -1, -1)]
    series: dict[str, list[int | None]] = {value: [None] * days for value in AccountStatus.values}
    rows = (scope.filter(StatusSnapshot.objects.filter(date__gte=dates[0], date__lt=today)).order_by()
            .values_list("date", "status").annotate(accounts=Sum("accounts")))
    index = {day: i for i, day in enumerate(dates)}
    seen_days: set[datetime.date] = set()
    for day, status, accounts in rows:
        seen_days.add(day)
        series.setdefault(status, [None] * days)[index[day]] = accounts
    for day in seen_days:  # a day with a snapshot has a count (zero) for every status
        for values in series.values():
            values[index[day]] = values[index[day]] or 0
    for status, _label, accounts in today_counts if today_counts is not None else status_counts(scope=scope):
        series.setdefault(status, [None] * days)[-1] = accounts
    return Trend(days=dates, series=series)


EXPORT_COLUMNS = ("organization", "owner", "address", "protocol", "status", "status_label", "outcome",
                  "outcome_label", "failing_since", "last_checked_at", "turned_off_at")


def export_accounts(*, scope: HealthScope, status: str = "", outcome: str = "") -> QuerySet:
    """The rows of the CSV export (no secret column is ever selected), ordered by organization and address."""
    qs = scope.accounts()
    if status:
        qs = qs.filter(status=status)
    if outcome:
        qs = qs.filter(last_error_code=outcome)
    failing = Q(status__in=failing_statuses())
    return (
        qs.annotate(
            failing_since=Case(When(failing, then=_failing_since()), default=None, output_field=DateTimeField()),
            organization_name=F("organization__name"),
            owner_email=F("owner__email"),
            outcome_code=Coalesce(F("last_error_code"), Value(""), output_field=CharField()),
        )
        .order_by("organization_name", "address_normalized", "id")
        .values_list("organization_name", "owner_email", "address", "protocol", "status", "outcome_code",
                     "failing_since", "last_checked_at", "disabled_at")
    )


def export_rows_iter(qs: QuerySet, *, chunk_size: int = 2000) -> Iterator[tuple]:
    return qs.iterator(chunk_size=chunk_size)
