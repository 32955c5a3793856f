"""The admin's "Mail health" page and its CSV export with many accounts, against raw SQL in the same run.

    make bench                                    (runs this after the re-check benchmark)
    python -m tests.benchmarks.health_page --accounts 100000 --samples 7

Builds its own database (PostgreSQL database `mailbind_bench_health` when DATABASE_URL is set, dropped at the end;
else a SQLite file), one organization with N accounts in realistic states (80 % connected, the rest failing, not
checked or turned off), their streaks, 7 days of outcome rows and 30 days of status snapshots, plus a small second
organization. Then, through Django's test client (the whole request: middleware, admin, template):

- queries per page at a small size and at N: they must be the same (the exit code is 1 if not);
- page time: the median of --samples requests, as the organization's admin and as an operator (all organizations);
- raw limit: the same four aggregates (counts by status, the first 50 failing accounts, the top outcomes of 7 days,
  30 days of snapshots) as hand-written SQL on a cursor, the median of as many runs;
- CSV export: the whole streamed download against a raw SELECT of the same columns written with csv.writer.

Prints times and ratios; asserts no time.
"""
from __future__ import annotations

import argparse
import contextlib
import csv
import datetime
import io
import ipaddress
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from cryptography.fernet import Fernet

BENCH_DATABASE = "mailbind_bench_health"
SMALL = 1_000
STATUS_SHARES = [("connected", 0.80), ("auth_failed", 0.08), ("connection_failed", 0.05), ("pending", 0.04),
                 ("disabled", 0.03)]
FAILING_OUTCOMES = {"auth_failed": ["auth_invalid_credentials", "auth_app_password_required", "smtp_auth_failed"],
                    "connection_failed": ["port_filtered", "dns_not_found", "tls_certificate_invalid", "timeout"]}


def _require_loopback(url: str) -> None:
    host = urlsplit(url).hostname or ""
    if host != "localhost" and not ipaddress.ip_address(host).is_loopback:
        raise SystemExit(f"DATABASE_URL must point at 127.0.0.1, ::1 or localhost (got host {host!r})")


@contextlib.contextmanager
def bench_database(tmp: Path) -> Iterator[tuple[str, str]]:
    base = os.environ.get("DATABASE_URL", "")
    if not base:
        yield f"sqlite:///{tmp / 'health.sqlite3'}", "SQLite file"
        return
    _require_loopback(base)
    import psycopg

    parts = urlsplit(base)
    admin_url = urlunsplit(parts._replace(scheme="postgresql"))

    def admin(statement: str) -> None:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(statement)

    admin(f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)")
    admin(f"CREATE DATABASE {BENCH_DATABASE}")
    try:
        yield urlunsplit(parts._replace(path=f"/{BENCH_DATABASE}")), f"PostgreSQL ({BENCH_DATABASE})"
    finally:
        from django.conf import settings
        from django.db import connections

        if settings.configured:
            connections.close_all()
        admin(f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)")


# --- seeding ----------------------------------------------------------------------------------------------------

def seed_accounts(organization, *, start: int, stop: int) -> None:
    """Accounts start..stop-1 of `organization` with their owners, streaks and outcome rows (bulk inserts)."""
    from django.utils import timezone

    from accounts.models import User
    from diagnostics.health.models import AccountHealth, AccountOutcomeDay
    from mailsettings.models import MailAccount

    now = timezone.now()
    today = timezone.localdate()
    statuses = [s for s, share in STATUS_SHARES for _ in range(round(share * 100))]
    batch = 5000
    for first in range(start, stop, batch):
        numbers = range(first, min(first + batch, stop))
        users = User.objects.bulk_create([
            User(email=f"user{n}@bench.test", organization=organization, role="standard", password="!",
                 full_name=f"User {n}") for n in numbers])
        accounts = []
        for n, owner in zip(numbers, users, strict=True):
            status = statuses[n % len(statuses)]
            outcome = FAILING_OUTCOMES[status][n % len(FAILING_OUTCOMES[status])] if status in FAILING_OUTCOMES \
                else ""
            accounts.append(MailAccount(
                owner=owner, organization=organization, address=f"user{n}@example.test",
                address_normalized=f"user{n}@example.test", protocol="imap", incoming_host="imap.example.test",
                incoming_port=993, incoming_security="ssl", incoming_username=f"user{n}@example.test",
                smtp_host="smtp.example.test", smtp_port=465, smtp_security="ssl", status=status,
                last_error_code=outcome,
                last_checked_at=None if status == "pending" else now - datetime.timedelta(minutes=n % 360),
                disabled_at=now - datetime.timedelta(days=n % 30) if status == "disabled" else None,
            ))
        accounts = MailAccount.objects.bulk_create(accounts)
        AccountHealth.objects.bulk_create([
            AccountHealth(account=a, organization=organization,
                          state="failing" if a.status in FAILING_OUTCOMES else "working",
                          since=now - datetime.timedelta(hours=(a.pk * 7) % (30 * 24)), outcome=a.last_error_code)
            for a in accounts if a.status in FAILING_OUTCOMES or a.status == "connected"])
        AccountOutcomeDay.objects.bulk_create([
            AccountOutcomeDay(date=today - datetime.timedelta(days=d), account=a, organization=organization,
                              outcome=a.last_error_code)
            for a in accounts if a.status in FAILING_OUTCOMES for d in range(7)])


def seed_snapshots(organization, *, accounts: int) -> None:
    from django.utils import timezone

    from diagnostics.health.models import StatusSnapshot

    today = timezone.localdate()
    StatusSnapshot.objects.filter(organization=organization).delete()
    StatusSnapshot.objects.bulk_create([
        StatusSnapshot(date=today - datetime.timedelta(days=d), organization=organization, status=status,
                       accounts=int(accounts * share))
        for d in range(1, 31) for status, share in STATUS_SHARES])


# --- measuring --------------------------------------------------------------------------------------------------

def timed(fn: Callable[[], object], samples: int) -> tuple[float, object]:
    fn()  # warm-up, not counted
    times, result = [], None
    for _ in range(samples):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def page_request(client, url: str) -> Callable[[], int]:
    def get() -> int:
        response = client.get(url)
        assert response.status_code == 200, response.status_code
        return len(response.content)
    return get


def export_request(client, url: str) -> Callable[[], tuple[int, int]]:
    def get() -> tuple[int, int]:
        response = client.get(url)
        assert response.status_code == 200, response.status_code
        size = rows = 0
        for chunk in response.streaming_content:
            size += len(chunk)
            rows += chunk.count(b"\n")
        return rows - 1, size
    return get


def count_queries(fn: Callable[[], object]) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        fn()
    return len(captured)


def raw_page(organization_id: int) -> Callable[[], int]:
    """The page's four aggregates as plain SQL: the floor any implementation of the page pays."""
    from django.db import connection
    from django.utils import timezone

    today = timezone.localdate()
    failing = ("auth_failed", "connection_failed")

    def run() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT status, COUNT(*) FROM mailsettings_mailaccount WHERE organization_id = %s "
                           "GROUP BY status", [organization_id])
            rows = len(cursor.fetchall())
            cursor.execute(
                "SELECT a.id, a.address, a.last_error_code, a.last_checked_at, u.email, "
                "CASE WHEN h.state = 'failing' THEN h.since ELSE COALESCE(a.last_checked_at, a.updated_at) END AS s "
                "FROM mailsettings_mailaccount a JOIN accounts_user u ON u.id = a.owner_id "
                "LEFT JOIN diagnostics_accounthealth h ON h.account_id = a.id "
                "WHERE a.organization_id = %s AND a.status IN (%s, %s) AND a.disabled_at IS NULL "
                "ORDER BY s, a.id LIMIT 50", [organization_id, *failing])
            rows += len(cursor.fetchall())
            cursor.execute(
                "SELECT outcome, COUNT(DISTINCT account_id) AS n FROM diagnostics_accountoutcomeday "
                "WHERE organization_id = %s AND date >= %s GROUP BY outcome ORDER BY n DESC, outcome LIMIT 8",
                [organization_id, today - datetime.timedelta(days=6)])
            rows += len(cursor.fetchall())
            cursor.execute(
                "SELECT date, status, SUM(accounts) FROM diagnostics_statussnapshot WHERE organization_id = %s "
                "AND date >= %s AND date < %s GROUP BY date, status",
                [organization_id, today - datetime.timedelta(days=29), today])
            rows += len(cursor.fetchall())
        return rows
    return run


def raw_export(organization_id: int) -> Callable[[], tuple[int, int]]:
    """The export's rows as one raw SELECT, written with csv.writer into memory: its floor."""
    from django.db import connection

    def run() -> tuple[int, int]:
        out = io.StringIO()
        writer = csv.writer(out)
        rows = 0
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT o.name, u.email, a.address, a.protocol, a.status, a.last_error_code, h.since, "
                "a.last_checked_at, a.disabled_at FROM mailsettings_mailaccount a "
                "JOIN accounts_organization o ON o.id = a.organization_id JOIN accounts_user u ON u.id = a.owner_id "
                "LEFT JOIN diagnostics_accounthealth h ON h.account_id = a.id "
                "WHERE a.organization_id = %s ORDER BY o.name, a.address_normalized, a.id", [organization_id])
            while chunk := cursor.fetchmany(2000):
                for row in chunk:
                    writer.writerow(row)
                rows += len(chunk)
        return rows, len(out.getvalue().encode())
    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=7)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="mailbind-bench-health-") as tmp, bench_database(Path(tmp)) as (url,
                                                                                                           label):
        os.environ.update({"DJANGO_SETTINGS_MODULE": "config.settings.test", "DATABASE_URL": url,
                           "TEST_FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode()})
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command
        from django.test import Client

        from accounts.models import Organization, User

        settings.ALLOWED_HOSTS = ["*"]
        settings.DEBUG = False
        call_command("migrate", verbosity=0, interactive=False)
        big = Organization.objects.create(name="Bench")
        other = Organization.objects.create(name="Other")
        admin = User.objects.create_user("admin@bench.test", "x", organization=big, role="admin")
        operator = User.objects.create_superuser("operator@bench.test", "x")
        seed_accounts(other, start=10_000_000, stop=10_000_000 + 500)
        seed_snapshots(other, accounts=500)
        admin_client, operator_client = Client(), Client()
        admin_client.force_login(admin)
        operator_client.force_login(operator)
        page, export = "/admin/diagnostics/mailhealth/", "/admin/diagnostics/mailhealth/export.csv"

        small = min(SMALL, args.accounts)
        seed_accounts(big, start=0, stop=small)
        seed_snapshots(big, accounts=small)
        page_request(admin_client, page)()
        queries_small = count_queries(page_request(admin_client, page))
        started = time.perf_counter()
        seed_accounts(big, start=small, stop=args.accounts)
        seed_snapshots(big, accounts=args.accounts)
        if connection_vendor() == "postgresql":
            from django.db import connection

            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        seeding = time.perf_counter() - started
        queries = {name: count_queries(fn) for name, fn in (
            ("admin page", page_request(admin_client, page)),
            ("operator page", page_request(operator_client, page)),
            ("CSV export", export_request(admin_client, export)))}

        t_page, size = timed(page_request(admin_client, page), args.samples)
        t_operator, _ = timed(page_request(operator_client, page), args.samples)
        t_raw, _ = timed(raw_page(big.pk), args.samples)
        t_export, (rows, csv_bytes) = timed(export_request(admin_client, export), max(3, args.samples // 2))
        t_raw_export, (raw_rows, raw_bytes) = timed(raw_export(big.pk), max(3, args.samples // 2))

        print(f"database: {label}; accounts N={args.accounts} in the measured organization (+500 in another); "
              f"30 days of snapshots; seeded in {seeding:.0f} s; cores: {os.cpu_count()}; "
              f"load average {os.getloadavg()[0]:.2f}")
        print(f"queries per page: {queries_small} at {small} accounts, {queries['admin page']} at {args.accounts} "
              f"(operator, all organizations: {queries['operator page']}); CSV export: {queries['CSV export']}")
        print()
        print(f"{'what':<34}{'median ms':>10}{'raw ms':>9}{'ratio':>8}  notes")
        print(f"{'health page (organization admin)':<34}{t_page * 1000:>10.1f}{t_raw * 1000:>9.1f}"
              f"{t_page / t_raw:>8.1f}  {size // 1024} KiB of HTML; raw = the 4 aggregates on a cursor")
        print(f"{'health page (operator, all orgs)':<34}{t_operator * 1000:>10.1f}{'':>9}{'':>8}  "
              f"every organization's accounts")
        print(f"{'CSV export':<34}{t_export * 1000:>10.1f}{t_raw_export * 1000:>9.1f}"
              f"{t_export / t_raw_export:>8.1f}  {rows} rows, {csv_bytes // 1024} KiB; raw: {raw_rows} rows, "
              f"{raw_bytes // 1024} KiB")
        flat = queries_small == queries["admin page"]
        if not flat:
            print(f"FAILED: the page made {queries_small} queries at {small} accounts but "
                  f"{queries['admin page']} at {args.accounts}")
        return 0 if flat else 1


def connection_vendor() -> str:
    from django.db import connection

    return connection.vendor


if __name__ == "__main__":
    sys.exit(main())
