"""Outbound safety: which addresses a probe may connect to.

A diagnostic connects wherever a user's settings point, so without a guard it is a tool for reaching the
worker's own network (loopback, the cloud metadata service, private ranges). Every resolved address is
checked here before a socket is opened (probes.net.connect_checked, the one guard), and the probe then
connects to that checked address.

The block list is explicit on purpose: CPython 3.11.7 predates the fix to `ipaddress.is_private` /
`is_global` (CVE-2024-4032), so those properties are not trusted alone.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from diagnostics.results import Code, ProbeError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_BLOCKED_V4 = tuple(
    ipaddress.IPv4Network(n)
    for n in (
        "0.0.0.0/8",  # "this network", unspecified
        "10.0.0.0/8",
        "100.64.0.0/10",  # carrier-grade NAT
        "127.0.0.0/8",
        "169.254.0.0/16",  # link-local, includes 169.254.169.254 (metadata)
        "172.16.0.0/12",
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",  # documentation
        "192.88.99.0/24",  # 6to4 relay anycast
        "192.168.0.0/16",
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, includes 255.255.255.255
    )
)
_BLOCKED_V6 = tuple(
    ipaddress.IPv6Network(n)
    for n in (
        "::/128",  # unspecified
        "::1/128",
        "::ffff:0:0/96",  # IPv4-mapped (also checked as the IPv4 it carries)
        "::/96",  # deprecated IPv4-compatible
        "64:ff9b::/96",  # NAT64 well-known prefix (also checked as the IPv4 it embeds)
        "64:ff9b:1::/48",  # local-use NAT64
        "100::/64",  # discard-only
        "2001::/23",  # IETF protocol assignments (Teredo, ORCHID...)
        "2001:db8::/32",  # documentation
        "2002::/16",  # 6to4 (embeds an IPv4)
        "fc00::/7",  # unique local
        "fe80::/10",  # link-local
        "fec0::/10",  # site-local (deprecated)
        "ff00::/8",  # multicast
    )
)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def parse_networks(networks: Iterable[str | IPNetwork] | None) -> tuple[IPNetwork, ...]:
    """Turn configured strings ("127.0.0.0/8", "::1") into networks; a bad entry raises ValueError."""
    return tuple(
        n if isinstance(n, ipaddress.IPv4Network | ipaddress.IPv6Network) else ipaddress.ip_network(n, strict=False)
        for n in (networks or ())
    )


def _embedded_v4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return ip.sixtofour
    return None


def _allowed(ip: IPAddress, allowed: tuple[IPNetwork, ...]) -> bool:
    return any(ip.version == n.version and ip in n for n in allowed)


def _blocked(ip: IPAddress) -> bool:
    if isinstance(ip, ipaddress.IPv4Address):
        return any(ip in n for n in _BLOCKED_V4)
    return any(ip in n for n in _BLOCKED_V6)


def is_address_allowed(ip: str | IPAddress, *, allowed_networks: Iterable[str | IPNetwork] | None = ()) -> bool:
    """True when a probe may connect to `ip`. `allowed_networks` opens ranges (tests, on-premise servers)."""
    addr = ipaddress.ip_address(ip) if isinstance(ip, str) else ip
    allowed = parse_networks(allowed_networks)
    # An explicitly allowed address (in the form given or the IPv4 it carries) wins over the block list.
    inner = _embedded_v4(addr) if isinstance(addr, ipaddress.IPv6Address) else None
    if _allowed(addr, allowed) or (inner is not None and _allowed(inner, allowed)):
        return True
    if _blocked(addr):
        return False
    # A public-looking IPv6 form must not smuggle a blocked IPv4 through.
    return not (inner is not None and _blocked(inner))


def check_address(ip: str | IPAddress, *, allowed_networks: Iterable[str | IPNetwork] | None = ()) -> None:
    """Raise ProbeError(target_not_allowed) unless a probe may connect to `ip`."""
    try:
        addr = ipaddress.ip_address(ip) if isinstance(ip, str) else ip
    except ValueError:
        raise ProbeError(Code.TARGET_NOT_ALLOWED, reason="not_an_address") from None
    if not is_address_allowed(addr, allowed_networks=allowed_networks):
        # Not which address: a refused target's details must not map internal names for whoever asks.
        raise ProbeError(Code.TARGET_NOT_ALLOWED, reason="blocked_range")


@dataclass(frozen=True)
class OutboundPolicy:
    """The outbound rules one run works under: opened networks and, optionally, the ports probes may use."""

    allowed_networks: tuple[IPNetwork, ...] = ()
    allowed_ports: frozenset[int] | None = None  # None: any port

    @classmethod
    def build(
        cls, *, allowed_networks: Iterable[str | IPNetwork] | None = (), allowed_ports: Iterable[int] | None = None
    ) -> OutboundPolicy:
        return cls(
            allowed_networks=parse_networks(allowed_networks),
            allowed_ports=frozenset(allowed_ports) if allowed_ports is not None else None,
        )

    def check_address(self, ip: str | IPAddress) -> None:
        check_address(ip, allowed_networks=self.allowed_networks)

    def allows(self, ip: IPAddress) -> bool:
        return is_address_allowed(ip, allowed_networks=self.allowed_networks)

    def check_port(self, port: int) -> None:
        if not 0 < port < 65536 or (self.allowed_ports is not None and port not in self.allowed_ports):
            raise ProbeError(Code.TARGET_NOT_ALLOWED, reason="port_not_allowed", details={"port": port})

