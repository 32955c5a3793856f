"""Standard ports and securities of the mail protocols, the settings check, and the TCP port check."""

from __future__ import annotations

import time

from diagnostics.probes.net import ProbeOptions, connect_checked
from diagnostics.probes.results import Code, ProbeError, Protocol, Security, Step, StepResult
from mailsettings import ports as port_facts

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


def check_settings(*, protocol: Protocol | str, port: int, security: Security | str) -> StepResult:
    """The "settings" step: does the port fit the protocol and security? A mismatch is a warning
    (port_protocol_mismatch) with a reason and the suggested pairs; a non-standard port is fine."""
    protocol, security = Protocol(protocol), Security(security)
    result = StepResult(step=Step.SETTINGS, details={"protocol": protocol, "port": port, "security": security})
    suggest = [{"port": p, "security": s} for p, s in RECOMMENDED[protocol]]
    securities = STANDARD_PORTS.get((protocol, port))
    if securities is not None:
        if security not in securities:
            result.code = Code.PORT_PROTOCOL_MISMATCH
            result.details.update(reason="security_mismatch", expected_security=sorted(securities), suggested=suggest)
        return result
    other = sorted(p for p, prt in STANDARD_PORTS if prt == port and p != protocol)
    if other:
        result.code = Code.PORT_PROTOCOL_MISMATCH
        result.details.update(reason="port_of_other_protocol", port_protocol=other, suggested=suggest)
    else:
        result.details["standard"] = False
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
