"""`manage.py diagnose ADDRESS|ACCOUNT_ID [--inline] [--json]`: check an account from the command line.

Through the worker by default (the same queue the API uses), in this process with --inline. Prints each step as it
finishes, then the advice. Exit code 0 passed or warning, 1 failed (or could not finish), 2 bad arguments."""
from __future__ import annotations

import json
import sys
import time

from django.core.management.base import BaseCommand, CommandError

from config.errors import MailbindError
from diagnostics import judge, services, walk
from diagnostics.api import RunOutput
from diagnostics.models import STEPS_OF_KIND, DiagnosticRun, DiagnosticStep, RunKind, RunStatus, RunTrigger
from mailsettings.addresses import AddressError, normalize_address
from mailsettings.models import MailAccount

STATUS_MARK = {"passed": "ok  ", "warning": "warn", "failed": "FAIL", "skipped": "skip", "error": "ERR "}


class Command(BaseCommand):
    help = "Run a diagnostic of a mail account, by address or id."

    def add_arguments(self, parser):
        parser.add_argument("target", help="the account's mail address or its id")
        parser.add_argument("--inline", action="store_true", help="run in this process instead of on a worker")
        parser.add_argument("--json", action="store_true", help="print the finished run as JSON")
        parser.add_argument("--wait", type=float, default=180.0, help="seconds to wait for the worker")

    def handle(self, *args, target, inline, wait: float, **options):
        as_json = options["json"]
        account = self._account(target)
        run, created = services.diagnostic_run_create_for_account(account=account, trigger=RunTrigger.COMMAND)
        progress = None if as_json else self._print_step
        if not created:
            # A run of this account is already in flight: follow it, never execute it a second time.
            self.stderr.write(f"A check of this account is already running (run {run.pk}); following it.")
            self._follow(run, progress, wait)
        elif inline:
            walk.run_execute(run_id=run.pk, on_step=progress)
        else:
            try:
                services.run_enqueue(run)
            except MailbindError as error:
                raise CommandError(str(error), returncode=1) from None
            self._follow(run, progress, wait)
        run.refresh_from_db()
        if as_json:
            self.stdout.write(_dumps(RunOutput(run).data))
        else:
            self._print_summary(run)
        if run.status not in (RunStatus.PASSED, RunStatus.WARNING):
            sys.exit(1)

    def _account(self, target: str) -> MailAccount:
        accounts = MailAccount.objects.filter(disabled_at__isnull=True)
        if target.isdigit():
            account = accounts.filter(pk=int(target)).first()
        else:
            try:
                account = accounts.filter(address_normalized=normalize_address(target)).first()
            except AddressError as error:
                raise CommandError(f"{target!r} is neither an account id nor a valid address: {error.message}",
                                   returncode=2) from None
        if account is None:
            raise CommandError(f"No active mail account matches {target!r}.", returncode=2)
        return account

    def _follow(self, run: DiagnosticRun, progress, wait: float) -> None:
        """Print rows as the worker writes them, until the run finishes or `wait` runs out."""
        seen = 0
        deadline = time.monotonic() + wait
        while True:
            run.refresh_from_db()
            for step in run.steps.filter(position__gt=seen).order_by("position"):
                seen = step.position
                if progress:
                    progress(step)
            if run.is_finished:
                return
            if time.monotonic() > deadline:
                raise CommandError(f"Run {run.pk} did not finish within {wait:.0f} s: is a worker running?",
                                   returncode=1)
            time.sleep(0.2)

    def _print_step(self, step: DiagnosticStep) -> None:
        message = judge.step_message(name=step.name, status=step.status, code=step.code, details=step.details)
        code = f" [{step.code}]" if step.code and step.code != "ok" else ""
        total = len(STEPS_OF_KIND[RunKind.ACCOUNT])
        self.stdout.write(f"[{step.position:>2}/{total}] {STATUS_MARK.get(step.status, step.status)} "
                          f"{step.name:<10} {message}{code} ({step.duration_ms} ms)")

    def _print_summary(self, run: DiagnosticRun) -> None:
        self.stdout.write(f"\nRun {run.pk}: {run.status} ({run.outcome})")
        for item in judge.run_advice(run):
            scenario = f" [{item['scenario']}]" if item["scenario"] else ""
            self.stdout.write(f"\n{item['title']}{scenario}")
            for line in item["steps"]:
                self.stdout.write(f"  - {line}")
            for alert in item.get("server_alerts", []):
                self.stdout.write(f"  > {alert}")


def _dumps(data) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, default=str)
