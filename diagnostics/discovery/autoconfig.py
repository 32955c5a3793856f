"""A domain's own configuration file (Thunderbird autoconfig, clientConfig 1.1) and the online ISPDB, fetched
through the guarded HTTPS fetch and parsed with mailsettings' ISPDB parser."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit, urlunsplit

from diagnostics.probes.http import FetchError, fetch
from diagnostics.probes.net import ProbeOptions
from mailsettings import candidates as cands
from mailsettings.candidates import Candidate
from mailsettings.ispdb import ConfigError, parse_config
from mailsettings.providers import related_provider

# Fetch failures worth a sentence: the file was there (or refused by our policy) but not used. A 404, an unknown
# host or a closed port is the normal "this domain publishes nothing" and says nothing.
_NOTED = {"too_large", "tls", "redirect_refused", "bad_response", "too_many_redirects"}


@dataclass
class Found:
    """What one method found: candidates (best first), notes as (code, params), the TTL its source gives."""

    candidates: list[Candidate] = field(default_factory=list)
    notes: list[tuple[str, dict]] = field(default_factory=list)
    ttl: int | None = None
    finished: bool = True  # False: cut by the deadline


def without_query(url: str) -> str:
    """The URL as shown in notes and evidence: the address sent in the query is the person's own, but it stays out
    of what is cached and logged."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def autoconfig_urls(domain: str, address: str, *, allow_http: bool) -> list[tuple[str, str]]:
    """(source, url) in Thunderbird's order: the autoconfig host, the well-known path, then the same over http."""
    query = f"?emailaddress={quote(address, safe='@')}" if not address.startswith("@") else ""
    urls = [(cands.AUTOCONFIG, f"https://autoconfig.{domain}/mail/config-v1.1.xml{query}"),
            (cands.WELL_KNOWN, f"https://{domain}/.well-known/autoconfig/mail/config-v1.1.xml{query}")]
    if allow_http:
        urls += [(source, "http" + url[5:]) for source, url in urls]
    return urls


def fetch_config(url: str, *, source: str, domain: str, options: ProbeOptions, max_bytes: int, timeout: float,
                 allow_http: bool, default_ttl: int, extra_evidence: tuple[dict, ...] = ()) -> Found:
    shown = without_query(url)
    try:
        result = fetch(url, options=options, max_bytes=max_bytes, timeout=timeout, allow_http=allow_http)
    except FetchError as error:
        if error.reason == "target_not_allowed":
            # Not which address: the answer would map internal names for anyone who asks (the policy says none).
            return Found(notes=[("autoconfig_refused", {"url": shown, "host": error.details.get("host", "")})])
        if error.reason in _NOTED:
            return Found(notes=[("autoconfig_ignored", {"url": shown, "reason": error.reason})])
        return Found(finished=error.reason != "timeout")
    try:
        config = parse_config(result.body, origin=without_query(result.url))
    except ConfigError as error:
        return Found(notes=[("autoconfig_ignored", {"url": shown, "reason": error.reason})])
    evidence = (*extra_evidence, {"kind": source if source != cands.MX else "autoconfig",
                                  "url": without_query(result.url), "scheme": result.scheme})
    related = related_provider(config.domains)
    found = cands.from_config(config, source=source, evidence=evidence, provider_id=related.id if related else None)
    return Found(candidates=found, ttl=result.max_age if result.max_age is not None else default_ttl)


def ispdb_online_url(base: str, domain: str) -> str:
    return f"{base.rstrip('/')}/{domain}"
