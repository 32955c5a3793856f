"""The one place tests build mail accounts: plain functions, no fixtures to discover.

- `account_data`: a valid registration body (what the API, the pages and the services take);
- `account_create`: a saved account through the registration service (validated and audited);
- `account_make`: a row straight through the ORM, for states the service would refuse or that a test sets up
  around it (a binding of another organization, a status, a time);
- `account_on_test_servers`: alice's account on the loopback Dovecot (IMAPS) and aiosmtpd (implicit TLS).
"""
from __future__ import annotations

from typing import Any

from tests.helpers import SENTINEL


def account_data(address: str = "alice@example.com", **overrides: Any) -> dict[str, Any]:
    """A valid registration body: IMAP over SSL, SMTP with STARTTLS, the same credentials."""
    data = {
        "address": address,
        "protocol": "imap",
        "incoming_host": "imap.example.com",
        "incoming_port": 993,
        "incoming_security": "ssl",
        "incoming_password": SENTINEL,
        "smtp_host": "smtp.example.com",
        "smtp_port": 587,
        "smtp_security": "starttls",
        "smtp_same_credentials": True,
        "save_sent_on_server": False,
    }
    data.update(overrides)
    return data


def account_create(owner, *, actor=None, **overrides: Any):
    """A saved account through the service (audited like any other)."""
    from mailsettings.services import mail_account_register

    return mail_account_register(actor=actor or owner, owner=owner, data=account_data(**overrides))


def account_make(owner, address: str | None = None, **fields: Any):
    """An active account row straight through the ORM: the owner's address (unless given) on imap/smtp.acme.test."""
    from mailsettings.models import MailAccount

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


def account_on_test_servers(owner, *, dovecot, smtp_implicit, **fields: Any):
    """alice@example.test (unless `address` is given) on Dovecot IMAPS and aiosmtpd implicit TLS, with her real
    passwords there and her own SMTP login: a run of it passes every step."""
    address = fields.pop("address", "alice@example.test")
    values = {
        "protocol": "imap", "incoming_host": "localhost", "incoming_port": dovecot.imaps_port,
        "incoming_security": "ssl", "incoming_username": address,
        "incoming_password": dovecot.users.get(address, "x"),
        "smtp_host": "localhost", "smtp_port": smtp_implicit.port, "smtp_security": "ssl",
        "smtp_same_credentials": False, "smtp_username": "alice@example.test",
        "smtp_password": smtp_implicit.users["alice@example.test"],
        **fields,
    }
    return account_make(owner, address, **values)
