"""Throughput of the periodic re-check: N due accounts through a real Celery worker, against the raw limit.

    make bench BENCH_ARGS="--accounts 24 --concurrency 1,2,4 --samples 5 --repeat 3"  (those are the defaults)

Starts Dovecot, aiosmtpd (implicit TLS) and a DNS server on 127.0.0.1, a database of its own (PostgreSQL
database `mailbind_bench` when DATABASE_URL is set, else a SQLite file) and a broker (CELERY_BROKER_URL, else the
filesystem transport in a temporary folder). Every process gets the same settings through the environment.

t1 = median time of one account run executed in-process (diagnostics.walk.run_execute): the raw limit,
sampled before and after the worker runs.
T(C) = wall time from accounts_recheck_due(limit=N) until the database shows every run finished, with a
`celery worker --pool=prefork --concurrency=C` subprocess consuming. Printed: T(C) against N*t1/C.
No time is asserted; the exit code is 1 only when a run did not finish or did not pass (2: cannot start).
"""
from __future__ import annotations

import argparse
import contextlib
import ipaddress
import logging
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from cryptography.fernet import Fernet

from tests.servers.certs import make_cert_bundle
from tests.servers.dns_server import running_dns_server
from tests.servers.dovecot import ALICE, running_dovecot
from tests.servers.ports import ServerUnavailable
from tests.servers.smtp import SMTP_USER, running_smtp

REPO = Path(__file__).resolve().parents[2]
BENCH_DATABASE = "mailbind_bench"
LOOPBACK_NETWORKS = "127.0.0.0/8,::1/128"
# The addresses' domain: a custom domain whose MX names no known provider, so the domain step passes.
ZONE = {"example.test": {"MX": ["10 mx.example.test."]}}
POLL_SECONDS = 0.02


class BenchError(RuntimeError):
    """The benchmark cannot start (a server or backend is missing, or a URL is not on loopback)."""


@dataclass
class Round:
    """One call of accounts_recheck_due and the wait until its runs are final."""

    seconds: float  # enqueue start until every run is final
    enqueue_seconds: float
    queued: int
    statuses: Counter
    finished: bool
    run_seconds: list[float]  # started_at -> finished_at of each run, inside the worker
    first_start_seconds: float  # enqueue start -> the first run started


@dataclass
class CpuSample:
    """CPU seconds (user + system) so far: the whole machine, the worker's and Dovecot's process groups (with
    their reaped children), and this process (aiosmtpd and the DNS server run in it). Linux /proc; else nan."""

    machine_busy: float
    worker: float
    dovecot: float
    bench: float

    @classmethod
    def take(cls, *, worker_group: int, dovecot_group: int | None) -> CpuSample:
        groups = _group_cpu_seconds()
        return cls(machine_busy=_machine_busy_seconds(), worker=groups.get(worker_group, float("nan")),
                   dovecot=groups.get(dovecot_group, float("nan")) if dovecot_group else float("nan"),
                   bench=time.process_time())

    def __sub__(self, other: CpuSample) -> CpuSample:
        return CpuSample(self.machine_busy - other.machine_busy, self.worker - other.worker,
                         self.dovecot - other.dovecot, self.bench - other.bench)

    @property
    def others(self) -> float:
        """What the rest of the machine used meanwhile (other people's work competing for the cores)."""
        return self.machine_busy - self.worker - self.dovecot - self.bench


def _group_cpu_seconds() -> dict[int, float]:
    """Process group -> CPU seconds of its live processes, including the children they reaped."""
    tick = os.sysconf("SC_CLK_TCK")
    totals: dict[int, float] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # the process ended meanwhile
        group = int(fields[2])
        totals[group] = totals.get(group, 0.0) + sum(int(x) for x in fields[11:15]) / tick
    return totals


def _machine_busy_seconds() -> float:
    try:
        values = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except OSError:
        return float("nan")
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values[:8]) - idle) / os.sysconf("SC_CLK_TCK")


@dataclass
class Measurement:
    concurrency: int
    warm_up: Round  # C runs on the freshly started worker, one per pool process, not in T(C)
    rounds: list[Round]
    cpu: CpuSample  # CPU seconds used during the timed rounds

    @property
    def seconds(self) -> float:  # T(C): the median round
        return statistics.median(r.seconds for r in self.rounds)

    @property
    def finished(self) -> bool:
        return self.warm_up.finished and all(r.finished for r in self.rounds)

    @property
    def statuses(self) -> Counter:
        return sum((r.statuses for r in self.rounds), Counter())


# --- safety: nothing but loopback ---------------------------------------------------------------------------

def _require_loopback(url: str, *, name: str) -> None:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    raise BenchError(f"{name} must point at 127.0.0.1, ::1 or localhost (got host {host!r})")


# --- database and broker ------------------------------------------------------------------------------------

@contextlib.contextmanager
def bench_database(*, tmp: Path) -> Iterator[tuple[str, str]]:
    """(DATABASE_URL for every process, label). PostgreSQL: a database of its own, dropped on exit."""
    base = os.environ.get("DATABASE_URL", "")
    if not base:
        yield f"sqlite:///{tmp / 'bench.sqlite3'}", "SQLite file"
        return
    _require_loopback(base, name="DATABASE_URL")
    import psycopg

    parts = urlsplit(base)
    admin_url = urlunsplit(parts._replace(scheme="postgresql"))
    bench_url = urlunsplit(parts._replace(path=f"/{BENCH_DATABASE}"))

    def admin(statement: str) -> None:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(statement)

    admin(f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)")  # left over by a killed run
    admin(f"CREATE DATABASE {BENCH_DATABASE}")
    try:
        yield bench_url, f"PostgreSQL ({BENCH_DATABASE})"
    finally:
        from django.conf import settings
        from django.db import connections

        if settings.configured:
            connections.close_all()  # DROP ... WITH (FORCE) would cut them anyway; leave no error behind
        admin(f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)")


def broker_settings(*, tmp: Path) -> tuple[dict[str, str], str]:
    url = os.environ.get("CELERY_BROKER_URL", "")
    if url:
        _require_loopback(url, name="CELERY_BROKER_URL")
        return {"CELERY_BROKER_URL": url}, f"Redis ({url})" if url.startswith("redis") else url
    # The test settings give each process its own broker folder unless MAILBIND_TEST_BROKER_DIR names one.
    return {"MAILBIND_TEST_BROKER_DIR": str(tmp / "broker")}, "filesystem broker"


# --- the worker -----------------------------------------------------------------------------------------------

@contextlib.contextmanager
def running_worker(*, concurrency: int, log_file: Path, ready_timeout: float = 60.0) -> Iterator[subprocess.Popen]:
    """`celery -A config worker` (prefork) in its own process group; stopped (then killed) on exit."""
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=prefork",
               f"--concurrency={concurrency}", "--loglevel=INFO", "-n", f"bench{concurrency}@%h"]
    with log_file.open("wb") as log:
        process = subprocess.Popen(command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + ready_timeout
        while b" ready." not in log_file.read_bytes():
            if process.poll() is not None or time.monotonic() > deadline:
                raise BenchError(f"the worker did not start; its log:\n{_tail(log_file)}")
            time.sleep(0.1)
        yield process
    finally:
        _stop_worker(process)


def _stop_worker(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)  # warm shutdown: the pool children finish and exit
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=20)
    # Children the main process left behind share its process group (start_new_session): end that group.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _dovecot_group(dovecot) -> int | None:
    """Dovecot's process group (its master runs in a session of its own), to count its CPU."""
    try:
        return os.getpgid(int((dovecot.log_file.parent / "run" / "master.pid").read_text().strip()))
    except (OSError, ValueError):
        return None


def _tail(path: Path, lines: int = 30) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


# --- data -------------------------------------------------------------------------------------------------------

def create_accounts(*, count: int, dovecot, smtp) -> list:
    """`count` users of one organization, each with alice+k@example.test signing in as alice on Dovecot."""
    from accounts.models import Organization, User
    from mailsettings.models import MailAccount

    organization = Organization.objects.create(name="Benchmark")
    accounts = []
    for k in range(count):
        owner = User.objects.create_user(f"bench{k}@example.test", organization=organization)
        address = f"alice+{k}@example.test"
        accounts.append(MailAccount.objects.create(
            owner=owner, organization=organization, address=address, address_normalized=address,
            protocol="imap", incoming_host="localhost", incoming_port=dovecot.imaps_port, incoming_security="ssl",
            incoming_username=ALICE, incoming_password=dovecot.users[ALICE],
            smtp_host="localhost", smtp_port=smtp.port, smtp_security="ssl", smtp_same_credentials=False,
            smtp_username=SMTP_USER, smtp_password=smtp.users[SMTP_USER],
        ))
    return accounts


def make_all_due() -> None:
    from mailsettings.models import MailAccount

    MailAccount.objects.update(last_checked_at=None)


# --- measurements -----------------------------------------------------------------------------------------------

def measure_raw(*, accounts: list, samples: int) -> tuple[list[float], Counter]:
    """Seconds of run_execute for `samples` accounts, in this process, after one warm-up run (not counted)."""
    from diagnostics.models import DiagnosticRun, RunTrigger
    from diagnostics.services import diagnostic_run_create_for_account
    from diagnostics.walk import run_execute

    seconds, statuses = [], Counter()
    for index, account in enumerate(accounts[: samples + 1]):
        run, _ = diagnostic_run_create_for_account(account=account, trigger=RunTrigger.COMMAND)
        started = time.perf_counter()
        run_execute(run_id=run.pk)
        elapsed = time.perf_counter() - started
        statuses[DiagnosticRun.objects.get(pk=run.pk).status] += 1
        if index > 0:
            seconds.append(elapsed)
    return seconds, statuses


def measure_service(*, concurrency: int, count: int, repeat: int, log_file: Path, timeout: float,
                    dovecot_group: int | None) -> Measurement:
    with running_worker(concurrency=concurrency, log_file=log_file) as worker:
        # A long-lived worker is what the beat feeds: one warm-up run per pool process, timed apart.
        warm_up = _round(limit=concurrency, worker=worker, timeout=timeout)
        rounds: list[Round] = []
        before = CpuSample.take(worker_group=worker.pid, dovecot_group=dovecot_group)
        for _ in range(repeat):
            if warm_up.finished and (not rounds or rounds[-1].finished):
                rounds.append(_round(limit=count, worker=worker, timeout=timeout))
        cpu = CpuSample.take(worker_group=worker.pid, dovecot_group=dovecot_group) - before
    measurement = Measurement(concurrency, warm_up, rounds, cpu)
    if not measurement.finished or any(r.queued != count for r in rounds):
        print(f"C={concurrency}: warm-up {warm_up.queued} runs {dict(warm_up.statuses)}, rounds "
              f"{[(r.queued, dict(r.statuses)) for r in rounds]}; worker log:\n{_tail(log_file)}", file=sys.stderr)
    return measurement


def _round(*, limit: int, worker: subprocess.Popen, timeout: float) -> Round:
    from django.utils import timezone

    from diagnostics.models import DiagnosticRun, RunTrigger
    from diagnostics.services import accounts_recheck_due

    make_all_due()
    since = timezone.now()
    started = time.perf_counter()
    queued = accounts_recheck_due(limit=limit)
    enqueue_seconds = time.perf_counter() - started
    runs = DiagnosticRun.objects.filter(trigger=RunTrigger.SCHEDULE, created_at__gte=since)
    finished = queued == limit and _wait_until_final(runs, worker=worker, timeout=timeout)
    seconds = time.perf_counter() - started
    # A run is final a moment before the worker records the check on its account: wait for that write too, or
    # it lands after the next make_all_due() and that account is not due.
    finished = finished and _wait_until_recorded(runs, timeout=timeout)
    statuses = Counter(runs.values_list("status", flat=True))
    spans = [(s, f) for s, f in runs.values_list("started_at", "finished_at") if s and f]
    return Round(
        seconds=seconds, enqueue_seconds=enqueue_seconds, queued=queued, statuses=statuses, finished=finished,
        run_seconds=[(f - s).total_seconds() for s, f in spans],
        first_start_seconds=min((s - since).total_seconds() for s, _ in spans) if spans else float("nan"),
    )


def _wait_until_final(runs, *, worker: subprocess.Popen, timeout: float) -> bool:
    """Poll the database until no run of `runs` is queued or running; False on timeout or a dead worker."""
    from diagnostics.models import IN_FLIGHT

    deadline = time.perf_counter() + timeout
    while runs.filter(status__in=IN_FLIGHT).exists():
        if worker.poll() is not None or time.perf_counter() > deadline:
            return False
        time.sleep(POLL_SECONDS)
    return True


def _wait_until_recorded(runs, *, timeout: float) -> bool:
    from mailsettings.models import MailAccount

    deadline = time.perf_counter() + timeout
    while MailAccount.objects.filter(diagnostic_runs__in=runs, last_checked_at__isnull=True).exists():
        if time.perf_counter() > deadline:
            return False
        time.sleep(POLL_SECONDS)
    return True


# --- report -----------------------------------------------------------------------------------------------------

def print_report(*, count: int, t1: float, raw: tuple[list[float], list[float]], results: list[Measurement],
                 backends: str, load: tuple[float, float, float]) -> None:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    median = statistics.median
    print(f"\nmailbind re-check throughput, {date.today().isoformat()}: {backends}")
    print(f"cores: {os.cpu_count()} (usable: {cores}); load average before {load[0]:.2f}, after "
          f"{os.getloadavg()[0]:.2f}; accounts N={count}; rounds per C: {max(len(m.rounds) for m in results)}")
    before, after = (statistics.median(samples) for samples in raw)
    print(f"raw limit t1 = {t1 * 1000:.0f} ms: median of {len(raw[0] + raw[1])} in-process runs (median before the "
          f"worker runs {before * 1000:.0f}, after {after * 1000:.0f}; min {min(raw[0] + raw[1]) * 1000:.0f}, "
          f"max {max(raw[0] + raw[1]) * 1000:.0f})")
    if abs(before - after) > 0.2 * min(before, after):
        print("NOTE: t1 moved by more than 20% during the run (other work on the machine?): ratios are doubtful.")
    print()
    print(f"{'C':>3} {'T(C) s':>7} {'(min-max)':>11} {'ideal s':>7} {'ratio':>6} {'runs/s':>6} {'ratio@cores':>11} "
          f"{'enqueue s':>9} {'1st start s':>11} {'run s':>6} {'idle ms':>7} {'warm-up s':>9}  runs")
    for m in results:
        ideal = count * t1 / m.concurrency
        ideal_on_cores = count * t1 / min(m.concurrency, cores)
        spread = f"{min(r.seconds for r in m.rounds):.2f}-{max(r.seconds for r in m.rounds):.2f}"
        run_seconds = [x for r in m.rounds for x in r.run_seconds]
        # Time a pool process spent not running a run, per run: enqueue, dispatch, and the idle tail at the end.
        idle = statistics.mean(
            (m.concurrency * r.seconds - sum(r.run_seconds)) / count for r in m.rounds) if m.rounds else float("nan")
        statuses = ", ".join(f"{k} {v}" for k, v in sorted(m.statuses.items()))
        print(f"{m.concurrency:>3} {m.seconds:>7.2f} {spread:>11} {ideal:>7.2f} {m.seconds / ideal:>6.2f} "
              f"{count / m.seconds:>6.2f} {m.seconds / ideal_on_cores:>11.2f} "
              f"{median(r.enqueue_seconds for r in m.rounds):>9.2f} "
              f"{median(r.first_start_seconds for r in m.rounds):>11.2f} "
              f"{statistics.mean(run_seconds) if run_seconds else float('nan'):>6.3f} {idle * 1000:>7.0f} "
              f"{m.warm_up.seconds:>9.2f}"
              f"  {statuses}{'' if m.finished else '  UNFINISHED'}")
    print("\nT(C) = median over the rounds of: accounts_recheck_due(limit=N) until every run is final in the database.")
    print("ideal = N*t1/C; ratio = T(C)/ideal (1.00 = nothing beyond the raw runs; above 1 is overhead).")
    print("ratio@cores = T(C) / (N*t1/min(C, cores)): the same ratio when C exceeds the cores of this machine.")
    print("enqueue = accounts_recheck_due() alone; 1st start = until a worker started the first run (medians);")
    print("run = mean of one run inside the worker (started_at -> finished_at), to compare with t1;")
    print("idle = (C*T(C) - sum of runs) / N: time a pool process was not running a run, per run (dispatch, tail);")
    print("warm-up = C untimed runs on the freshly started worker (one per pool process) before the rounds.")
    print("\nCPU during the timed rounds, ms per run (user + system):")
    print(f"{'C':>3} {'worker':>7} {'dovecot':>7} {'bench':>6} {'total':>6} {'cores/total':>11} {'other load':>10}")
    for m in results:
        runs = count * len(m.rounds) or 1
        wall = sum(r.seconds for r in m.rounds) or float("nan")
        ours = m.cpu.worker + m.cpu.dovecot + m.cpu.bench
        print(f"{m.concurrency:>3} {m.cpu.worker / runs * 1000:>7.0f} {m.cpu.dovecot / runs * 1000:>7.0f} "
              f"{m.cpu.bench / runs * 1000:>6.0f} {ours / runs * 1000:>6.0f} {cores / (ours / runs):>11.1f} "
              f"{m.cpu.others / wall:>10.2f}")
    print("worker = celery main + pool processes; dovecot = all its processes; bench = this process (aiosmtpd, DNS")
    print("server, polling). cores/total = runs/s this machine could do if the runs' CPU were the only limit;")
    print("other load = cores busy with anything else, on average during the rounds: other people's work, and")
    print("the PostgreSQL and Redis servers when used (shared, so not counted as this benchmark's).")


# --- main -------------------------------------------------------------------------------------------------------

def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--accounts", type=int, default=24, help="N accounts re-checked (default 24)")
    parser.add_argument("--concurrency", default="1,2,4", help="worker concurrencies, comma-separated")
    parser.add_argument("--samples", type=int, default=5, help="in-process runs for the raw limit t1")
    parser.add_argument("--repeat", type=int, default=3, help="timed rounds per concurrency (median reported)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds allowed per concurrency")
    args = parser.parse_args(argv)
    args.concurrency = [int(c) for c in args.concurrency.split(",") if c.strip()]
    if args.accounts < args.samples + 1 or args.samples < 1 or args.repeat < 1 or not args.concurrency:
        parser.error("need --samples >= 1, --repeat >= 1, --accounts > --samples and at least one concurrency")
    return args


def run(args: argparse.Namespace) -> int:
    load = os.getloadavg()  # other work on the machine shares the cores: say how much there was
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="mailbind-bench-")))
        certs = make_cert_bundle(tmp / "certs")
        dovecot = stack.enter_context(running_dovecot(certs=certs))
        smtp = stack.enter_context(running_smtp(certs=certs, tls_mode="implicit"))
        dns = stack.enter_context(running_dns_server(ZONE))
        dovecot_group = _dovecot_group(dovecot)
        broker_env, broker_label = broker_settings(tmp=tmp)
        database_url, database_label = stack.enter_context(bench_database(tmp=tmp))
        # Every process (this one and the workers) reads the same settings from the environment.
        os.environ.update({
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "TEST_FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "DATABASE_URL": database_url,
            "DIAGNOSTICS_ALLOWED_NETWORKS": LOOPBACK_NETWORKS,
            "DIAGNOSTICS_CA_FILE": str(certs.ca_pem),
            "MAILBIND_TEST_DNS_NAMESERVERS": f"127.0.0.1:{dns.port}",
            "DNS_TIMEOUT": "1.0",
            "LOG_LEVEL": "WARNING",
            **broker_env,
        })
        import django

        django.setup()
        logging.getLogger("mail.log").setLevel(logging.ERROR)  # aiosmtpd's deprecation notice on every AUTH
        from django.core.management import call_command

        from config.celery import app

        call_command("migrate", verbosity=0, interactive=False)
        if "CELERY_BROKER_URL" in broker_env:
            app.control.purge()  # messages a killed earlier run left in this Redis database
        accounts = create_accounts(count=args.accounts, dovecot=dovecot, smtp=smtp)

        # The raw limit is sampled before and after the worker runs: other work on the machine moves both.
        raw_before, raw_statuses = measure_raw(accounts=accounts, samples=args.samples)
        results = [
            measure_service(concurrency=c, count=args.accounts, repeat=args.repeat,
                            log_file=tmp / f"worker-{c}.log", timeout=args.timeout, dovecot_group=dovecot_group)
            for c in args.concurrency
        ]
        raw_after, more_statuses = measure_raw(accounts=accounts, samples=args.samples)
        raw_statuses += more_statuses
        raw = (raw_before, raw_after)
        t1 = statistics.median(raw_before + raw_after)
        print_report(count=args.accounts, t1=t1, raw=raw, results=results,
                     backends=f"{database_label}, {broker_label}", load=load)
        all_passed = {"passed": args.accounts}
        ok = set(raw_statuses) == {"passed"} and all(
            m.finished and m.warm_up.statuses == {"passed": m.concurrency} and len(m.rounds) == args.repeat
            and all(r.statuses == all_passed for r in m.rounds)
            for m in results
        )
        if not ok:
            print("FAILED: some runs did not finish or did not pass (see above).", file=sys.stderr)
        return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # Ctrl-C and SIGTERM unwind the `with` blocks, which stop every server and worker and drop the database.
    # (SIGINT is set explicitly: a shell starts background jobs with it ignored.)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        return run(args)
    except (BenchError, ServerUnavailable) as error:
        print(f"cannot run the benchmark: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; servers and workers stopped.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
