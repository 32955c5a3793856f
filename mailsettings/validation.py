"""The rules a mail account's fields must satisfy, shared by the API, the pages and the admin.

`mail_account_clean` turns submitted values into model values (normalized address and hosts, default username,
default ports) or raises InvalidInput with a sentence per field. Messages never quote a password.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables

from config.errors import InvalidInput
from mailsettings import ports
from mailsettings.addresses import AddressError, parse_address
from mailsettings.hosts import HostError, normalize_host
from mailsettings.models import AuthMethod, MailAccount
from mailsettings.vocabulary import INCOMING_PROTOCOLS, Protocol, Security

# Fields a person may set. Everything else (status, organization, timestamps) is the service's business.
EDITABLE_FIELDS = (
    "address",
    "protocol",
    "incoming_host",
    "incoming_port",
    "incoming_security",
    "incoming_username",
    "incoming_password",
    "smtp_host",
    "smtp_port",
    "smtp_security",
    "smtp_same_credentials",
    "smtp_username",
    "smtp_password",
    "save_sent_on_server",
)
# A change to any of these makes the last check's result stale: the account is "pending" again.
CONNECTION_FIELDS = frozenset(EDITABLE_FIELDS) - {"save_sent_on_server"}

MAX_USERNAME_LENGTH = 254
MAX_PASSWORD_LENGTH = 1024

_REQUIRED = _("This field is required.")


class _Errors:
    def __init__(self) -> None:
        self.fields: dict[str, list[Any]] = {}

    def add(self, name: str, message: Any) -> None:
        self.fields.setdefault(name, []).append(message)

    def raise_if_any(self) -> None:
        if self.fields:
            raise InvalidInput(fields=self.fields)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _clean_port(value: Any, errors: _Errors, name: str) -> int | None:
    # bool is an int in Python: True must not become port 1.
    if isinstance(value, bool) or not isinstance(value, int | str):
        errors.add(name, _("Enter a port number between 1 and 65535."))
        return None
    try:
        port = int(value)
    except ValueError:
        errors.add(name, _("Enter a port number between 1 and 65535."))
        return None
    if not 1 <= port <= 65535:
        errors.add(name, _("Enter a port number between 1 and 65535."))
        return None
    return port


def _clean_choice(value: Any, choices: list[str], errors: _Errors, name: str, message: Any) -> str | None:
    if not isinstance(value, str) or value.strip().lower() not in choices:
        errors.add(name, message)
        return None
    return value.strip().lower()


def _clean_bool(value: Any, errors: _Errors, name: str) -> bool | None:
    if not isinstance(value, bool):
        errors.add(name, _("Choose true or false."))
        return None
    return value


def _clean_username(value: Any, errors: _Errors, name: str) -> str | None:
    if value is None:
        return ""
    if not isinstance(value, str):
        errors.add(name, _("Enter the username as text."))
        return None
    value = value.strip()
    if len(value) > MAX_USERNAME_LENGTH:
        errors.add(name, _("The username is too long: at most 254 characters."))
        return None
    if any(ch in value for ch in "\r\n\0"):
        errors.add(name, _("A username cannot contain line breaks."))
        return None
    return value


@sensitive_variables("value")
def _clean_password(value: Any, errors: _Errors, name: str) -> str | None:
    # Passwords are kept exactly as typed (spaces included) and never quoted back.
    if not isinstance(value, str) or value == "":
        errors.add(name, _("Enter the password."))
        return None
    if len(value) > MAX_PASSWORD_LENGTH:
        errors.add(name, _("The password is too long: at most 1024 characters."))
        return None
    if any(ch in value for ch in "\r\n\0"):
        errors.add(name, _("A password cannot contain line breaks."))
        return None
    return value


_NO_PASSWORD = _("This account signs in with OAuth2 (Google, Microsoft or your provider's sign-in page): it has "
                 "no password. Sign in again instead.")


_AUTH_METHOD_FIXED = _(
    "The sign-in method is chosen by how the account is connected: to sign in with Google, Microsoft or your "
    "provider, start with POST /api/v1/mail-accounts/oauth/start/ (or the button on the Email settings page); to use "
    "a password instead, turn this account off and register it again."
)


_OAUTH_ADDRESS_FIXED = _(
    "This address is the one you signed in with. To connect another address, turn this account off and sign in "
    "with the other one."
)


def _refuse_passwords(data: dict[str, Any], errors: _Errors) -> None:
    """An OAuth2 binding carries tokens, never a password; and SMTP uses the same sign-in (XOAUTH2)."""
    for name in ("incoming_password", "smtp_password"):
        if name in data:
            errors.add(name, _NO_PASSWORD)
            data.pop(name)
    if data.get("smtp_same_credentials") is False:
        errors.add("smtp_same_credentials", _("An OAuth2 sign-in is used for sending too."))
    data.pop("smtp_same_credentials", None)
    data.pop("smtp_username", None)


@sensitive_variables("data", "cleaned", "password")
def mail_account_clean(
    *, data: Mapping[str, Any], account: MailAccount | None = None, auth_method: str | None = None
) -> dict[str, Any]:
    """Validate `data` for a new account (account=None) or a change of `account` (only the keys given).

    Returns model field values, `address_normalized` included when the address is given. Unknown keys are
    ignored. Raises InvalidInput with per-field sentences. An OAuth2 binding (`auth_method`, else the account's)
    has no password: password fields are refused, and sending uses the same sign-in.
    """
    creating = account is None
    oauth = (auth_method or (account.auth_method if account is not None else "")) == AuthMethod.OAUTH2
    raw_data = data
    data = {name: data[name] for name in EDITABLE_FIELDS if name in data}
    errors = _Errors()
    cleaned: dict[str, Any] = {}
    requested = raw_data.get("auth_method")
    if isinstance(requested, str):
        requested = requested.strip().lower()
    if requested not in (None, "", AuthMethod.OAUTH2 if oauth else AuthMethod.PASSWORD):
        errors.add("auth_method", _AUTH_METHOD_FIXED)
    if oauth:
        _refuse_passwords(data, errors)
        if account is not None and "address" in data and data["address"] != account.address:
            # The provider vouched for this address: another one needs its own sign-in.
            errors.add("address", _OAUTH_ADDRESS_FIXED)
            data.pop("address")

    def current(name: str) -> Any:
        if name in cleaned:
            return cleaned[name]
        return None if creating else getattr(account, name)

    if creating:
        for name in ("address", "incoming_host", "incoming_security", "incoming_password", "smtp_host",
                     "smtp_security"):
            if oauth and name == "incoming_password":
                continue
            if _blank(data.get(name)):
                errors.add(name, _REQUIRED)
                data.pop(name, None)

    if "address" in data:
        try:
            parsed = parse_address(data["address"])
        except AddressError as exc:
            errors.add("address", exc.message)
        else:
            cleaned["address"] = data["address"].strip()
            cleaned["address_normalized"] = parsed.normalized

    if "protocol" in data or creating:
        value = data.get("protocol", Protocol.IMAP)
        incoming = [p.value for p in INCOMING_PROTOCOLS]
        protocol = _clean_choice(value, incoming, errors, "protocol", _("Choose imap or pop3."))
        if protocol is not None:
            cleaned["protocol"] = protocol

    for name in ("incoming_host", "smtp_host"):
        if name in data:
            try:
                cleaned[name] = normalize_host(data[name])
            except HostError as exc:
                errors.add(name, exc.message)

    for name in ("incoming_security", "smtp_security"):
        if name in data:
            value = _clean_choice(data[name], Security.values, errors, name, _("Choose ssl, starttls or none."))
            if value is not None:
                cleaned[name] = value

    for name, security_name, protocol in (
        ("incoming_port", "incoming_security", None),
        ("smtp_port", "smtp_security", Protocol.SMTP),
    ):
        if data.get(name) is not None:
            port = _clean_port(data[name], errors, name)
            if port is not None:
                cleaned[name] = port
        elif creating:
            # No port given: the usual one for the protocol and security, as mail clients do.
            security = cleaned.get(security_name)
            server_protocol = protocol or cleaned.get("protocol")
            if security is not None and server_protocol is not None:
                cleaned[name] = ports.default_port(server_protocol, security)
            # else: the security or protocol field already carries the error to fix first

    for name in ("smtp_same_credentials", "save_sent_on_server"):
        if name in data:
            value = _clean_bool(data[name], errors, name)
            if value is not None:
                cleaned[name] = value
        elif creating:
            cleaned[name] = name == "smtp_same_credentials"

    if "incoming_username" in data or creating:
        username = _clean_username(data.get("incoming_username"), errors, "incoming_username")
        if username == "":
            # The address is the username at nearly every provider.
            username = current("address")
        if username is not None:
            cleaned["incoming_username"] = username

    if "incoming_password" in data:
        password = _clean_password(data["incoming_password"], errors, "incoming_password")
        if password is not None:
            cleaned["incoming_password"] = password

    same = current("smtp_same_credentials")
    if same is True:
        # The SMTP login is the incoming one: a separate secret left behind would be a secret nobody uses.
        if creating or (account is not None and not account.smtp_same_credentials):
            cleaned["smtp_username"] = ""
            cleaned["smtp_password"] = ""
    elif same is False:
        if "smtp_username" in data:
            username = _clean_username(data["smtp_username"], errors, "smtp_username")
            if username is not None:
                cleaned["smtp_username"] = username
        if not current("smtp_username") and "smtp_username" not in errors.fields:
            errors.add("smtp_username", _("Enter the username for the outgoing server, or use the same credentials."))
        if "smtp_password" in data:
            password = _clean_password(data["smtp_password"], errors, "smtp_password")
            if password is not None:
                cleaned["smtp_password"] = password
        elif creating or (account is not None and account.smtp_same_credentials):
            # A new login for sending comes with its password. A password removed later by the password rule
            # (mailsettings.password_rule) is for the owner to enter: other changes do not wait for it.
            errors.add("smtp_password", _("Enter the password for the outgoing server, or use the same credentials."))

    errors.raise_if_any()
    return cleaned


@sensitive_variables("value", "password")
def password_clean(*, value: Any, field: str = "password") -> str:
    """A new password, as typed, or InvalidInput on `field`."""
    errors = _Errors()
    password = _clean_password(value, errors, field)
    errors.raise_if_any()
    return password


def password_refuse_for_oauth(*, account: MailAccount, field: str = "password") -> None:
    """A password change of an OAuth2 binding is refused with the same sentence as the fields."""
    if account.auth_method == AuthMethod.OAUTH2:
        raise InvalidInput(fields={field: [_NO_PASSWORD]})
