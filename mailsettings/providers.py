"""Providers of our own table (mailsettings/provider_table.py): which one serves a domain, what a person must know
before connecting to it, and whether a configured server belongs to it. Pure: no network.

`provider_for_domain` is the one lookup of a domain in the table (the form, the warnings and the detection use
it); Thunderbird's ISPDB is read in mailsettings/ispdb.py and combined with this table in
mailsettings/discovery.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from mailsettings import ispdb
from mailsettings.hosts import HostError, normalize_host
from mailsettings.provider_table import (
    APP_PASSWORD_ALWAYS,
    APP_PASSWORD_WITH_2FA,
    IMAP,
    PROVIDERS,
    Provider,
)

_PROVIDERS_BY_ID = {p.id: p for p in PROVIDERS}
_PROVIDERS_BY_DOMAIN = {domain: p for p in PROVIDERS for domain in p.domains}


@dataclass(frozen=True)
class Note:
    code: str
    message: Any  # a lazy translation, rendered in the reader's language

    def to_dict(self) -> dict:
        return {"code": self.code, "message": self.message}


def provider_for_domain(domain: str) -> Provider | None:
    """The provider of our table that serves addresses at `domain` (ASCII, lower case), without any network.

    Our table names a provider's main domains; the bundled ISPDB often lists more for the same provider (Outlook.com's
    regional domains, Gmail's hosted ones). An ISPDB entry sharing a domain with a provider of ours is that provider.
    """
    if not domain:
        return None
    provider = _PROVIDERS_BY_DOMAIN.get(domain)
    if provider is None:
        config = ispdb.lookup(domain)
        provider = related_provider(config.domains) if config is not None else None
    return provider


def related_provider(domains: tuple[str, ...] | list[str]) -> Provider | None:
    """Our provider for an ISPDB entry listing `domains`, if it shares one with ours."""
    return next((_PROVIDERS_BY_DOMAIN[d] for d in domains if d in _PROVIDERS_BY_DOMAIN), None)


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
