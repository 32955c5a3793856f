"""Host name resolution with a hard time limit.

dnspython rather than getaddrinfo: its `lifetime` bounds the whole lookup (getaddrinfo cannot be
interrupted), and it tells NXDOMAIN (permanent) from SERVFAIL or silence (transient). The hosts file
is read first so that `localhost` and on-premise names behave as in a mail program.
"""

from __future__ import annotations

import ipaddress
import time
from pathlib import Path

import dns.exception
import dns.name
import dns.nameserver
import dns.rdatatype
import dns.resolver

from diagnostics.policy import OutboundPolicy
from diagnostics.probes.deadline import ends_at, timeout_reason
from diagnostics.results import Code, ProbeError, Step, StepResult

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
HOSTS_FILE = Path("/etc/hosts")


def _hosts_file_addresses(host: str, *, hosts_file: Path = HOSTS_FILE) -> list[IPAddress]:
    wanted = host.rstrip(".").lower()
    found: list[IPAddress] = []
    try:
        text = hosts_file.read_text(errors="replace")
    except OSError:
        return []
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split()
        if len(fields) < 2 or wanted not in (f.lower() for f in fields[1:]):
            continue
        try:
            addr = ipaddress.ip_address(fields[0].split("%", 1)[0])
        except ValueError:
            continue
        if addr not in found:
            found.append(addr)
    return found


def parse_nameserver(spec: str) -> tuple[str, int]:
    """ "10.0.0.53" → (addr, 53); "127.0.0.1:5353"; "[::1]:53"; "::1" (a bare IPv6 address)."""
    if spec.startswith("["):
        address, _, rest = spec[1:].partition("]")
        return address, int(rest.lstrip(":") or 53)
    if spec.count(":") == 1:
        address, _, port = spec.partition(":")
        return address, int(port)
    return spec, 53


def resolver_for(nameservers: tuple[str, ...] | list[str]) -> dns.resolver.Resolver:
    """The system resolver, or the given servers ("127.0.0.1:5353", "::1", "[::1]:53") (setting DNS_NAMESERVERS)."""
    if not nameservers:
        return dns.resolver.Resolver(configure=True)
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [dns.nameserver.Do53Nameserver(*parse_nameserver(spec)) for spec in nameservers]
    resolver.cache = None
    return resolver


def resolve_addresses(host: str, *, timeout: float, nameservers: tuple[str, ...] | list[str] = (),
                      deadline: float | None = None) -> list[IPAddress]:
    """IPv4 then IPv6 addresses of `host` (an IP literal is returned as is), within min(timeout, time left
    before the run's `deadline`).

    Raises ProbeError: dns_not_found (NXDOMAIN / no address: permanent; SERVFAIL: transient) or timeout
    (reason dns_timeout, or run_deadline when the run's deadline cut the lookup).
    """
    lookup_ends, cut_by_run = ends_at(timeout, deadline)
    host = host.strip()
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    from_hosts = _hosts_file_addresses(host)
    if from_hosts:
        return from_hosts
    try:
        dns.name.from_text(host)
    except dns.exception.DNSException:
        raise ProbeError(Code.DNS_NOT_FOUND, reason="invalid_name") from None
    if not host or "." not in host.strip("."):
        # A bare word would be completed by the worker's search domains: not what the user meant.
        raise ProbeError(Code.DNS_NOT_FOUND, reason="not_a_domain_name")

    resolver = resolver_for(nameservers)
    addresses: list[IPAddress] = []
    nxdomain = False
    for rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA):
        remaining = lookup_ends - time.monotonic()
        if remaining <= 0:
            break
        try:
            answer = resolver.resolve(host, rdtype, lifetime=remaining, search=False, raise_on_no_answer=False)
        except dns.resolver.NXDOMAIN:
            nxdomain = True
            break
        except dns.resolver.LifetimeTimeout:
            if addresses:
                break  # IPv4 answered; a silent AAAA lookup should not fail the host
            raise ProbeError(
                Code.TIMEOUT, transient=True, reason=timeout_reason(cut_by_run, "dns_timeout")
            ) from None
        except dns.resolver.NoNameservers:
            if addresses:
                break
            raise ProbeError(Code.DNS_NOT_FOUND, transient=True, reason="servfail") from None
        except dns.exception.DNSException:
            raise ProbeError(Code.DNS_NOT_FOUND, transient=True, reason="dns_error") from None
        addresses.extend(ipaddress.ip_address(r.address) for r in answer)
    if addresses:
        return addresses
    if nxdomain:
        raise ProbeError(Code.DNS_NOT_FOUND, reason="nxdomain")
    if time.monotonic() >= lookup_ends:
        raise ProbeError(Code.TIMEOUT, transient=True, reason=timeout_reason(cut_by_run, "dns_timeout"))
    raise ProbeError(Code.DNS_NOT_FOUND, reason="no_address")


REFUSED_ADDRESSES = "private_or_reserved"


def shown_addresses(addresses: list[IPAddress], policy: OutboundPolicy | None) -> dict[str, object]:
    """What a dns step says about a name's addresses: the list, or, when the policy refuses any of them, only that
    they are private or reserved. Which ones is not said: any user could otherwise map the worker's internal names
    (localhost, the hosts file, *.internal answers) through the tools."""
    if policy is not None and not all(policy.allows(address) for address in addresses):
        return {"addresses_refused": REFUSED_ADDRESSES}
    return {"addresses": [str(a) for a in addresses]}


def resolve_host(host: str, *, timeout: float, nameservers: tuple[str, ...] | list[str] = (),
                 deadline: float | None = None, policy: OutboundPolicy | None = None) -> StepResult:
    """The "dns" step for one configured host: ok with details.addresses, or dns_not_found / timeout.
    `deadline`: the run's (time.monotonic()); past it the step is timeout with reason run_deadline. With
    `policy`, refused addresses are not listed (shown_addresses)."""
    started = time.monotonic()
    result = StepResult(step=Step.DNS, details={"host": host})
    try:
        addresses = resolve_addresses(host, timeout=timeout, nameservers=nameservers, deadline=deadline)
        result.details.update(shown_addresses(addresses, policy))
    except ProbeError as exc:
        result.code, result.transient = exc.code, exc.transient
        result.details.update(exc.details, reason=exc.reason)
    result.duration_ms = int((time.monotonic() - started) * 1000)
    return result


def address_spellings(address: IPAddress) -> set[str]:
    """How one address may be written in a step row: an IPv4 address and its IPv4-mapped IPv6 form, both ways."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if isinstance(address, ipaddress.IPv4Address):
        return {str(address), str(ipaddress.IPv6Address(f"::ffff:{address}"))}
    return {str(address)}


def same_server_addresses(host: str, *, timeout: float, nameservers: tuple[str, ...] | list[str] = ()) -> set[str]:
    """Every spelling of the addresses `host` resolves to now (empty when it does not resolve): whatever name,
    IP literal or ::ffff: form a person typed, these are the server a probe would connect to."""
    try:
        addresses = resolve_addresses(host, timeout=timeout, nameservers=nameservers)
    except ProbeError:
        return set()
    return set().union(*(address_spellings(address) for address in addresses))
