"""The run's deadline over every probe operation.

A run has a time budget; the walk checks it between phases, but one phase (a DNS lookup, a connect, a
handshake, a read) could still run its own full limit past it. So each operation's limit is the smaller of its
own and the time left before the run's deadline (an absolute time.monotonic() value, None: no run deadline).
"""

from __future__ import annotations

import time

from diagnostics.results import Code, ProbeError

RUN_DEADLINE = "run_deadline"


def run_deadline_error(details: dict | None = None) -> ProbeError:
    return ProbeError(Code.TIMEOUT, transient=True, reason=RUN_DEADLINE, details=details)


def ends_at(limit: float, deadline: float | None) -> tuple[float, bool]:
    """When an operation allowed `limit` seconds must end: (absolute time.monotonic() value, True when the run's
    deadline is what ends it, so a timeout then is reported as run_deadline).
    Raises ProbeError(timeout, run_deadline) once the run's deadline has passed."""
    now = time.monotonic()
    if deadline is not None and deadline <= now:
        raise run_deadline_error()
    own = now + limit
    if deadline is None or own <= deadline:
        return own, False
    return deadline, True


def timeout_reason(cut_by_run: bool, own: str) -> str:
    return RUN_DEADLINE if cut_by_run else own
