"""Standard ports of the mail protocols and the security each is meant for: facts, no network.

diagnostics' probes reuse these facts; mailsettings must not import diagnostics, so they live here.
"""
from __future__ import annotations

from mailsettings.vocabulary import Protocol, Security

IMAP, POP3, SMTP = Protocol.IMAP, Protocol.POP3, Protocol.SMTP  # short names for the tables below
SSL, STARTTLS, NONE = Security.SSL, Security.STARTTLS, Security.NONE

# (protocol, port) -> the securities that port is meant for.
STANDARD_PORTS: dict[tuple[Protocol, int], frozenset[Security]] = {
    (IMAP, 993): frozenset({SSL}),
    (IMAP, 143): frozenset({STARTTLS, NONE}),
    (POP3, 995): frozenset({SSL}),
    (POP3, 110): frozenset({STARTTLS, NONE}),
    (SMTP, 465): frozenset({SSL}),
    (SMTP, 587): frozenset({STARTTLS}),
    (SMTP, 25): frozenset({STARTTLS, NONE}),
}

# What to suggest for each protocol and security, best first.
RECOMMENDED: dict[Protocol, tuple[tuple[int, Security], ...]] = {
    IMAP: ((993, SSL), (143, STARTTLS)),
    POP3: ((995, SSL), (110, STARTTLS)),
    SMTP: ((465, SSL), (587, STARTTLS), (25, STARTTLS)),
}


ALL_STANDARD_PORTS = frozenset(port for _protocol, port in STANDARD_PORTS)


def standard_securities(protocol: str, port: int) -> frozenset[str] | None:
    """The securities a standard port is meant for, or None when the port is not standard for the protocol."""
    return STANDARD_PORTS.get((protocol, port))


def protocols_of_port(port: int) -> list[str]:
    """Which protocols use `port` as a standard port (sorted)."""
    return sorted(protocol for protocol, p in STANDARD_PORTS if p == port)


def default_port(protocol: str, security: str) -> int:
    """The usual port for a protocol and security (plain text uses the STARTTLS port)."""
    wanted = STARTTLS if security == NONE else security
    for port, sec in RECOMMENDED[protocol]:
        if sec == wanted:
            return port
    return RECOMMENDED[protocol][0][0]
