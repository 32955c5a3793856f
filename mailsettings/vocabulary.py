"""The words mail settings are made of, defined once: the protocols and how a connection is protected.

The values are the ones stored on MailAccount. The models, forms, validation, the provider table, the port facts
and diagnostics' probes all import them from here (diagnostics may import mailsettings, never the reverse).
"""
from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Protocol(models.TextChoices):
    IMAP = "imap", "IMAP"
    POP3 = "pop3", "POP3"
    SMTP = "smtp", "SMTP"


# What an account's incoming side may use (MailAccount.protocol); SMTP is always the outgoing side.
INCOMING_PROTOCOLS = (Protocol.IMAP, Protocol.POP3)
INCOMING_PROTOCOL_CHOICES = [(protocol.value, protocol.label) for protocol in INCOMING_PROTOCOLS]


class Security(models.TextChoices):
    """TLS from the first byte (implicit TLS, "SSL/TLS" in mail programs), upgraded with STARTTLS/STLS, or none."""

    SSL = "ssl", _("SSL/TLS")
    STARTTLS = "starttls", "STARTTLS"
    NONE = "none", _("None")
