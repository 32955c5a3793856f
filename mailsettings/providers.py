"""Which provider serves an address, and which servers it should use.

Order of evidence: the address's domain in the bundled table ("preset"), else the domain's MX hosts ("mx": a
custom domain on Google Workspace or Microsoft 365), else a guess from the domain name ("guess"). A DNS failure
is part of the answer (a note), never an exception: the person is filling in a form and still needs settings.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import dns.exception
import dns.name
import dns.rdatatype
import dns.resolver
from django.core.cache import cache
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from mailsettings.addresses import parse_address
from mailsettings.hosts import HostError, normalize_host
from mailsettings.provider_table import (
    APP_PASSWORD_ALWAYS,
    APP_PASSWORD_WITH_2FA,
    IMAP,
    POP3,
    PROTOCOLS,
    PROVIDERS,
    SSL,
    STARTTLS,
    Provider,
    ServerSettings,
)
from mailsettings.resolvers import resolver_from_settings

# MX answers live in Django's cache. A found MX set changes rarely; "no such domain" may be a typo fixed a
# minute later; a timeout or SERVFAIL is transient and is kept only long enough to stop hammering a sick server.
MX_CACHE_TTL = 600
MX_NEGATIVE_CACHE_TTL = 120
MX_TRANSIENT_CACHE_TTL = 15
_CACHE_PREFIX = "mailsettings:mx:v1:"

# MxResult.status values
MX_OK = "ok"
MX_NXDOMAIN = "nxdomain"
MX_NO_ANSWER = "no_answer"
MX_NULL = "null_mx"  # RFC 7505 "0 .": the domain says it receives no mail
MX_TIMEOUT = "timeout"
MX_SERVFAIL = "servfail"
MX_ERROR = "error"
MX_SKIPPED = "skipped"  # not looked up: the domain matched a preset
_TRANSIENT = {MX_TIMEOUT, MX_SERVFAIL, MX_ERROR}

SOURCE_PRESET = "preset"
SOURCE_MX = "mx"
SOURCE_GUESS = "guess"

_PROVIDERS_BY_ID = {p.id: p for p in PROVIDERS}
_PROVIDERS_BY_DOMAIN = {domain: p for p in PROVIDERS for domain in p.domains}


@dataclass(frozen=True)
class Note:
    code: str
    message: Any  # a lazy translation, rendered in the reader's language

    def to_dict(self) -> dict:
        return {"code": self.code, "message": self.message}


@dataclass(frozen=True)
class MxResult:
    domain: str
    status: str
    hosts: tuple[str, ...] = ()  # by preference, lower case, without the root dot


@dataclass(frozen=True)
class IncomingSettings:
    protocol: str
    host: str
    port: int
    security: str

    def to_dict(self) -> dict:
        return {"protocol": self.protocol, "host": self.host, "port": self.port, "security": self.security}


@dataclass
class Detection:
    domain: str
    provider: Provider | None
    mx: list[str]
    incoming: IncomingSettings
    outgoing: ServerSettings
    source: str
    notes: list[Note] = field(default_factory=list)
    mx_status: str = MX_SKIPPED  # not part of the public body; diagnostics may want it

    @property
    def note_codes(self) -> list[str]:
        return [note.code for note in self.notes]

    def to_dict(self) -> dict:
        """The body of GET /api/v1/providers/detect/; messages stay lazy (DRF renders them)."""
        return {
            "domain": self.domain,
            "provider": {"id": self.provider.id, "name": self.provider.name} if self.provider else None,
            "mx": list(self.mx),
            "incoming": self.incoming.to_dict(),
            "outgoing": self.outgoing.to_dict(),
            "source": self.source,
            "notes": [note.to_dict() for note in self.notes],
        }


# --- Detection ----------------------------------------------------------------------------------------------


def detect_provider(address: str, *, protocol: str = IMAP, resolver: dns.resolver.Resolver | None = None) -> Detection:
    """Suggest server settings for an address. Raises AddressError for an invalid address, nothing for DNS."""
    domain = parse_address(address).domain
    return detect_provider_for_domain(domain, protocol=protocol, resolver=resolver)


def detect_provider_for_domain(
    domain: str, *, protocol: str = IMAP, resolver: dns.resolver.Resolver | None = None
) -> Detection:
    """Same as detect_provider, for an already normalized (ASCII, lower-case) domain."""
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {PROTOCOLS}, not {protocol!r}")

    provider = _PROVIDERS_BY_DOMAIN.get(domain)
    if provider is not None:
        skipped = MxResult(domain, MX_SKIPPED)
        return _from_provider(domain, provider, protocol=protocol, source=SOURCE_PRESET, mx=skipped)

    mx = lookup_mx(domain, resolver=resolver)
    provider = provider_for_mx(mx.hosts)
    if provider is not None:
        return _from_provider(domain, provider, protocol=protocol, source=SOURCE_MX, mx=mx)
    return _guess(domain, protocol=protocol, mx=mx)


def _from_provider(domain: str, provider: Provider, *, protocol: str, source: str, mx: MxResult) -> Detection:
    notes: list[Note] = []
    server = provider.incoming(protocol)
    if server is None:
        message = _("{name} does not offer POP3; these settings are for IMAP.")
        notes.append(Note("pop3_unavailable", format_lazy(message, name=provider.name)))
        protocol, server = IMAP, provider.imap
    notes.extend(provider_notes(provider, protocol=protocol))
    return Detection(
        domain=domain,
        provider=provider,
        mx=list(mx.hosts),
        incoming=IncomingSettings(protocol, server.host, server.port, server.security),
        outgoing=provider.smtp,
        source=source,
        notes=notes,
        mx_status=mx.status,
    )


def _guess(domain: str, *, protocol: str, mx: MxResult) -> Detection:
    notes = []
    dns_note = _dns_note(mx)
    if dns_note is not None:
        notes.append(dns_note)
    if protocol == POP3:
        incoming = IncomingSettings(POP3, f"pop.{domain}", 995, SSL)
    else:
        incoming = IncomingSettings(IMAP, f"imap.{domain}", 993, SSL)
    outgoing = ServerSettings(f"smtp.{domain}", 587, STARTTLS)
    notes.append(
        Note(
            "guessed_settings",
            format_lazy(
                _(
                    "These settings are a guess from the domain name ({incoming} and {outgoing}). "
                    "Check them against your mail provider's instructions."
                ),
                incoming=incoming.host,
                outgoing=outgoing.host,
            ),
        )
    )
    return Detection(
        domain=domain,
        provider=None,
        mx=list(mx.hosts),
        incoming=incoming,
        outgoing=outgoing,
        source=SOURCE_GUESS,
        notes=notes,
        mx_status=mx.status,
    )


_BRIDGE_REQUIRED = _(
    "{name} works with IMAP and SMTP only through Proton Mail Bridge, an app on your own computer (paid plans). "
    "Bridge listens only on that computer and gives its own password, so a server on the internet cannot reach it."
)
_OAUTH_REQUIRED = _(
    "{name} no longer accepts passwords from other mail apps, not even app passwords: it requires Microsoft "
    "sign-in (modern authentication). A correct password will still be refused. Ask your administrator."
)
_APP_PASSWORD_WITH_2FA = _(
    "{name} needs an app password here, not your usual password: turn on two-step verification, then create "
    "an app password in your account's security settings."
)
_APP_PASSWORD_REQUIRED = _(
    "{name} needs an app password for other mail apps: create one in your account's security settings and "
    "enter it here instead of your usual password."
)
_ENABLE_ACCESS = _("Turn on {protocol} access in your {name} settings before connecting.")
_SAVES_SENT_MAIL = _(
    '{name} saves a copy of every message sent through its server in the Sent folder. Leave "Save sent mail '
    'on the server" off, or each sent message will appear twice.'
)


def provider_notes(provider: Provider, *, protocol: str = IMAP) -> list[Note]:
    """What a person must know before connecting to this provider (also used by the diagnosis)."""
    name = provider.name
    notes = []
    if provider.bridge_required:
        notes.append(Note("bridge_required", format_lazy(_BRIDGE_REQUIRED, name=name)))
    if provider.oauth_required:
        notes.append(Note("oauth_required", format_lazy(_OAUTH_REQUIRED, name=name)))
    if provider.app_password == APP_PASSWORD_WITH_2FA:
        notes.append(Note("app_password_with_2fa", format_lazy(_APP_PASSWORD_WITH_2FA, name=name)))
    elif provider.app_password == APP_PASSWORD_ALWAYS:
        notes.append(Note("app_password_required", format_lazy(_APP_PASSWORD_REQUIRED, name=name)))
    if protocol in provider.enable_access:
        label = "IMAP" if protocol == IMAP else "POP"
        notes.append(Note("enable_access", format_lazy(_ENABLE_ACCESS, protocol=label, name=name)))
    if provider.saves_sent_mail:
        notes.append(Note("saves_sent_mail", format_lazy(_SAVES_SENT_MAIL, name=name)))
    return notes


_TRY_AGAIN = _("Try again in a moment, or check the settings with your provider.")
_DNS_MESSAGES = {
    MX_NXDOMAIN: _('The domain {domain} does not exist. Check the part of the address after "@".'),
    MX_NO_ANSWER: _("The domain {domain} lists no mail servers (MX records), so its provider could not be found."),
    MX_NULL: _("The domain {domain} says that it does not receive mail. Check the address."),
    MX_TIMEOUT: _("Looking up the mail servers of {domain} took too long. {try_again}"),
    MX_SERVFAIL: _("The DNS servers could not say which mail servers {domain} uses. {try_again}"),
    MX_ERROR: _("The mail servers of {domain} could not be looked up. {try_again}"),
}


def _dns_note(mx: MxResult) -> Note | None:
    message = _DNS_MESSAGES.get(mx.status)
    if message is None:
        return None
    return Note("dns_failed", format_lazy(message, domain=mx.domain, try_again=_TRY_AGAIN))


# --- Matching hosts to providers --------------------------------------------------------------------------


def _under(host: str, suffix: str) -> bool:
    return host == suffix or host.endswith("." + suffix)


def provider_for_mx(mx_hosts: tuple[str, ...] | list[str]) -> Provider | None:
    """The provider behind the first MX host (by preference) that belongs to one; longest suffix wins."""
    for host in mx_hosts:
        best: tuple[int, Provider] | None = None
        for provider in PROVIDERS:
            for suffix in provider.mx_suffixes:
                if _under(host, suffix) and (best is None or len(suffix) > best[0]):
                    best = (len(suffix), provider)
        if best is not None:
            return best[1]
    return None


def get_provider(provider_id: str) -> Provider | None:
    return _PROVIDERS_BY_ID.get(provider_id)


def _as_provider(provider: Provider | str | None) -> Provider | None:
    return get_provider(provider) if isinstance(provider, str) else provider


def host_belongs_to_provider(provider: Provider | str | None, host: str) -> bool:
    """Whether a configured server name is one of the provider's (imap.gmail.com under gmail.com...)."""
    provider = _as_provider(provider)
    if provider is None:
        return False
    try:
        host = normalize_host(host)
    except HostError:
        return False
    return any(_under(host, suffix) for suffix in provider.host_suffixes)


def provider_for_hosts(provider: Provider | str | None, incoming_host: str, smtp_host: str) -> bool:
    """Whether both configured hosts belong to the detected provider (else: provider_mismatch).

    Returns True when there is no provider to compare with (a guessed domain has nothing to mismatch).
    """
    provider = _as_provider(provider)
    if provider is None:
        return True
    return not mismatched_hosts(provider, incoming_host=incoming_host, smtp_host=smtp_host)


def mismatched_hosts(provider: Provider | str | None, *, incoming_host: str, smtp_host: str) -> list[str]:
    """Which of "incoming" / "outgoing" point away from the provider; empty when both belong or no provider."""
    provider = _as_provider(provider)
    if provider is None:
        return []
    roles = (("incoming", incoming_host), ("outgoing", smtp_host))
    return [role for role, host in roles if not host_belongs_to_provider(provider, host)]


def provider_saves_sent_mail(provider: Provider | str | None) -> bool:
    """True when the provider's SMTP server files sent mail in Sent itself (duplicate_sent_risk)."""
    provider = _as_provider(provider)
    return bool(provider and provider.saves_sent_mail)


# --- MX lookups -------------------------------------------------------------------------------------------


def default_resolver() -> dns.resolver.Resolver:
    """The service's resolver (settings DNS_NAMESERVERS / DNS_TIMEOUT), built per lookup so settings apply."""
    return resolver_from_settings()


def _cache_key(domain: str) -> str:
    # Memcached-style backends refuse keys over 250 characters; a 253-character domain would be one.
    if len(domain) > 200:
        domain = hashlib.sha256(domain.encode()).hexdigest()
    return _CACHE_PREFIX + domain


def mx_cache_forget(domain: str) -> None:
    """Drop the cached MX answer for a domain (tests; an admin who just fixed DNS)."""
    cache.delete(_cache_key(domain))


def lookup_mx(domain: str, *, resolver: dns.resolver.Resolver | None = None) -> MxResult:
    """MX hosts of an ASCII domain, from the cache or DNS. Never raises for DNS trouble: see .status."""
    key = _cache_key(domain)
    cached = cache.get(key)
    if cached is not None:
        status, hosts = cached
        return MxResult(domain, status, tuple(hosts))
    result = _query_mx(domain, resolver or default_resolver())
    if result.status == MX_OK:
        ttl = MX_CACHE_TTL
    elif result.status in _TRANSIENT:
        ttl = MX_TRANSIENT_CACHE_TTL
    else:
        ttl = MX_NEGATIVE_CACHE_TTL
    cache.set(key, (result.status, list(result.hosts)), ttl)
    return result


def _query_mx(domain: str, resolver: dns.resolver.Resolver) -> MxResult:
    try:
        # Absolute name and no search list: "example" must never become "example.corp.internal".
        name = dns.name.from_text(domain, origin=dns.name.root)
        answer = resolver.resolve(name, dns.rdatatype.MX, search=False)
    except dns.resolver.NXDOMAIN:
        return MxResult(domain, MX_NXDOMAIN)
    except dns.resolver.NoAnswer:
        return MxResult(domain, MX_NO_ANSWER)
    except dns.exception.Timeout:  # includes LifetimeTimeout
        return MxResult(domain, MX_TIMEOUT)
    except dns.resolver.NoNameservers:  # every server answered SERVFAIL/REFUSED or was unusable
        return MxResult(domain, MX_SERVFAIL)
    except (dns.exception.DNSException, OSError):
        return MxResult(domain, MX_ERROR)

    records = sorted(answer, key=lambda r: (r.preference, r.exchange.to_text()))
    if len(records) == 1 and records[0].exchange == dns.name.root:
        return MxResult(domain, MX_NULL)
    hosts = [r.exchange.to_text(omit_final_dot=True).lower() for r in records if r.exchange != dns.name.root]
    return MxResult(domain, MX_OK, tuple(dict.fromkeys(hosts)))
