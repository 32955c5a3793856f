"""Plain-data results of the probes: codes, one step's outcome, the error a probe raises internally.

Nothing here touches the network or the database; every value is JSON-serializable through `to_dict()`. The
protocols and securities are mail settings' own words (mailsettings.vocabulary), the step names are here.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mailsettings.vocabulary import Protocol, Security


class Code(enum.StrEnum):
    """Every outcome a diagnostic step can have. The values are the API's stable codes."""

    OK = "ok"
    DNS_NOT_FOUND = "dns_not_found"
    PORT_CLOSED = "port_closed"
    PORT_FILTERED = "port_filtered"
    WRONG_PROTOCOL = "wrong_protocol"
    TLS_HANDSHAKE_FAILED = "tls_handshake_failed"
    TLS_CERTIFICATE_INVALID = "tls_certificate_invalid"
    STARTTLS_UNAVAILABLE = "starttls_unavailable"
    PLAINTEXT_LOGIN_REFUSED = "plaintext_login_refused"
    AUTH_INVALID_CREDENTIALS = "auth_invalid_credentials"
    AUTH_APP_PASSWORD_REQUIRED = "auth_app_password_required"  # noqa: S105 - a code, not a password
    AUTH_WEB_LOGIN_REQUIRED = "auth_web_login_required"
    AUTH_BASIC_AUTH_DISABLED = "auth_basic_auth_disabled"
    DISCONNECTED_DURING_AUTH = "disconnected_during_auth"
    SMTP_AUTH_FAILED = "smtp_auth_failed"
    FOLDER_MISSING = "folder_missing"
    DUPLICATE_SENT_RISK = "duplicate_sent_risk"
    PROVIDER_MISMATCH = "provider_mismatch"
    PORT_PROTOCOL_MISMATCH = "port_protocol_mismatch"
    SERVER_BUSY = "server_busy"
    TIMEOUT = "timeout"
    TARGET_NOT_ALLOWED = "target_not_allowed"
    # Configured STARTTLS or no encryption on a port that speaks TLS from the first byte.
    IMPLICIT_TLS_EXPECTED = "implicit_tls_expected"
    # The server sent a text it wants the person to read (IMAP [ALERT]): shown, never a failure by itself.
    SERVER_ALERT = "server_alert"
    # OAuth2 bindings (XOAUTH2 / OAUTHBEARER)
    OAUTH_TOKEN_INVALID = "oauth_token_invalid"  # noqa: S105 - a code, not a token
    OAUTH_SCOPE_MISSING = "oauth_scope_missing"
    OAUTH_NOT_OFFERED = "oauth_not_offered"
    REAUTH_REQUIRED = "reauth_required"
    # Mailbox access (IMAP or POP) turned off by the person (webmail settings) or by the domain's administrator.
    PROTOCOL_DISABLED = "protocol_disabled"
    PROTOCOL_DISABLED_BY_ADMIN = "protocol_disabled_by_admin"
    TLS_CERTIFICATE_EXPIRING = "tls_certificate_expiring"
    MAIL_RECORDS_PROBLEM = "mail_records_problem"
    # Outcomes of "Send a test message" (sent-copy measurement).
    SENT_COPY_MISSING = "sent_copy_missing"
    SENT_COPY_DUPLICATED = "sent_copy_duplicated"
    SEND_FAILED = "send_failed"
    # Not a server's answer: the stored password was cleared when the account moved to another server, so the
    # sign-in waits for its owner (mailsettings.password_rule).
    PASSWORD_NEEDED = "password_needed"  # noqa: S105 - a code, not a password


# Codes that are advisory: the step is recorded as a warning and the run goes on.
WARNING_CODES = frozenset({
    Code.PORT_PROTOCOL_MISMATCH, Code.DUPLICATE_SENT_RISK, Code.PROVIDER_MISMATCH, Code.SERVER_ALERT,
    Code.TLS_CERTIFICATE_EXPIRING, Code.MAIL_RECORDS_PROBLEM, Code.SENT_COPY_MISSING, Code.SENT_COPY_DUPLICATED,
})


class Step(enum.StrEnum):
    """Step names, in the order a run walks them."""

    SETTINGS = "settings"
    DOMAIN = "domain"
    DNS = "dns"
    PORT = "port"
    TLS = "tls"
    GREETING = "greeting"
    LOGIN = "login"
    FOLDERS = "folders"
    SMTP_AUTH = "smtp_auth"
    DUPLICATES = "duplicates"
    # "Send a test message": sent through SMTP, copies counted in Sent, test messages deleted.
    SEND = "send"
    SENT_FOLDER = "sent_folder"
    CLEANUP = "cleanup"


@dataclass(frozen=True)
class Verdict:
    """What a classifier decided about a server answer."""

    code: Code
    transient: bool = False
    reason: str = ""  # a short machine word that says which variant (e.g. "expired", "sys_temp")


class ProbeError(Exception):
    """A probe stopped with a code. The message never holds a secret: it is the code and a reason word."""

    def __init__(self, code: Code, *, transient: bool = False, reason: str = "", details: dict | None = None):
        self.code = Code(code)
        self.transient = transient
        self.reason = reason
        self.details = dict(details or {})
        super().__init__(f"{self.code}: {reason}" if reason else str(self.code))


@dataclass
class StepResult:
    """One step's outcome. `details` holds facts (host, ip, port, capabilities, certificate, counts,
    the redacted raw server line); `transcript` the redacted exchange; messages come from `advice`."""

    step: Step
    code: Code = Code.OK
    transient: bool = False
    details: dict[str, Any] = field(default_factory=dict)
    transcript: list[str] = field(default_factory=list)
    duration_ms: int = 0

    @property
    def ok(self) -> bool:
        return self.code == Code.OK

    @property
    def is_warning(self) -> bool:
        return self.code in WARNING_CODES

    def to_dict(self) -> dict[str, Any]:
        return {
            "step": str(self.step),
            "code": str(self.code),
            "transient": self.transient,
            "details": plain(self.details),
            "transcript": list(self.transcript),
            "duration_ms": self.duration_ms,
        }


@dataclass
class SessionResult:
    """The steps one protocol session went through, in order. It stops at the first failing step."""

    protocol: Protocol
    host: str
    port: int
    security: Security
    steps: list[StepResult] = field(default_factory=list)

    def step(self, name: Step | str) -> StepResult | None:
        return next((s for s in self.steps if s.step == name), None)

    @property
    def failed(self) -> StepResult | None:
        return next((s for s in self.steps if not s.ok and not s.is_warning), None)

    @property
    def code(self) -> Code:
        failed = self.failed
        return failed.code if failed else Code.OK

    def to_dict(self) -> dict[str, Any]:
        return {
            "protocol": str(self.protocol),
            "host": self.host,
            "port": self.port,
            "security": str(self.security),
            "code": str(self.code),
            "steps": [s.to_dict() for s in self.steps],
        }


def plain(value: Any) -> Any:
    """A JSON-safe copy: enums to their values, mappings to dicts with text keys, tuples/sets to lists,
    anything else that is not a JSON scalar (a lazy translation string, for one) to its text."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
