"""Candidate settings for an address: what each source proposes, and the order they are offered in. Pure.

A candidate pairs an incoming server with an outgoing one and says where it came from (`source`), whether a server
answered it just now (`verified`), and why it is believed (`evidence`: plain data a machine can read). Candidates
keep their username templates until `resolved()` fills them in for one address, so a domain's answer can be cached
once and served to every address of the domain.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from mailsettings import ports
from mailsettings.domains import base_domain
from mailsettings.ispdb import ClientConfig, ConfigServer
from mailsettings.provider_table import Provider, ServerSettings

OVERLAY, ISPDB, AUTOCONFIG, WELL_KNOWN, SRV, MX, PROBE, GUESS = (
    "overlay", "ispdb", "autoconfig", "well-known", "srv", "mx", "probe", "guess")
SOURCES = (OVERLAY, ISPDB, AUTOCONFIG, WELL_KNOWN, SRV, MX, PROBE, GUESS)
NETWORK_SOURCES = frozenset({AUTOCONFIG, WELL_KNOWN, SRV, MX, PROBE})


@dataclass(frozen=True)
class Candidate:
    incoming: ConfigServer
    outgoing: ConfigServer | None
    source: str
    verified: bool = False
    evidence: tuple[dict, ...] = ()
    documentation_url: str | None = None
    name: str = ""  # the provider's display name, when the source gives one
    provider_id: str | None = None  # a provider of our table, whose notes apply

    @property
    def flagged(self) -> bool:
        return not self.incoming.valid or (self.outgoing is not None and not self.outgoing.valid)

    @property
    def oauth2_only(self) -> bool:
        servers = [s for s in (self.incoming, self.outgoing) if s is not None]
        return any(s.oauth2_only for s in servers)

    def resolved(self, *, local: str, domain: str) -> Candidate:
        if not local:
            return self  # a domain without an address (the domain-details tool): templates stay as published
        return replace(self, incoming=self.incoming.resolved(local=local, domain=domain),
                       outgoing=self.outgoing.resolved(local=local, domain=domain) if self.outgoing else None)

    def to_dict(self) -> dict[str, Any]:
        """One entry of the API's `candidates`."""
        body: dict[str, Any] = {
            "incoming": self.incoming.to_dict(),
            "outgoing": self.outgoing.to_dict() if self.outgoing else None,
            "source": self.source, "verified": self.verified, "evidence": [dict(e) for e in self.evidence],
            "oauth2_only": self.oauth2_only, "flagged": self.flagged,
        }
        if self.documentation_url:
            body["documentation_url"] = self.documentation_url
        return body

    def to_cache(self) -> dict[str, Any]:
        return {**self.to_dict(), "name": self.name, "provider_id": self.provider_id}

    @classmethod
    def from_cache(cls, data: dict[str, Any]) -> Candidate:
        outgoing = data.get("outgoing")
        return cls(incoming=ConfigServer.from_dict(data["incoming"]),
                   outgoing=ConfigServer.from_dict(outgoing) if outgoing else None, source=data["source"],
                   verified=bool(data.get("verified")), evidence=tuple(data.get("evidence", ())),
                   documentation_url=data.get("documentation_url"), name=data.get("name", ""),
                   provider_id=data.get("provider_id"))


def _server(protocol: str, settings: ServerSettings, *, authentication: tuple[str, ...] = ()) -> ConfigServer:
    return ConfigServer(protocol=protocol, host=settings.host, port=settings.port, security=settings.security,
                        authentication=authentication)


def from_provider(provider: Provider, *, source: str = OVERLAY, evidence: tuple[dict, ...] = ()) -> list[Candidate]:
    """A provider of our table: one candidate per incoming protocol it offers, IMAP first."""
    auth = ("OAuth2",) if provider.oauth_required else ("password-cleartext",)
    outgoing = _server(ports.SMTP, provider.smtp, authentication=auth) if provider.smtp else None
    evidence = evidence or ({"kind": "overlay", "provider": provider.id},)
    return [
        Candidate(incoming=_server(protocol, server, authentication=auth), outgoing=outgoing, source=source,
                  evidence=evidence, name=provider.name, provider_id=provider.id)
        for protocol, server in ((ports.IMAP, provider.imap), (ports.POP3, provider.pop3)) if server is not None
    ]


def from_config(config: ClientConfig, *, source: str, evidence: tuple[dict, ...],
                provider_id: str | None = None) -> list[Candidate]:
    """An ISPDB or autoconfig entry: each incoming server with the entry's default outgoing one, valid servers
    first (file order among them), so a flagged server is listed but never preferred."""
    outgoing = config.default_outgoing() or (config.outgoing[0] if config.outgoing else None)
    servers = sorted(config.incoming, key=lambda s: not s.valid)  # stable: keeps file order
    return [
        Candidate(incoming=server, outgoing=outgoing, source=source, evidence=evidence,
                  documentation_url=config.documentation_url, name=config.display_name, provider_id=provider_id)
        for server in servers
    ]


def guess(domain: str) -> list[Candidate]:
    """The last resort, untested: imap./pop. and smtp. under the address's domain."""
    outgoing = ConfigServer(protocol=ports.SMTP, host=f"smtp.{domain}", port=587, security=ports.STARTTLS)
    evidence = ({"kind": "guess", "rule": "host names from the domain"},)
    return [
        Candidate(incoming=ConfigServer(protocol=ports.IMAP, host=f"imap.{domain}", port=993, security=ports.SSL),
                  outgoing=outgoing, source=GUESS, evidence=evidence),
        Candidate(incoming=ConfigServer(protocol=ports.POP3, host=f"pop.{domain}", port=995, security=ports.SSL),
                  outgoing=outgoing, source=GUESS, evidence=evidence),
    ]


def _tier(candidate: Candidate) -> int:
    if candidate.source == GUESS:
        return 3
    if candidate.flagged:
        return 2  # contradicts the port rules: below anything a server confirmed
    return 1 if candidate.source == PROBE else 0


def ranked(candidates: list[Candidate], *, protocol: str) -> list[Candidate]:
    """Best first: published knowledge in lookup order (our overlay, ISPDB, autoconfig, well-known, SRV, MX), then
    servers that answered a probe, then entries flagged by validation, then the untested guess. Within a source the
    protocol asked for comes first. Identical proposals are merged (the better one keeps its place)."""
    order = sorted(enumerate(candidates), key=lambda item: (
        _tier(item[1]), SOURCES.index(item[1].source), item[1].incoming.protocol != protocol, item[0]))
    seen: dict[tuple, int] = {}
    out: list[Candidate] = []
    for _index, candidate in order:
        key = (candidate.incoming.protocol, candidate.incoming.host, candidate.incoming.port,
               candidate.incoming.security, candidate.outgoing.host if candidate.outgoing else None,
               candidate.outgoing.port if candidate.outgoing else None)
        if key in seen:
            kept = out[seen[key]]
            evidence = kept.evidence + tuple(e for e in candidate.evidence if e not in kept.evidence)
            out[seen[key]] = replace(kept, evidence=evidence, verified=kept.verified or candidate.verified)
            continue
        seen[key] = len(out)
        out.append(candidate)
    return out


def provider_of(candidate: Candidate, *, domain: str) -> Provider:
    """A provider made of a candidate the table does not know (ISPDB, autoconfig): its servers' base domains are
    the provider's, so a configured host elsewhere is a provider_mismatch, as for the providers of our table."""
    servers = [s for s in (candidate.incoming, candidate.outgoing) if s is not None]
    suffixes = tuple(dict.fromkeys(b for s in servers if (b := base_domain(s.host))))

    def settings(server: ConfigServer | None) -> ServerSettings | None:
        return ServerSettings(server.host, server.port, server.security) if server else None

    incoming = settings(candidate.incoming)
    return Provider(
        id=f"{candidate.source}:{domain}", name=candidate.name or domain,
        imap=incoming if candidate.incoming.protocol == ports.IMAP else None,
        pop3=incoming if candidate.incoming.protocol == ports.POP3 else None,
        smtp=settings(candidate.outgoing), host_suffixes=suffixes,
    )
