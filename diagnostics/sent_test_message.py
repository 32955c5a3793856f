"""The message "Send a test message" sends: composed here (pure), shown to the person before they confirm, and
found again in the Sent folder by its Message-ID. The Message-ID and the date are the only parts filled in when
the message is sent."""
from __future__ import annotations

import email.policy
import email.utils
import secrets
from dataclasses import dataclass
from email.message import EmailMessage

SUBJECT = "mailbind: sent-mail test (this message deletes itself)"
HEADER = "X-Mailbind-Test"
BODY = (
    "This message was sent by mailbind from this mailbox to itself, to count how many copies of a sent message "
    "end up in the Sent folder on the server.\n"
    "mailbind deletes this message from the Sent folder and the Inbox when the test ends. If you still see it, "
    "you can delete it.\n"
    "\n"
    "このメッセージは、送信したメールのコピーが送信済みフォルダーにいくつ保存されるかを確かめるために、mailbind "
    "がこのメールボックスから自分宛てに送ったものです。テストが終わると、mailbind が送信済みフォルダーと受信トレイ"
    "から削除します。残っている場合は削除してかまいません。\n"
)
ID_PLACEHOLDER = "<mailbind-test.(a unique code)@{domain}>"
DATE_PLACEHOLDER = "(the time it is sent)"


@dataclass(frozen=True)
class TestMessage:
    message_id: str  # with angle brackets
    data: bytes  # CRLF line ends, ready for DATA (before dot-stuffing) and APPEND


def new_message_id(address: str) -> str:
    domain = address.rpartition("@")[2] or "mailbind.invalid"
    return f"<mailbind-test.{secrets.token_hex(12)}@{domain}>"


def compose(address: str, *, message_id: str, date: str | None = None) -> TestMessage:
    message = EmailMessage(policy=email.policy.SMTP)
    message["From"] = address
    message["To"] = address
    message["Subject"] = SUBJECT
    message["Date"] = date or email.utils.formatdate(localtime=False)
    message["Message-ID"] = message_id
    message[HEADER] = "sent-copies"
    message.set_content(BODY)
    return TestMessage(message_id=message_id, data=message.as_bytes())


def preview(address: str) -> dict:
    """What will be sent, for the confirmation page and the API, with the two parts filled in at sending time."""
    domain = address.rpartition("@")[2]
    return {
        "from": address, "to": address, "subject": SUBJECT, "body": BODY,
        "headers": [("From", address), ("To", address), ("Subject", SUBJECT), ("Date", DATE_PLACEHOLDER),
                    ("Message-ID", ID_PLACEHOLDER.format(domain=domain)), (HEADER, "sent-copies")],
    }
