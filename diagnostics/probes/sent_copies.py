"""Measuring sent-mail copies: send one tagged message through the account's SMTP server, count the copies with its
Message-ID in the Sent folder over IMAP for a bounded time, then delete the test messages again.

The only probes that change a mailbox, and only when a person asks ("Send a test message"): never in the periodic
re-check. The password goes to the account's own SMTP and IMAP servers only, as in every other session.
"""
from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from diagnostics.classify import find_inbox, find_sent
from diagnostics.probes import imap, smtp
from diagnostics.probes.imap import ImapClient, quote
from diagnostics.probes.net import ProbeOptions, SessionRecorder
from diagnostics.probes.session import walk_session
from diagnostics.probes.smtp import SmtpClient
from diagnostics.results import Code, ProbeError, SessionResult, Step, StepResult
from diagnostics.sent_test_message import TestMessage
from mailsettings.vocabulary import Security

POLL_SECONDS = 1.0
INBOX_WAIT_SECONDS = 5.0  # extra time for the copy delivered to the inbox, after the Sent count


# --- sending ---------------------------------------------------------------------------------------------------

def _dot_stuffed(data: bytes) -> bytes:
    """RFC 5321 4.5.2: a line starting with "." gets one more; the data ends with CRLF . CRLF."""
    body = re.sub(rb"(?m)^\.", b"..", data)
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    return body + b".\r\n"


def _send_step(rec: SessionRecorder, client: SmtpClient, *, message: TestMessage, sender: str) -> None:
    with rec.step(Step.SEND, on_closed=(Code.SEND_FAILED, False, "closed_during_send")) as step:
        step.details.update(message_id=message.message_id, size=len(message.data))
        for command, expected, reason in ((f"MAIL FROM:<{sender}>", "250", "sender_refused"),
                                          (f"RCPT TO:<{sender}>", "250", "recipient_refused"),
                                          ("DATA", "354", "data_refused")):
            reply = client.command(command)
            if not reply[-1].startswith(expected[:1]) or not reply[-1].startswith(expected):
                raise ProbeError(Code.SEND_FAILED, transient=reply[-1].startswith("4"), reason=reason,
                                 details={"server_line": rec.channel.transcript.masked("\n".join(reply))})
        client.channel.send(_dot_stuffed(message.data), shown=f"(the test message, {len(message.data)} bytes)")
        reply = client.read_reply()
        step.details["server_line"] = rec.channel.transcript.masked("\n".join(reply))
        if not reply[-1].startswith("250"):
            raise ProbeError(Code.SEND_FAILED, transient=reply[-1].startswith("4"), reason="message_refused")


def send_session(*, host: str, port: int, security: Security | str, username: str, password: str,
                 options: ProbeOptions, message: TestMessage, sender: str,
                 on_step: Callable[[StepResult], None] | None = None) -> SessionResult:
    """dns, port, tls, greeting, smtp_auth, send."""
    steps = [
        lambda rec, client: smtp._auth_step(rec, client, username=username, password=password),
        lambda rec, client: _send_step(rec, client, message=message, sender=sender),
    ]
    return walk_session(smtp.SMTP_STEPS, host=host, port=port, security=security, username=username,
                        password=password, options=options, on_step=on_step, credential_steps=steps)


# --- counting and cleaning up -----------------------------------------------------------------------------------

@dataclass
class _Found:
    folders: dict[str, str] = field(default_factory=dict)  # "sent" / "inbox" -> raw mailbox name


def _search(client: ImapClient, message_id: str) -> list[int]:
    response = client.command(f"UID SEARCH HEADER Message-ID {quote(message_id)}")
    uids: list[int] = []
    for line in response.untagged:
        if line.upper().startswith("* SEARCH"):
            uids += [int(n) for n in line.split()[2:] if n.isdigit()]
    return uids


def _append(client: ImapClient, raw_name: str, data: bytes) -> bool:
    """APPEND as a mail program with "save sent mail on the server" does (synchronizing literal)."""
    tag = client._next_tag()
    client.channel.send(f"{tag} APPEND {quote(raw_name)} (\\Seen) {{{len(data)}}}\r\n".encode(),
                        shown=f"{tag} APPEND {quote(raw_name)} (\\Seen) {{{len(data)}}}")
    refused = client._wait_continuation(tag)
    if refused is not None:
        return False
    client.channel.send(data + b"\r\n", shown=f"(the test message, {len(data)} bytes)")
    return client._read_until_tagged(tag).ok


def _wait(seconds: float, options: ProbeOptions) -> None:
    if options.deadline is not None:
        seconds = min(seconds, options.deadline - time.monotonic())
    if seconds > 0:
        time.sleep(seconds)


def _count_step(rec: SessionRecorder, client: ImapClient, *, message: TestMessage, append: bool, wait: float,
                found: _Found) -> None:
    with rec.step(Step.SENT_FOLDER, timeout=wait + 15) as step:
        mailboxes = client.list_mailboxes()
        sent, _how = find_sent(mailboxes)
        inbox = find_inbox(mailboxes)
        if inbox is not None:
            found.folders["inbox"] = inbox.raw_name
        if sent is None:
            # Nothing to count, but the copy delivered to the inbox is still ours to delete.
            cleaned = (_delete(client, inbox.raw_name, message.message_id, wait=INBOX_WAIT_SECONDS,
                               options=rec.options) if inbox is not None else None)
            raise ProbeError(Code.FOLDER_MISSING, reason="sent", details={"missing": ["sent"], "inbox": cleaned})
        found.folders["sent"] = sent.raw_name
        step.details.update(folder=sent.name, save_sent_on_server=append, message_id=message.message_id)
        if append:
            step.details["appended"] = _append(client, sent.raw_name, message.data)
        expected = 1 + int(bool(step.details.get("appended")))
        if not client.command(f"SELECT {quote(sent.raw_name)}").ok:
            raise ProbeError(Code.FOLDER_MISSING, reason="sent_not_selectable")
        started = time.monotonic()
        while True:
            copies = _search(client, message.message_id)
            # Two copies settle it; otherwise the provider may still be filing its copy: look again until `wait`.
            if len(copies) >= max(expected, 2) or time.monotonic() - started >= wait:
                break
            _wait(POLL_SECONDS, rec.options)
            client.command("NOOP")
        step.details.update(copies=len(copies), waited_ms=int((time.monotonic() - started) * 1000))
        if not copies:
            step.code = Code.SENT_COPY_MISSING
        elif len(copies) >= 2:
            step.code = Code.SENT_COPY_DUPLICATED


def _delete(client: ImapClient, raw_name: str, message_id: str, *, wait: float, options: ProbeOptions) -> dict:
    if not client.command(f"SELECT {quote(raw_name)}").ok:
        return {"deleted": 0, "left": None}
    started = time.monotonic()
    while not (uids := _search(client, message_id)) and time.monotonic() - started < wait:
        _wait(POLL_SECONDS, options)
        client.command("NOOP")
    if not uids:
        return {"deleted": 0, "left": 0}
    uid_set = ",".join(str(u) for u in uids)
    client.command(f"UID STORE {uid_set} +FLAGS.SILENT (\\Deleted)")
    if "UIDPLUS" in client.capabilities:
        # Only our own messages are expunged: a plain EXPUNGE would also remove what the person marked deleted.
        client.command(f"UID EXPUNGE {uid_set}")
        left = len(_search(client, message_id))
        return {"deleted": len(uids) - left, "left": left}
    return {"deleted": 0, "left": len(uids), "flagged_deleted": len(uids)}


def _cleanup_step(rec: SessionRecorder, client: ImapClient, *, message: TestMessage, found: _Found) -> None:
    with rec.step(Step.CLEANUP) as step:
        for label, raw_name in found.folders.items():
            wait = 0.0 if label == "sent" else INBOX_WAIT_SECONDS
            step.details[label] = _delete(client, raw_name, message.message_id, wait=wait, options=rec.options)


def copies_session(*, host: str, port: int, security: Security | str, username: str, password: str,
                   options: ProbeOptions, message: TestMessage, append: bool, wait: float,
                   on_step: Callable[[StepResult], None] | None = None) -> SessionResult:
    """dns, port, tls, greeting, login, sent_folder (copies counted), cleanup (test messages deleted)."""
    found = _Found()
    steps = [
        lambda rec, client: imap._login_step(rec, client, username=username, password=password),
        lambda rec, client: _count_step(rec, client, message=message, append=append, wait=wait, found=found),
        lambda rec, client: _cleanup_step(rec, client, message=message, found=found),
    ]
    return walk_session(imap.IMAP_STEPS, host=host, port=port, security=security, username=username,
                        password=password, options=options, on_step=on_step, credential_steps=steps)
