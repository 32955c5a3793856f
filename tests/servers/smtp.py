"""aiosmtpd submission servers on loopback: STARTTLS-required (587-style) and implicit TLS (465-style).

Both require AUTH. The known user logs in; any other password answers 535 5.7.8; the app-password user
(APP_PASSWORD_USER) is refused with 534 5.7.9 whatever the password, like Gmail without an app password.
"""

from __future__ import annotations

import contextlib
import hmac
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from tests.servers.certs import CertBundle, LeafCert
from tests.servers.ports import LOOPBACK, free_port

SMTP_USER = "alice@example.test"
APP_PASSWORD_USER = "apppw@example.test"
BAD_CREDENTIALS_REPLY = "535 5.7.8 Username and Password not accepted"
APP_PASSWORD_REPLY = "534 5.7.9 Application-specific password required"


@dataclass(frozen=True)
class ReceivedMessage:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes


@dataclass
class SmtpServer:
    host: str
    port: int
    tls_mode: Literal["starttls", "implicit"]
    ca_file: Path
    users: dict[str, str] = field(repr=False)  # address -> password that logs in
    app_password_user: str = APP_PASSWORD_USER
    messages: list[ReceivedMessage] = field(default_factory=list, repr=False)


class _AcceptingHandler:
    """Accepts every message and keeps it in memory; nothing is ever delivered."""

    def __init__(self, sink: list[ReceivedMessage]) -> None:
        self._sink = sink
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:  # noqa: N802 (aiosmtpd hook name)
        with self._lock:
            self._sink.append(
                ReceivedMessage(
                    mail_from=envelope.mail_from or "",
                    rcpt_tos=tuple(envelope.rcpt_tos),
                    data=bytes(envelope.original_content or b""),
                )
            )
        return "250 2.0.0 OK: queued (test server, not delivered)"


class _ImplicitTlsSMTP(SMTP):
    """Offers AUTH on an implicit-TLS port: aiosmtpd only counts STARTTLS as TLS.

    Setting the flag after __init__ skips aiosmtpd's per-connection UserWarning, which a
    `filterwarnings = error` pytest setting would turn into a server error inside the SMTP thread.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._auth_require_tls = False


class _ImplicitTlsController(Controller):
    def factory(self) -> SMTP:
        return _ImplicitTlsSMTP(self.handler, **self.SMTP_kwargs)


def _authenticator(users: dict[str, str]):
    def authenticate(server: Any, session: Session, envelope: Envelope, mechanism: str, auth_data: Any) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False, message=BAD_CREDENTIALS_REPLY)
        login = auth_data.login.decode("utf-8", "replace")
        password = auth_data.password.decode("utf-8", "replace")
        if login == APP_PASSWORD_USER:
            return AuthResult(success=False, handled=False, message=APP_PASSWORD_REPLY)
        expected = users.get(login)
        if expected is not None and hmac.compare_digest(expected.encode(), password.encode()):
            return AuthResult(success=True)
        return AuthResult(success=False, handled=False, message=BAD_CREDENTIALS_REPLY)

    return authenticate


@contextlib.contextmanager
def running_smtp(
    *, certs: CertBundle, tls_mode: Literal["starttls", "implicit"], users: dict[str, str] | None = None,
    host: str = LOOPBACK, port: int | None = None, leaf: LeafCert | None = None,
) -> Iterator[SmtpServer]:
    """Start an authenticating aiosmtpd server on a free loopback port (or `host`:`port`, certificate `leaf`);
    stop it on exit."""
    users = users or {SMTP_USER: f"smtp-{secrets.token_urlsafe(9)}"}
    port = port or free_port()
    server = SmtpServer(host=host, port=port, tls_mode=tls_mode, ca_file=certs.ca_pem, users=dict(users))
    tls_context = (leaf or certs.localhost).server_context()
    common: dict[str, Any] = {
        "hostname": host,
        "port": port,
        "server_hostname": "localhost",
        "authenticator": _authenticator(server.users),
        "auth_required": True,
        "ready_timeout": 10.0,
    }
    if tls_mode == "starttls":
        controller = Controller(
            _AcceptingHandler(server.messages), tls_context=tls_context, require_starttls=True, **common
        )
    else:
        controller = _ImplicitTlsController(_AcceptingHandler(server.messages), ssl_context=tls_context, **common)
    controller.start()
    try:
        yield server
    finally:
        controller.stop()
