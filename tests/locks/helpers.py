"""Small builders for the lock tests: a mail binding made straight through the ORM (the registration service is
another issue's subject), and API clients per persona."""
from __future__ import annotations

from mailsettings.models import MailAccount

LOCKED_MESSAGE = "You don't have permission to change these mail settings. Contact your organization's administrator."
OWN_LOCK_MESSAGE = "Your settings were locked by an administrator. Ask another administrator to unlock them."


def make_mail_account(owner, address: str | None = None, **fields) -> MailAccount:
    address = address or owner.email
    values = {
        "owner": owner,
        "organization": owner.organization,
        "address": address,
        "address_normalized": address.lower(),
        "protocol": "imap",
        "incoming_host": "imap.acme.test",
        "incoming_port": 993,
        "incoming_security": "ssl",
        "incoming_username": address,
        "incoming_password": "not-the-real-one",
        "smtp_host": "smtp.acme.test",
        "smtp_port": 587,
        "smtp_security": "starttls",
        **fields,
    }
    return MailAccount.objects.create(**values)
