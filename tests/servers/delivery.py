"""An aiosmtpd submission server (implicit TLS, AUTH with the Dovecot users' passwords) that DELIVERS what it accepts
into the Dovecot mailboxes with `doveadm save`, like a provider's SMTP server in front of its IMAP store.

files_sent=True is "a provider that files sent copies" (Gmail, Microsoft 365...): each accepted message is also
saved into the sender's Sent folder. Used to measure none, one and two copies in Sent."""
from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from typing import Any

from aiosmtpd.smtp import Envelope, Session

from tests.servers.certs import CertBundle
from tests.servers.dovecot import DovecotServer, dovecot_binaries
from tests.servers.ports import LOOPBACK, free_port
from tests.servers.smtp import SmtpServer, _authenticator, _ImplicitTlsController


def doveadm_save(dovecot: DovecotServer, *, user: str, mailbox: str, data: bytes) -> None:
    _dovecot, doveadm = dovecot_binaries()
    subprocess.run([doveadm, "-c", str(dovecot.config), "save", "-u", user, "-m", mailbox], input=data,
                   capture_output=True, timeout=15, check=True)


def doveadm_count(dovecot: DovecotServer, *, user: str, mailbox: str, message_id: str) -> int:
    _dovecot, doveadm = dovecot_binaries()
    found = subprocess.run([doveadm, "-c", str(dovecot.config), "search", "-u", user, "mailbox", mailbox,
                            "header", "Message-ID", message_id], capture_output=True, timeout=15, check=True)
    return len(found.stdout.splitlines())


class _DeliveringHandler:
    def __init__(self, dovecot: DovecotServer, *, files_sent: bool, sink: list) -> None:
        self.dovecot, self.files_sent, self.sink = dovecot, files_sent, sink

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:  # noqa: N802
        data = bytes(envelope.original_content or b"")
        self.sink.append(data)
        for recipient in envelope.rcpt_tos:
            if recipient in self.dovecot.users:
                doveadm_save(self.dovecot, user=recipient, mailbox="INBOX", data=data)
        if self.files_sent and envelope.mail_from in self.dovecot.users:
            doveadm_save(self.dovecot, user=envelope.mail_from, mailbox="Sent", data=data)
        return "250 2.0.0 OK: delivered"


@contextlib.contextmanager
def running_delivering_smtp(*, certs: CertBundle, dovecot: DovecotServer,
                            files_sent: bool = False) -> Iterator[SmtpServer]:
    port = free_port()
    server = SmtpServer(host=LOOPBACK, port=port, tls_mode="implicit", ca_file=certs.ca_pem, users=dict(dovecot.users))
    controller = _ImplicitTlsController(
        _DeliveringHandler(dovecot, files_sent=files_sent, sink=server.messages),
        ssl_context=certs.localhost.server_context(), hostname=LOOPBACK, port=port, server_hostname="localhost",
        authenticator=_authenticator(server.users), auth_required=True, ready_timeout=10.0,
    )
    controller.start()
    try:
        yield server
    finally:
        controller.stop()
