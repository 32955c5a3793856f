"""Pure judgment over probe results: step statuses, merging the two servers' rows, the run's verdict, the account
status it implies, and the advice to show. No network, no database: unit-tested on plain data."""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from diagnostics.advice import advice_for
from diagnostics.classify import classify_sent_copy
from diagnostics.models import RunStatus, StepStatus
from diagnostics.results import Code, SessionResult, Step, StepResult
from mailsettings.models import AccountStatus

_PASSED_MESSAGES = {
    Step.SETTINGS: _("Ports and security fit the protocols."),
    Step.DOMAIN: _("The domain's mail provider was identified."),
    Step.DNS: _("The server names resolve."),
    Step.PORT: _("The ports accept connections."),
    Step.TLS: _("The secure connection and its certificate are valid."),
    Step.GREETING: _("The servers answer with the expected protocol."),
    Step.LOGIN: _("Signing in to the incoming server works."),
    Step.FOLDERS: _("The Inbox and Sent folders are there."),
    Step.SMTP_AUTH: _("Signing in to the outgoing server works."),
    Step.DUPLICATES: _("No risk of duplicate sent mail."),
    Step.SEND: _("The test message was sent."),
    Step.SENT_FOLDER: _("Exactly one copy of the test message is in the Sent folder."),
    Step.CLEANUP: _("The test messages were deleted from the Sent folder and the Inbox."),
}

# Why a step was skipped when it is not an earlier step's failure: the run itself stopped (lifecycle, walk).
_SKIPPED_MESSAGES = {
    "run_time_limit": _("Skipped: the check ran out of time."),
    "worker_lost": _("Skipped: the check was interrupted before this step."),
    "queue_unavailable": _("Skipped: the check could not be queued."),
    "run_stopped": _("Skipped: the check stopped because of a problem on our side."),
    Code.PASSWORD_NEEDED: _("Skipped: enter your password for the new server first."),
}

# Codes that say the credentials (not the connection) are the problem. plaintext_login_refused is not one: the
# server would not even look at the password over an unencrypted connection (a security setting: docs/scenarios.md, T1).
AUTH_CODES = frozenset({
    Code.AUTH_INVALID_CREDENTIALS, Code.AUTH_APP_PASSWORD_REQUIRED, Code.AUTH_WEB_LOGIN_REQUIRED,
    Code.AUTH_BASIC_AUTH_DISABLED, Code.SMTP_AUTH_FAILED,
    Code.OAUTH_TOKEN_INVALID, Code.OAUTH_SCOPE_MISSING, Code.OAUTH_NOT_OFFERED, Code.REAUTH_REQUIRED,
    Code.PROTOCOL_DISABLED, Code.PROTOCOL_DISABLED_BY_ADMIN,
})
# Steps whose failure means the mailbox cannot be reached at all.
CONNECTION_STEPS = frozenset({Step.DNS, Step.PORT, Step.TLS, Step.GREETING, Step.LOGIN, Step.SMTP_AUTH})
# Steps that sign in with the account's password.
SIGN_IN_STEPS = frozenset({Step.LOGIN, Step.SMTP_AUTH})


def status_of(result: StepResult) -> str:
    if result.ok:
        return StepStatus.PASSED
    return StepStatus.WARNING if result.is_warning else StepStatus.FAILED


def step_message(*, name: str, status: str, code: str, details: Mapping[str, Any] | None = None) -> Any:
    if status == StepStatus.SKIPPED:
        return _SKIPPED_MESSAGES.get((details or {}).get("skipped_because"), _("Skipped: an earlier step failed."))
    if status == StepStatus.ERROR:
        return _("This step could not finish.")
    if not code or code == Code.OK:
        if name == Step.CLEANUP and details and any(
                isinstance(side, Mapping) and (side.get("left") or side.get("flagged_deleted"))
                for side in details.values()):
            return _("Some test messages could not be deleted: delete the messages with the subject "
                     "“mailbind: sent-mail test” from the Sent folder and the Inbox yourself.")
        if name == Step.DOMAIN and details and details.get("source") == "guess":
            return _("No known provider serves this domain: the usual server names were assumed.")
        if name == Step.DNS and _addresses_refused(details):
            return _("The server name points to a private or reserved address, which this service does not reach.")
        if name == Step.TLS and details and all(
                isinstance(side, Mapping) and side.get("not_applicable") for side in details.values()):
            return _("No secure connection is configured: passwords travel unencrypted.")
        return _PASSED_MESSAGES.get(name, _("Passed."))
    if code == Code.TLS_CERTIFICATE_EXPIRING and details:
        expiring = certificate_expiring(details)
        if expiring is not None:
            return ngettext(
                "The certificate of %(host)s expires on %(date)s (%(days)d day left).",
                "The certificate of %(host)s expires on %(date)s (%(days)d days left).", expiring["days_left"],
            ) % expiring
    try:
        return advice_for(code).title
    except ValueError:
        return _("This step found a problem.")


def _sides(details: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """A merged row's per-server details (incoming, outgoing), or the row's own details."""
    sides = [side for side in details.values() if isinstance(side, Mapping) and "host" in side]
    return sides or [details]


def certificate_expiring(details: Mapping[str, Any]) -> dict[str, Any] | None:
    """host, date (YYYY-MM-DD) and days_left of the first certificate that expires soon, from a tls row."""
    for side in _sides(details):
        expiring = side.get("expiring")
        if isinstance(expiring, Mapping):
            return {"host": side.get("host", ""), "date": str(expiring.get("not_after", ""))[:10],
                    "days": expiring.get("days_left", 0), "days_left": expiring.get("days_left", 0)}
    return None


def certificate_facts(details: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Subject, issuer and expiry of each server's certificate in a tls row, for the page."""
    facts = []
    for side_name, side in details.items():
        if isinstance(side, Mapping) and isinstance(side.get("certificate"), Mapping):
            cert = side["certificate"]
            facts.append({"side": side_name, "host": side.get("host", ""), "subject": cert.get("subject", ""),
                          "issuer": cert.get("issuer", ""), "not_after": str(cert.get("not_after", ""))[:10],
                          "days_left": cert.get("days_left")})
    return facts


def _addresses_refused(details: Mapping[str, Any] | None) -> bool:
    # One host's row, or the row of both servers (a mapping per side).
    sides = [details or {}, *((details or {}).values())]
    return any(isinstance(side, Mapping) and side.get("addresses_refused") for side in sides)


def step_details(result: StepResult) -> dict[str, Any]:
    details = dict(result.details)
    if result.transcript:
        details["transcript"] = list(result.transcript)
    if result.transient:
        details["transient"] = True
    return details


def merge(name: str, sides: Mapping[str, StepResult | None]) -> StepResult | None:
    """One row for both servers: the first failure wins, then the first warning; None when no side ran."""
    present = {side: r for side, r in sides.items() if r is not None}
    if not present:
        return None
    chosen = (next((r for r in present.values() if not r.ok and not r.is_warning), None)
              or next((r for r in present.values() if r.is_warning), None))
    merged = StepResult(step=name)
    if chosen is not None:
        merged.code, merged.transient = chosen.code, chosen.transient
    merged.details = {
        side: step_details(r) if r is not None else {"skipped_because": "an_earlier_step_failed"}
        for side, r in sides.items()
    }
    merged.duration_ms = sum(r.duration_ms for r in present.values())
    return merged


def merge_sessions(name: str, sessions: Mapping[str, SessionResult]) -> StepResult | None:
    """merge() over sessions: a side that stopped before `name` is skipped; a side that never needs it (no TLS
    configured) counts as passed and says so."""
    sides: dict[str, StepResult | None] = {}
    for side, session in sessions.items():
        found = session.step(name)
        if found is not None:
            sides[side] = found
        elif session.failed is None:
            sides[side] = StepResult(step=Step(name), details={"not_applicable": "no_tls_configured"})
        else:
            sides[side] = None
    return merge(name, sides)


def sent_copy_verdict(*, save_sent_on_server: bool, provider_saves_sent: bool) -> StepResult:
    verdict = classify_sent_copy(save_sent_copy=save_sent_on_server, provider_saves_sent=provider_saves_sent)
    return StepResult(
        step=Step.DUPLICATES, code=verdict.code,
        details={"save_sent_on_server": save_sent_on_server, "provider_saves_sent": provider_saves_sent},
    )


def _advisory(status: str, code: str) -> bool:
    # A step skipped for a reason of its own (its code: password_needed) is worth a warning and advice; one
    # skipped because an earlier step failed (no code) is explained by that step.
    return status == StepStatus.WARNING or (status == StepStatus.SKIPPED and bool(code))


def judge_run(rows: Sequence[tuple[str, str]]) -> tuple[str, str]:
    """(status, outcome) of a run from its rows' (status, code): failed > error > warning > passed; the outcome
    is the code of the first failing row, else of the first warning, else ok."""
    failed = [code for status, code in rows if status == StepStatus.FAILED]
    if failed:
        return RunStatus.FAILED, failed[0]
    errors = [code for status, code in rows if status == StepStatus.ERROR]
    if errors:
        return RunStatus.ERROR, errors[0] or "internal_error"
    warnings = [code for status, code in rows if _advisory(status, code)]
    if warnings:
        return RunStatus.WARNING, warnings[0]
    return RunStatus.PASSED, str(Code.OK)


def account_status_for(*, run_status: str, rows: Iterable[tuple[str, str, str]]) -> str | None:
    """The account status a finished run implies, from its rows' (name, status, code); None: leave it as it was
    (a run that could not finish says nothing about the account)."""
    if run_status == RunStatus.ERROR:
        return None
    failed = [(name, code) for name, status, code in rows if status == StepStatus.FAILED]
    if any(code == Code.REAUTH_REQUIRED for _name, code in failed):
        return AccountStatus.REAUTH_REQUIRED  # an OAuth2 grant the provider refused for good: sign in again
    if any(name in SIGN_IN_STEPS and code in AUTH_CODES for name, code in failed):
        return AccountStatus.AUTH_FAILED
    if any(name in CONNECTION_STEPS for name, _code in failed):
        return AccountStatus.CONNECTION_FAILED
    return AccountStatus.CONNECTED


def advice_codes(rows: Iterable[tuple[str, str]]) -> list[str]:
    """The distinct codes to advise on: failures first, then warnings, in step order; `ok` when there are none."""
    rows = list(rows)
    ordered = [code for status, code in rows if status == StepStatus.FAILED and code]
    ordered += [code for status, code in rows if (_advisory(status, code) or status == StepStatus.ERROR) and code]
    distinct = list(dict.fromkeys(ordered))
    return distinct or [str(Code.OK)]


# Run-level outcomes of a run that could not finish: not about the mail servers.
_RUN_ERRORS = {
    "worker_lost": _("The check was interrupted before it finished"),
    "queue_unavailable": _("The check could not be queued"),
    "internal_error": _("The check stopped because of a problem on our side"),
}


def step_alerts(details: Mapping[str, Any] | None) -> list[str]:
    """The server alerts (diagnostics.alerts) a step row recorded: its own, or each side's of a merged row."""
    details = details or {}
    found = list(details.get("server_alerts") or [])
    for side in ("incoming", "outgoing"):
        if isinstance(details.get(side), Mapping):
            found += details[side].get("server_alerts") or []
    return found


def advice_list(rows: Iterable[tuple[str, str]], *, run_outcome: str = "",
                alerts: Sequence[str] = ()) -> list[dict[str, Any]]:
    """Advice for the reader, rendered in the active language. `alerts`: the servers' own texts, shown with the
    server_alert item (added after the failures when an alert came with a failing answer)."""
    items = []
    if run_outcome in _RUN_ERRORS:
        items.append({"code": run_outcome, "scenario": None, "title": str(_RUN_ERRORS[run_outcome]),
                      "steps": [str(_("Run the check again in a minute. Nothing about your settings was changed."))]})
    codes = advice_codes(rows)
    if items and codes == [str(Code.OK)]:
        codes = []  # an interrupted run did not find everything in order
    alerts = list(dict.fromkeys(alerts))
    if alerts and str(Code.SERVER_ALERT) not in codes:
        codes = [code for code in codes if code != str(Code.OK)] + [str(Code.SERVER_ALERT)]
    for code in codes:
        try:
            advice = advice_for(code)
        except ValueError:
            continue  # run-level codes such as worker_lost have their own explanation on the run
        items.append({"code": code, "scenario": advice.scenario, "title": str(advice.title),
                      "steps": [str(s) for s in advice.steps]})
        if code == Code.SERVER_ALERT:
            items[-1]["server_alerts"] = alerts  # the server's own words (redacted), untranslated
    return items


def run_advice(run) -> list[dict[str, Any]]:
    """The advice of a finished run (DiagnosticRun) from its steps' statuses and codes, in step order, and its
    outcome; [] while it is in flight. The API, the pages and the admin all show this. Reads run.steps.all():
    prefetch the steps and it makes no query."""
    if not run.is_finished:
        return []
    steps = list(run.steps.all())
    return advice_list([(step.status, step.code) for step in steps], run_outcome=run.outcome,
                       alerts=[alert for step in steps for alert in step_alerts(step.details)])
