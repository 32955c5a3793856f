"""Unusual but legal settings, reported with the account (`warnings: [{code, message}]`) and saved anyway:
diagnostics explain them when a connection fails. Pure: computed from the account's fields, no network."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from mailsettings import ports
from mailsettings.provider_table import PROVIDERS, Provider
from mailsettings.providers import host_belongs_to_provider, provider_for_domain
from mailsettings.vocabulary import Protocol, Security

# Inside a sentence "none" reads as "no encryption".
_SECURITY_LABELS = {**{s: s.label for s in Security}, Security.NONE: _("no encryption")}


@dataclass(frozen=True)
class SettingsWarning:
    code: str
    message: Any  # lazy: rendered in the reader's language

    def to_dict(self) -> dict:
        return {"code": self.code, "message": str(self.message)}


def server_warnings(*, side: Any, protocol: str, port: int, security: str) -> list[SettingsWarning]:
    found: list[SettingsWarning] = []
    label = Protocol(protocol).label
    securities = ports.standard_securities(protocol, port)
    if securities is not None:
        if security not in securities:
            expected = " / ".join(str(_SECURITY_LABELS[s]) for s in sorted(securities))
            found.append(SettingsWarning("port_security_mismatch", format_lazy(
                _("{side}: port {port} is normally used with {expected}, not {security}. Check the security setting."),
                side=side, port=port, expected=expected, security=_SECURITY_LABELS[security],
            )))
    else:
        others = [p for p in ports.protocols_of_port(port) if p != protocol]
        if others:
            found.append(SettingsWarning("port_of_other_protocol", format_lazy(
                _("{side}: port {port} is the usual {other} port, but this server is used for {protocol}."),
                side=side, port=port, other=others[0].label, protocol=label,
            )))
        else:
            found.append(SettingsWarning("nonstandard_port", format_lazy(
                _("{side}: port {port} is not a standard {protocol} port. It works only if your provider uses it."),
                side=side, port=port, protocol=label,
            )))
    if security == Security.NONE:
        found.append(SettingsWarning("no_encryption", format_lazy(
            _("{side}: the connection is not encrypted, so the password travels in clear text."), side=side,
        )))
    return found


def sent_copy_saver(*, domain_provider: Provider | None, smtp_host: str) -> Provider | None:
    """Who files a copy of each sent mail by itself (docs/scenarios.md T8): the provider whose SMTP server sends it,
    else the provider serving the address's domain. The form knows the domain from local knowledge only
    (provider_for_domain); diagnostics pass the provider their detection found. IP literals and "localhost" name no
    provider (the bridge's local address would otherwise make every loopback server "Proton")."""
    if smtp_host and any(ch.isalpha() for ch in smtp_host) and smtp_host != "localhost" and ":" not in smtp_host:
        for provider in PROVIDERS:
            if host_belongs_to_provider(provider, smtp_host):
                return provider
    return domain_provider


def settings_warnings(
    *,
    protocol: str,
    address_domain: str,
    incoming_port: int,
    incoming_security: str,
    smtp_host: str,
    smtp_port: int,
    smtp_security: str,
    save_sent_on_server: bool,
) -> list[SettingsWarning]:
    found = server_warnings(
        side=_("Incoming server"), protocol=protocol, port=incoming_port, security=incoming_security
    )
    found += server_warnings(side=_("Outgoing server"), protocol=Protocol.SMTP, port=smtp_port, security=smtp_security)
    if save_sent_on_server:
        provider = sent_copy_saver(domain_provider=provider_for_domain(address_domain), smtp_host=smtp_host)
        if provider is not None and provider.saves_sent_mail:
            # The provider files a copy itself (docs/scenarios.md, T8), so saving one more shows every sent mail twice.
            found.append(SettingsWarning("duplicate_sent_risk", format_lazy(
                _("{name} already saves a copy of sent mail in the Sent folder. With \"Save sent mail on the "
                  "server\" on, each sent message will appear twice."),
                name=provider.name,
            )))
    return found


def account_warnings(account) -> list[SettingsWarning]:
    """Warnings of a saved MailAccount."""
    domain = account.address_normalized.rsplit("@", 1)[-1]
    return settings_warnings(
        protocol=account.protocol,
        address_domain=domain,
        incoming_port=account.incoming_port,
        incoming_security=account.incoming_security,
        smtp_host=account.smtp_host,
        smtp_port=account.smtp_port,
        smtp_security=account.smtp_security,
        save_sent_on_server=account.save_sent_on_server,
    )
