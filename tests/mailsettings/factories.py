"""Builders of mail-account data for the tests of issue 3 (plain functions: no fixtures to discover)."""
from __future__ import annotations

from typing import Any

SENTINEL = "S3ntinel-pa55-Never-Shown"  # noqa: S105 - a fake password the tests look for everywhere


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
