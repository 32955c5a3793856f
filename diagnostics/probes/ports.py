"""The settings check (mailsettings' port facts and warnings, as a step) and the TCP port check."""

from __future__ import annotations

import time

from diagnostics.probes.net import ProbeOptions, connect_checked
from diagnostics.results import Code, ProbeError, Step, StepResult
from mailsettings.ports import RECOMMENDED, STANDARD_PORTS
from mailsettings.vocabulary import Protocol, Security
from mailsettings.warnings import server_warnings

_WARNING_REASONS = {"port_security_mismatch": "security_mismatch", "port_of_other_protocol": "port_of_other_protocol"}


def check_settings(*, protocol: Protocol | str, port: int, security: Security | str) -> StepResult:
    """The "settings" step: does the port fit the protocol and security? The rule is mailsettings' own (the
    warnings shown with the account), so the form and the diagnostic never disagree. A mismatch is a warning
    (port_protocol_mismatch) with a reason and the suggested pairs; a non-standard port is fine."""
    protocol, security = Protocol(protocol), Security(security)
    result = StepResult(step=Step.SETTINGS, details={"protocol": protocol, "port": port, "security": security})
    codes = {w.code for w in server_warnings(side="", protocol=protocol, port=port, security=security)}
    mismatch = next((code for code in _WARNING_REASONS if code in codes), None)
    if mismatch:
        result.code = Code.PORT_PROTOCOL_MISMATCH
        result.details.update(reason=_WARNING_REASONS[mismatch],
                              suggested=[{"port": p, "security": s} for p, s in RECOMMENDED[protocol]])
        if (protocol, port) in STANDARD_PORTS:
            result.details["expected_security"] = sorted(STANDARD_PORTS[(protocol, port)])
        else:
            result.details["port_protocol"] = sorted(p for p, prt in STANDARD_PORTS if prt == port and p != protocol)
    if "nonstandard_port" in codes:
        result.details["standard"] = False
    if "no_encryption" in codes:
        result.details["encrypted"] = False
    return result


def check_port(host: str, port: int, *, options: ProbeOptions) -> StepResult:
    """The "port" step: TCP connect (policy-checked), then close. Codes: ok, port_closed, port_filtered,
    target_not_allowed, dns_not_found, timeout (DNS)."""
    started = time.monotonic()
    result = StepResult(step=Step.PORT, details={"host": host, "port": port})
    try:
        sock, _ip, details = connect_checked(host, port, options=options)
    except ProbeError as exc:
        result.code, result.transient = exc.code, exc.transient
        result.details.update(exc.details, reason=exc.reason)
    else:
        sock.close()
        result.details.update(details)
    result.duration_ms = int((time.monotonic() - started) * 1000)
    return result
