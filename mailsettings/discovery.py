"""Which servers an address should use: local knowledge at once, the network when that is not enough.

Lookup order (docs/DISCOVERY.md): 1. our overlay (provider_table), then the bundled ISPDB, by the address's domain;
then, only when neither knows the domain, the network methods of a registered discoverer (diagnostics registers
one at start-up: the domain's autoconfig and well-known files, SRV records, MX, an online ISPDB, verified probing),
all within one deadline; last, an untested guess. mailsettings never opens a socket: without a discoverer the
answer is the local one.

The network's answer is cached per domain (Django's cache) with its own TTL, templates unresolved; every detection
resolves them for its address.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from mailsettings import candidates as cands
from mailsettings import ispdb, ports
from mailsettings.addresses import Address, parse_address
from mailsettings.candidates import Candidate
from mailsettings.domains import parents
from mailsettings.ispdb import ConfigServer
from mailsettings.provider_table import PROTOCOLS, Provider
from mailsettings.providers import (
    Note,
    get_provider,
    provider_for_domain,
    provider_for_mx,
    provider_notes,
    related_provider,
)
from mailsettings.vocabulary import Security

CACHE_PREFIX = "mailsettings:discovery:v1:"
SHORT_TTL = 60  # an answer cut by the deadline, or a transient failure: ask again soon


@dataclass
class NetworkAnswer:
    """What a discoverer found for a domain. Plain data (cached as is): notes are (code, params)."""

    candidates: list[Candidate] = field(default_factory=list)
    mx: list[str] = field(default_factory=list)
    notes: list[tuple[str, dict]] = field(default_factory=list)
    ttl: int = 3600
    complete: bool = True  # every method finished before the deadline
    probed: bool = False  # verified guessing ran (a later caller allowed to probe need not run it again)

    def to_cache(self) -> dict:
        return {"candidates": [c.to_cache() for c in self.candidates], "mx": self.mx,
                "notes": [[code, params] for code, params in self.notes], "ttl": self.ttl,
                "complete": self.complete, "probed": self.probed}

    @classmethod
    def from_cache(cls, data: dict) -> NetworkAnswer:
        return cls(candidates=[Candidate.from_cache(c) for c in data["candidates"]], mx=list(data["mx"]),
                   notes=[(code, dict(params)) for code, params in data["notes"]], ttl=int(data["ttl"]),
                   complete=bool(data["complete"]), probed=bool(data["probed"]))


# A discoverer: (address, deadline as time.monotonic(), actor_id for rate limits, probe allowed) -> NetworkAnswer.
NetworkDiscoverer = Callable[..., NetworkAnswer]
network_discoverers: list[NetworkDiscoverer] = []


def network_discoverer_register(discoverer: NetworkDiscoverer) -> None:
    """diagnostics registers its discoverer here at start-up (DiagnosticsConfig.ready); mailsettings never imports
    diagnostics."""
    if discoverer not in network_discoverers:
        network_discoverers.append(discoverer)


# --- local knowledge ----------------------------------------------------------------------------------------

def local_candidates(domain: str) -> list[Candidate]:
    """Our overlay, then the bundled ISPDB, for an ASCII lower-case domain. No network."""
    found: list[Candidate] = []
    provider = provider_for_domain(domain)
    if provider is not None:
        found += cands.from_provider(provider)
    config = ispdb.lookup(domain)
    if config is not None:
        related = related_provider(config.domains)
        found += cands.from_config(config, source=cands.ISPDB, evidence=(_ispdb_evidence(config, domain),),
                                   provider_id=related.id if related else None)
    return found


def _ispdb_evidence(config: ispdb.ClientConfig, domain: str) -> dict:
    return {"kind": "ispdb", "file": config.origin, "domain": domain}


def mx_candidates(mx_hosts: list[str]) -> list[Candidate]:
    """Local knowledge reached through MX hosts (source "mx"): a provider of our table whose MX suffix the preferred
    host is under (Google Workspace, Microsoft 365...), else the ISPDB entry of the host or of a parent domain down
    to its base domain (ISPDB lists MX domains such as mail.protection.outlook.com for this)."""
    if not mx_hosts:
        return []
    host = mx_hosts[0]
    provider = provider_for_mx([host])
    if provider is not None:
        evidence = ({"kind": "mx", "host": host, "provider": provider.id},)
        return cands.from_provider(provider, source=cands.MX, evidence=evidence)
    for name in parents(host):
        config = ispdb.lookup(name)
        if config is not None:
            related = related_provider(config.domains)
            evidence = ({"kind": "mx", "host": host, "domain": name}, _ispdb_evidence(config, name))
            return cands.from_config(config, source=cands.MX, evidence=evidence,
                                     provider_id=related.id if related else None)
    return []


def settled(found: list[Candidate]) -> bool:
    """A list with at least one candidate that needs no further looking: published and not flagged."""
    return any(not c.flagged and c.source not in (cands.PROBE, cands.GUESS) for c in found)


# --- the answer -------------------------------------------------------------------------------------------------

@dataclass
class Detection:
    domain: str
    provider: Provider | None
    mx: list[str]
    incoming: dict[str, Any]
    outgoing: dict[str, Any]
    source: str
    notes: list[Note]
    candidates: list[Candidate]  # resolved for the address, best first
    complete: bool  # False: a network look-up would still run (the answer is the local one of a miss)

    def to_dict(self) -> dict:
        """The body of GET /api/v1/providers/detect/; messages stay lazy (DRF renders them)."""
        return {
            "domain": self.domain,
            "provider": {"id": self.provider.id, "name": self.provider.name} if self.provider else None,
            "mx": list(self.mx), "incoming": dict(self.incoming), "outgoing": dict(self.outgoing),
            "source": self.source, "verified": bool(self.candidates and self.candidates[0].verified),
            "oauth2_only": bool(self.candidates and self.candidates[0].oauth2_only),
            "complete": self.complete, "notes": [note.to_dict() for note in self.notes],
            "candidates": [c.to_dict() for c in self.candidates],
        }

    def alternatives(self, limit: int = 4) -> list[dict]:
        """The other candidates as the page lists them: servers, security and a translated source."""

        def label(server: ConfigServer | None) -> Any:
            return Security(server.security).label if server and server.security in Security.values else ""

        return [{"incoming": c.incoming, "outgoing": c.outgoing, "verified": c.verified,
                 "incoming_security": label(c.incoming), "outgoing_security": label(c.outgoing),
                 "source_label": SOURCE_LABELS.get(c.source, c.source)} for c in self.candidates[1:1 + limit]]

    def to_details(self) -> dict:
        """The same as a diagnostic step's details: plain data, notes by code (the step's own sentence says more)."""
        body = self.to_dict()
        body["notes"] = [note.code for note in self.notes]
        body["candidates"] = body["candidates"][:5]
        return body


def detect(address: str | Address, *, protocol: str = ports.IMAP, network: bool = True, probe: bool = True,
           actor_id: int | None = None, deadline: float | None = None) -> Detection:
    """Suggest settings for an address. Raises AddressError for an invalid address, nothing for the network.

    network=False: local knowledge only (at once). probe=False: no verified guessing (the diagnostics' domain step:
    the run probes the configured servers itself). `deadline` (time.monotonic()) bounds the network methods;
    default now + DISCOVERY_DEADLINE."""
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {PROTOCOLS}, not {protocol!r}")
    parsed = address if isinstance(address, Address) else parse_address(address)
    domain = parsed.domain
    found = local_candidates(domain)
    answer: NetworkAnswer | None = None
    complete = True
    if not settled(found):
        if network and network_discoverers:
            answer = _network_answer(parsed, probe=probe, actor_id=actor_id, deadline=deadline)
            found += answer.candidates
        else:
            complete = not network_discoverers  # a network look-up would run when asked for
    found += cands.guess(domain)
    ordered = [c.resolved(local=parsed.local, domain=domain) for c in cands.ranked(found, protocol=protocol)]
    return _detection(domain, ordered, protocol=protocol, answer=answer, complete=complete)


def _cache_key(domain: str) -> str:
    # Memcached-style backends refuse keys over 250 characters; a 253-character domain would be one.
    return CACHE_PREFIX + (hashlib.sha256(domain.encode()).hexdigest() if len(domain) > 200 else domain)


def _network_answer(address: Address, *, probe: bool, actor_id: int | None, deadline: float | None) -> NetworkAnswer:
    key = _cache_key(address.domain)
    cached = cache.get(key)
    if cached is not None:
        answer = NetworkAnswer.from_cache(cached)
        # An answer found without probing serves a caller who may probe only if it needs no probe.
        if answer.probed or not probe or settled(answer.candidates):
            return answer
    if deadline is None:
        deadline = time.monotonic() + settings.DISCOVERY_DEADLINE
    answer = NetworkAnswer()
    for discoverer in network_discoverers:
        answer = discoverer(address=address, deadline=deadline, actor_id=actor_id, probe=probe)
        if answer.candidates:
            break
    ttl = answer.ttl if answer.complete else min(answer.ttl, SHORT_TTL)
    cache.set(key, answer.to_cache(), max(1, min(ttl, settings.DISCOVERY_CACHE_TTL)))
    return answer


def network_answer_forget(domain: str) -> None:
    """Drop a domain's cached network answer (an operator who just fixed the domain's autoconfig or DNS)."""
    cache.delete(_cache_key(domain))


def _detection(domain: str, ordered: list[Candidate], *, protocol: str, answer: NetworkAnswer | None,
               complete: bool) -> Detection:
    best = ordered[0]
    # Within the winning source, the protocol asked for if it offers it (ranked() put it first).
    outgoing = best.outgoing or next(c.outgoing for c in ordered if c.outgoing is not None)
    provider = _provider(best, domain=domain)
    notes: list[Note] = []
    if best.incoming.protocol != protocol:
        notes.append(protocol_unavailable(name=best.name or (provider.name if provider else domain),
                                          wanted=protocol))
    notes += _source_notes(best, domain=domain, answer=answer)
    if provider is not None:
        notes += provider_notes(provider, protocol=best.incoming.protocol)
    if best.oauth2_only and not (provider and provider.oauth_required):
        notes.append(Note("oauth2_only", format_lazy(_OAUTH2_ONLY, name=best.name or domain)))
    if answer is not None:
        notes += [note_from_code(code, **params) for code, params in answer.notes]
    return Detection(
        domain=domain, provider=provider, mx=list(answer.mx) if answer else [],
        incoming={"protocol": best.incoming.protocol, "host": best.incoming.host, "port": best.incoming.port,
                  "security": best.incoming.security, "username": best.incoming.username},
        outgoing={"host": outgoing.host, "port": outgoing.port, "security": outgoing.security,
                  "username": outgoing.username},
        source=best.source, notes=_unique(notes), candidates=ordered, complete=complete,
    )


def _provider(candidate: Candidate, *, domain: str) -> Provider | None:
    if candidate.provider_id:
        return get_provider(candidate.provider_id)
    if candidate.source in (cands.ISPDB, cands.AUTOCONFIG, cands.WELL_KNOWN, cands.MX):
        return cands.provider_of(candidate, domain=domain)
    return None  # SRV, probes and guesses name servers, not a provider


def _unique(notes: list[Note]) -> list[Note]:
    seen: set[tuple[str, str]] = set()
    out = []
    for note in notes:
        key = (note.code, str(note.message))
        if key not in seen:
            seen.add(key)
            out.append(note)
    return out


# --- sentences --------------------------------------------------------------------------------------------------

SOURCE_LABELS = {
    cands.OVERLAY: _("mailbind's list of providers"),
    cands.ISPDB: _("Thunderbird's ISPDB"),
    cands.AUTOCONFIG: _("the domain's autoconfig file"),
    cands.WELL_KNOWN: _("the domain's autoconfig file"),
    cands.SRV: _("the domain's SRV records"),
    cands.MX: _("the domain's MX records"),
    cands.PROBE: _("a test of the server"),
    cands.GUESS: _("a guess, not tested"),
}
_OAUTH2_ONLY = _(
    "{name} accepts only OAuth2 sign-in (the provider's own sign-in page) from mail apps, not passwords: a "
    "password, even a correct one, will be refused."
)
_PROTOCOL_UNAVAILABLE = _("{name} does not offer {wanted}; these settings are for {other}.")
_GUESSED = _(
    "These settings are a guess from the domain name ({incoming} and {outgoing}). Check them against your mail "
    "provider's instructions."
)
_FLAGGED = _(
    "The known settings of {domain} contradict the usual ports and security ({server}), so they were not used as "
    "they are. Check them with your provider."
)
_SOURCE_TEXTS = {
    cands.ISPDB: _("These settings come from Thunderbird's database of mail providers (ISPDB)."),
    cands.AUTOCONFIG: _("These settings are published by {domain} itself (its autoconfig file)."),
    cands.WELL_KNOWN: _("These settings are published by {domain} itself (its autoconfig file)."),
    cands.SRV: _("These servers are named in the DNS records of {domain} (SRV records)."),
    cands.MX: _("Mail for {domain} is received by {mx}, so the settings of that provider are suggested."),
    cands.PROBE: _(
        "No published settings were found. These servers answered a test just now: {incoming} and {outgoing}."),
}
_TRY_AGAIN = _("Try again in a moment, or check the settings with your provider.")
_DNS_MESSAGES = {
    "nxdomain": _('The domain {domain} does not exist. Check the part of the address after "@".'),
    "no_answer": _("The domain {domain} lists no mail servers (MX records), so its provider could not be found."),
    "null_mx": _("The domain {domain} says that it does not receive mail. Check the address."),
    "timeout": _("Looking up the mail servers of {domain} took too long. {try_again}"),
    "servfail": _("The DNS servers could not say which mail servers {domain} uses. {try_again}"),
    "error": _("The mail servers of {domain} could not be looked up. {try_again}"),
}
_REASONS = {
    "too_large": _("the file is larger than allowed"),
    "malformed": _("the file is not valid XML"),
    "forbidden_xml": _("the file uses XML features that are refused (DTD or entities)"),
    "not_client_config": _("the file holds no mail settings"),
    "no_servers": _("the file holds no mail settings"),
    "tls": _("its certificate could not be verified"),
    "redirect_refused": _("it redirected to an address that is not allowed"),
    "bad_response": _("its answer was not valid HTTP"),
}
_NOTE_TEXTS = {
    "autoconfig_refused": _(
        "{url} was not asked: {host} points to a private or reserved network address, which this service does not "
        "connect to."),
    "autoconfig_ignored": _("{url} was ignored: {reason}."),
    "plain_http": _(
        "These settings came over plain HTTP, which anyone on the way could have changed: check them with your "
        "provider."),
    "deadline": _("Not every look-up finished within {seconds} seconds; the best answer found by then is shown."),
    "probe_rate_limited": _(
        "Too many server tests were started recently, so the guessed servers were not tested. Try again later."),
    "probe_failed": _("None of the usual server names of {domain} answered a test."),
}


def note_from_code(code: str, **params: Any) -> Note:
    """A network note (cached as code and parameters) as a sentence in the reader's language."""
    if code == "dns_failed":
        message = _DNS_MESSAGES.get(params.get("status", ""), _DNS_MESSAGES["error"])
        return Note(code, format_lazy(message, domain=params.get("domain", ""), try_again=_TRY_AGAIN))
    if code == "autoconfig_ignored":
        reason = _REASONS.get(params.get("reason", ""), params.get("reason", ""))
        return Note(code, format_lazy(_NOTE_TEXTS[code], url=params.get("url", ""), reason=reason))
    text = _NOTE_TEXTS.get(code)
    if text is None:
        return Note(code, code)
    return Note(code, format_lazy(text, **{k: str(v) for k, v in params.items()}))


def protocol_unavailable(*, name: str, wanted: str) -> Note:
    labels = {ports.IMAP: "IMAP", ports.POP3: "POP3"}
    other = ports.POP3 if wanted == ports.IMAP else ports.IMAP
    code = f"{wanted}_unavailable"
    return Note(code, format_lazy(_PROTOCOL_UNAVAILABLE, name=name, wanted=labels[wanted], other=labels[other]))


def _source_notes(best: Candidate, *, domain: str, answer: NetworkAnswer | None) -> list[Note]:
    notes: list[Note] = []
    if best.flagged:
        server = best.incoming if not best.incoming.valid else best.outgoing
        assert server is not None
        described = f"{server.protocol.upper()} {server.host}:{server.port} {server.security}"
        notes.append(Note("settings_flagged", format_lazy(_FLAGGED, domain=domain, server=described)))
    if best.source == cands.GUESS:
        outgoing = best.outgoing.host if best.outgoing else ""
        notes.append(Note("guessed_settings", format_lazy(_GUESSED, incoming=best.incoming.host, outgoing=outgoing)))
    elif best.source in _SOURCE_TEXTS:
        mx = answer.mx[0] if answer and answer.mx else ""
        outgoing = best.outgoing.host if best.outgoing else ""
        notes.append(Note(f"source_{best.source.replace('-', '_')}", format_lazy(
            _SOURCE_TEXTS[best.source], domain=domain, mx=mx, incoming=best.incoming.host, outgoing=outgoing)))
    if any(e.get("scheme") == "http" for e in best.evidence):
        notes.append(note_from_code("plain_http"))
    return notes
