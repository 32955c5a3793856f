"""Server host names as people type them: validated and reduced to one ASCII form.

`normalize_host("IMAP.Example.COM ")` → "imap.example.com"; `normalize_host("メール.例え.jp")` → its
xn-- form; IP literals ("192.0.2.1", "::1", "[2001:db8::1]") come back compressed. Whether a host may be
connected to (private ranges, loopback) is the probes' policy, not a syntax question: not checked here.
"""

from __future__ import annotations

import ipaddress
import re

# IDNA 2008 with the UTS #46 mapping (what browsers and mail clients use), not the standard library's IDNA 2003
# codec, which maps a few characters such as "ß" differently.
import idna
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

MAX_HOST_LENGTH = 253
MAX_LABEL_LENGTH = 63

_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_LDH_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")


class HostError(ValueError):
    """A server name that cannot be used; `.message` is a sentence for the person who typed it."""

    code = "invalid"

    def __init__(self, message, *, code: str = "invalid") -> None:
        self.message = message
        self.code = code
        super().__init__(str(code))

    def __str__(self) -> str:
        return str(self.message)


def normalize_host(value: str) -> str:
    """Return the ASCII, lower-case form of a server name or IP literal, or raise HostError."""
    if not isinstance(value, str):
        raise HostError(_("Enter the server name as text, for example imap.example.com."))
    host = value.strip()
    if not host:
        raise HostError(_("Enter the server name, for example imap.example.com."))
    if _SCHEME.match(host):
        scheme = host.split("://", 1)[0]
        raise HostError(
            format_lazy(
                _('Enter only the server name, without "{scheme}://": for example imap.example.com.'),
                scheme=scheme,
            )
        )
    if any(ch.isspace() for ch in host):
        raise HostError(_("A server name cannot contain spaces. Check for a typing mistake."))
    if "/" in host or "@" in host:
        raise HostError(_("Enter only the server name (like imap.example.com), not an address, a path or a link."))

    literal = _ip_literal(host)
    if literal is not None:
        return literal
    if ":" in host:
        # "imap.example.com:993": the port has its own field and a second copy would disagree with it.
        raise HostError(_("Enter the port in the port field, not after the server name."))

    if host.endswith(".") and not host.endswith(".."):
        host = host[:-1]  # the root dot of a fully qualified name ("example.com.") names the same host
    ascii_host = _to_ascii(host)
    if len(ascii_host) > MAX_HOST_LENGTH:
        raise HostError(
            format_lazy(_("This server name is too long: at most {limit} characters."), limit=MAX_HOST_LENGTH)
        )
    labels = ascii_host.split(".")
    for label in labels:
        _check_label(label)
    if labels[-1].isdigit():
        # "300.1.1.1" or "10.0.0" looks like an IP address but is not one; no top-level domain is numeric.
        raise HostError(_("This is not a valid IP address. Check the numbers, or enter a server name."))
    return ascii_host


def _ip_literal(host: str) -> str | None:
    candidate = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        address = ipaddress.ip_address(candidate)
    except ValueError:
        if host.startswith("["):
            raise HostError(_("The address in brackets is not a valid IPv6 address.")) from None
        return None
    return address.compressed


def _to_ascii(host: str) -> str:
    if host.isascii():
        return host.lower()
    try:
        # UTS #46 mapping first: full-width letters and the ideographic full stop "。" become ASCII.
        host = idna.uts46_remap(host, std3_rules=False, transitional=False)
    except idna.IDNAError as exc:
        raise _bad_characters() from exc
    return ".".join(_label_to_ascii(label) for label in host.split("."))


def _label_to_ascii(label: str) -> str:
    if label.isascii():
        return label.lower()
    try:
        return idna.alabel(label).decode("ascii")
    except (UnicodeError, ValueError) as exc:  # idna.IDNAError subclasses UnicodeError
        if "too long" in str(exc).lower():
            raise _label_too_long() from exc
        raise _bad_characters() from exc


def _bad_characters() -> HostError:
    return HostError(_("This server name contains characters that are not allowed in a domain name."))


def _label_too_long() -> HostError:
    return HostError(
        format_lazy(
            _("Each part of a server name between dots can have at most {limit} characters."),
            limit=MAX_LABEL_LENGTH,
        )
    )


def _check_label(label: str) -> None:
    if not label:
        raise HostError(_("A server name cannot have empty parts: check for two dots in a row or a leading dot."))
    if len(label) > MAX_LABEL_LENGTH:
        raise _label_too_long()
    if not _LDH_LABEL.match(label):
        raise HostError(
            _(
                "A server name can contain only letters, digits, hyphens and dots, "
                "and a part cannot start or end with a hyphen."
            )
        )
    if label.startswith("xn--"):
        # An xn-- label typed by hand must decode, or the server name can never resolve.
        try:
            idna.decode(label)
        except (UnicodeError, ValueError) as exc:
            raise HostError(_("This server name has an xn-- part that is not a valid international name.")) from exc
