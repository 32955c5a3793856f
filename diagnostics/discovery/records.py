"""DNS records for discovery: MX (the domain's mail receivers) and RFC 6186 / RFC 8314 SRV records.

Both bounded by the discovery's deadline. A DNS failure is a status, never an exception: the other methods go on.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import dns.exception
import dns.name
import dns.rdatatype
import dns.resolver

from diagnostics.probes.dns import resolver_for

# MX statuses (mailsettings.discovery words them: "dns_failed" notes)
MX_OK, MX_NXDOMAIN, MX_NO_ANSWER, MX_NULL = "ok", "nxdomain", "no_answer", "null_mx"
MX_TIMEOUT, MX_SERVFAIL, MX_ERROR = "timeout", "servfail", "error"

# RFC 8314 prefers implicit TLS; RFC 6186 names the STARTTLS services. (service, protocol, security)
SRV_SERVICES = (
    ("_imaps._tcp", "imap", "ssl"), ("_imap._tcp", "imap", "starttls"),
    ("_pop3s._tcp", "pop3", "ssl"), ("_pop3._tcp", "pop3", "starttls"),
    ("_submissions._tcp", "smtp", "ssl"), ("_submission._tcp", "smtp", "starttls"),
)


@dataclass(frozen=True)
class MxAnswer:
    status: str
    hosts: tuple[str, ...] = ()  # by preference, lower case, without the root dot
    ttl: int | None = None


@dataclass(frozen=True)
class SrvRecord:
    service: str  # "_imaps._tcp"
    protocol: str
    security: str
    priority: int
    weight: int
    port: int
    target: str
    ttl: int


def _lifetime(deadline: float, limit: float) -> float:
    return max(0.0, min(limit, deadline - time.monotonic()))


def _query(name: str, rdtype, *, nameservers, deadline: float, limit: float):
    lifetime = _lifetime(deadline, limit)
    if lifetime <= 0:
        raise dns.exception.Timeout()
    # Absolute name and no search list: "example" must never become "example.corp.internal".
    qname = dns.name.from_text(name, origin=dns.name.root)
    return resolver_for(nameservers).resolve(qname, rdtype, search=False, lifetime=lifetime)


def lookup_mx(domain: str, *, nameservers, deadline: float, limit: float) -> MxAnswer:
    try:
        answer = _query(domain, dns.rdatatype.MX, nameservers=nameservers, deadline=deadline, limit=limit)
    except dns.resolver.NXDOMAIN:
        return MxAnswer(MX_NXDOMAIN)
    except dns.resolver.NoAnswer:
        return MxAnswer(MX_NO_ANSWER)
    except dns.exception.Timeout:  # includes LifetimeTimeout
        return MxAnswer(MX_TIMEOUT)
    except dns.resolver.NoNameservers:  # every server answered SERVFAIL/REFUSED or was unusable
        return MxAnswer(MX_SERVFAIL)
    except (dns.exception.DNSException, OSError):
        return MxAnswer(MX_ERROR)
    records = sorted(answer, key=lambda r: (r.preference, r.exchange.to_text()))
    if len(records) == 1 and records[0].exchange == dns.name.root:
        return MxAnswer(MX_NULL)  # RFC 7505 "0 .": the domain receives no mail
    hosts = [r.exchange.to_text(omit_final_dot=True).lower() for r in records if r.exchange != dns.name.root]
    return MxAnswer(MX_OK, tuple(dict.fromkeys(hosts)), ttl=answer.rrset.ttl if answer.rrset else None)


def lookup_srv(domain: str, service: str, protocol: str, security: str, *, nameservers, deadline: float,
               limit: float) -> list[SrvRecord]:
    """The records of one service, by priority then weight (heaviest first). A target of "." means "not offered":
    nothing is returned for it. Failures return nothing."""
    try:
        answer = _query(f"{service}.{domain}", dns.rdatatype.SRV, nameservers=nameservers, deadline=deadline,
                        limit=limit)
    except (dns.exception.DNSException, OSError):
        return []
    ttl = answer.rrset.ttl if answer.rrset else 3600
    records = [
        SrvRecord(service=service, protocol=protocol, security=security, priority=r.priority, weight=r.weight,
                  port=r.port, target=r.target.to_text(omit_final_dot=True).lower(), ttl=ttl)
        for r in answer if r.target != dns.name.root and r.port
    ]
    return sorted(records, key=lambda r: (r.priority, -r.weight, r.target))
