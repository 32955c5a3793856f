"""The DNS resolver every lookup of the service uses, built from settings (DNS_NAMESERVERS, DNS_TIMEOUT)."""
from __future__ import annotations

import dns.nameserver
import dns.resolver
from django.conf import settings


def parse_nameserver(spec: str) -> tuple[str, int]:
    """ "10.0.0.53" → (addr, 53); "127.0.0.1:5353"; "[::1]:53"; "::1" (a bare IPv6 address)."""
    if spec.startswith("["):
        address, _, rest = spec[1:].partition("]")
        return address, int(rest.lstrip(":") or 53)
    if spec.count(":") == 1:
        address, _, port = spec.partition(":")
        return address, int(port)
    return spec, 53


def resolver_from_settings() -> dns.resolver.Resolver:
    nameservers = list(settings.DNS_NAMESERVERS)
    resolver = dns.resolver.Resolver(configure=not nameservers)
    if nameservers:
        resolver.nameservers = [dns.nameserver.Do53Nameserver(*parse_nameserver(s)) for s in nameservers]
    resolver.lifetime = settings.DNS_TIMEOUT
    resolver.timeout = min(1.0, settings.DNS_TIMEOUT)
    return resolver
