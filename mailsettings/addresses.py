"""Mail addresses reduced to the one form the service compares and stores.

Trimmed, lower-cased, the domain in its ASCII (xn--) form, so "Alice@Example.COM " and "alice@example.com"
are the same binding. Plus-addressing is kept: alice+crm@ is a different mailbox from alice@ at most
providers, and guessing otherwise would refuse a real second address. Syntax only: no DNS at request time.

Which spellings are deliberately the same binding (and nothing else is):
- upper and lower case of one letter (str.lower: "A"/"a", "Ä"/"ä", "Σ"/"σ"), in the local part and the domain;
- canonically equivalent sequences (NFC: "é" typed as one character or as "e" + a combining accent);
- in the domain only, what IDNA 2008 with the UTS #46 mapping maps together (full-width letters, case), since
  the domain is compared in its xn-- form; "ß" in a domain stays "ß" (transitional mapping off).
Letters that are distinct in a mailbox name stay apart: "ß" is not "ss" and "ς" is not "σ" (str.casefold would
merge them, and two people's mailboxes would collide with 409), ligatures such as "ﬁ" are not "fi".
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from email_validator import EmailNotValidError, validate_email


class AddressError(ValueError):
    """An address that cannot be used; `.message` is a sentence for the person who typed it.

    `.detail` keeps email-validator's English reason for logs; it is never shown to users.
    """

    def __init__(self, message, *, code: str = "invalid", detail: str = "") -> None:
        self.message = message
        self.code = code
        self.detail = detail
        super().__init__(str(code))

    def __str__(self) -> str:
        return str(self.message)


@dataclass(frozen=True)
class Address:
    """A normalized address: `local` is lower-cased NFC Unicode, `domain` is ASCII (xn-- for IDN)."""

    local: str
    domain: str

    @property
    def normalized(self) -> str:
        return f"{self.local}@{self.domain}"

    def __str__(self) -> str:
        return self.normalized


def parse_address(value: str, *, allow_test_domains: bool | None = None) -> Address:
    """Validate an address and return its normalized parts, or raise AddressError.

    `allow_test_domains` admits special-use names such as `.test` (used by the test servers); by default it
    follows the `MAILSETTINGS_ALLOW_TEST_DOMAINS` setting, False unless set.
    """
    if not isinstance(value, str):
        raise AddressError(_("Enter an email address, like name@example.com."))
    text = value.strip()
    _precheck(text)
    if allow_test_domains is None:
        allow_test_domains = bool(getattr(settings, "MAILSETTINGS_ALLOW_TEST_DOMAINS", False))
    try:
        checked = validate_email(
            text,
            check_deliverability=False,  # no DNS at request time; the diagnosis looks at MX later
            allow_smtputf8=True,
            allow_quoted_local=False,
            allow_domain_literal=False,
            allow_display_name=False,
            test_environment=allow_test_domains,
            strict=True,  # enforces the 64-character limit before the @
        )
    except EmailNotValidError as exc:
        raise _explain(str(exc)) from exc
    local = fold_local_part(checked.local_part)
    return Address(local=local, domain=checked.ascii_domain.lower())


def fold_local_part(local: str) -> str:
    """NFC, then lower() (not casefold(): see the module's note), then NFC again: lowering can leave a
    sequence that composes differently ("İ" becomes "i" + a combining dot)."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", local).lower())


def normalize_address(value: str, *, allow_test_domains: bool | None = None) -> str:
    """The normalized address as one string, e.g. "alice@example.com" or "ユーザー@xn--r8jz45g.jp"."""
    return parse_address(value, allow_test_domains=allow_test_domains).normalized


def _precheck(text: str) -> None:
    # The usual mistakes get a sentence that says what to fix; email-validator's own reasons are English only.
    if not text:
        raise AddressError(_("Enter an email address, like name@example.com."))
    if "<" in text or ">" in text:
        raise AddressError(_('Enter only the address itself, like name@example.com, without a name or "<" and ">".'))
    if any(ch.isspace() for ch in text):
        raise AddressError(_("An email address cannot contain spaces. Check for a typing mistake."))
    if "@" not in text:
        raise AddressError(_('An email address needs an "@" between the name and the domain, like name@example.com.'))
    if text.count("@") > 1:
        raise AddressError(_('An email address has exactly one "@". Check for a typing mistake.'))
    local, domain = text.rsplit("@", 1)
    if not local:
        raise AddressError(_('Enter the part before the "@", like name@example.com.'))
    if not domain:
        raise AddressError(_('Enter the domain after the "@", like name@example.com.'))


# email-validator's reason (English, not a stable API) → our sentence; first match wins, so order matters.
_REASONS = (
    ("special-use or reserved", _("This domain is reserved and cannot receive mail. Check the domain.")),
    ("should have a period", _('The domain after "@" is incomplete; it looks like example.com. Check it.')),
    ("two periods in a row", _("An email address cannot have two dots in a row. Check for a typo.")),
    ("period immediately before", _('The part before the "@" cannot end with a dot. Remove the dot.')),
    ("start with a period", _("An email address cannot start with a dot. Remove the dot.")),
    ("end with a period", _("An email address cannot end with a dot. Remove the dot after the domain.")),
    ("too long before the @", _('The part before the "@" is too long: at most 64 characters.')),
    ("too long", _("This email address is too long. Check it for a typing mistake.")),
    ("after the @-sign", _('The domain after the "@" is not valid. Check it for a typing mistake.')),
    ("before the @-sign", _('The part before the "@" contains characters that are not allowed. Check it.')),
)


def _explain(reason: str) -> AddressError:
    lowered = reason.lower()
    for needle, message in _REASONS:
        if needle in lowered:
            return AddressError(message, detail=reason)
    return AddressError(_("This is not a valid email address. Check it for a typing mistake."), detail=reason)
