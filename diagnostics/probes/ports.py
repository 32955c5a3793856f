"""Standard ports and securities of the mail protocols, the settings check, and the TCP port check."""

from __future__ import annotations

import time

from diagnostics.probes.net import ProbeOptions, connect_checked
from diagnostics.probes.results import Code, ProbeError, Protocol, Security, Step, StepResult
from mailsettings import ports as port_facts
from mailsettings.warnings import server_warnings

# The facts live in mailsettings.ports (the settings forms use them too); here they are typed for the probes.
STANDARD_PORTS: dict[tuple[Protocol, int], frozenset[Security]] = {
    (Protocol(protocol), port): frozenset(Security(s) for s in securities)
    for (protocol, port), securities in port_facts.STANDARD_PORTS.items()
}

# What to suggest, best first.
RECOMMENDED: dict[Protocol, tuple[tuple[int, Security], ...]] = {
    Protocol(protocol): tuple((port, Security(s)) for port, s in pairs)
    for protocol, pairs in port_facts.RECOMMENDED.items()
}

ALL_STANDARD_PORTS = frozenset(port for _, port in STANDARD_PORTS)


_WARNING_REASONS = {"port_security_mismatch": "security_mismatch", "port_of_other_protocol": "port_of_other_protocol"}
_MODEL_SECURITY = {
    Security.IMPLICIT: port_facts.SSL, Security.STARTTLS: port_facts.STARTTLS, Security.NONE: port_facts.NONE,
}


def check_settings(*, protocol: Protocol | str, port: int, security: Security | str) -> StepResult:
    """The "settings" step: does the port fit the protocol and security? The rule is mailsettings' own (the
    warnings shown with the account), so the form and the diagnostic never disagree. A mismatch is a warning
    (port_protocol_mismatch) with a reason and the suggested pairs; a non-standard port is fine."""
    protocol, security = Protocol(protocol), Security(security)
    result = StepResult(step=Step.SETTINGS, details={"protocol": protocol, "port": port, "security": security})
    codes = {w.code for w in server_warnings(side="", protocol=protocol.value, port=port,
                                             security=_MODEL_SECURITY[security])}
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
