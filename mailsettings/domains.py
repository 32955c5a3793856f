"""Registrable domains (eTLD+1) from the Public Suffix List bundled with the publicsuffixlist package: no network.

`base_domain("mx1.incoming.hoster.com")` → "hoster.com"; `base_domain("pop.ocn.ne.jp")` → "ocn.ne.jp" (ne.jp is a
public suffix). A name under no known suffix counts its last label as the suffix (the PSL's default rule).
"""

from __future__ import annotations

import functools

from publicsuffixlist import PublicSuffixList


@functools.cache
def _psl() -> PublicSuffixList:
    return PublicSuffixList()  # the list shipped in the package, read once per process


def base_domain(host: str) -> str | None:
    """eTLD+1 of a host name (ASCII, lower case), or None for a bare public suffix."""
    return _psl().privatesuffix(host.rstrip(".").lower())


def base_and_next(host: str) -> list[str]:
    """The eTLD+2 (when the host is deeper than the base domain) then the eTLD+1, as Thunderbird's MX step tries
    them; empty for a public suffix."""
    host = host.rstrip(".").lower()
    base = base_domain(host)
    if base is None:
        return []
    if host == base:
        return [base]
    labels = host[: -len(base) - 1].split(".")
    return [f"{labels[-1]}.{base}", base]


def parents(host: str) -> list[str]:
    """The host and each parent domain down to its base domain, most specific first."""
    host = host.rstrip(".").lower()
    base = base_domain(host)
    if base is None:
        return []
    names = []
    name = host
    while True:
        names.append(name)
        if name == base or "." not in name:
            return names
        name = name.split(".", 1)[1]
