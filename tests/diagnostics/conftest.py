"""Diagnostics fixtures: settings that let runs reach the loopback test servers, a local DNS server for the
domain step, and mail accounts pointed at Dovecot and aiosmtpd."""
from __future__ import annotations

import pytest

from tests.servers.dns_server import running_dns_server

LOOPBACK = ["127.0.0.0/8", "::1/128"]

# The address's domain: a custom domain whose MX names no known provider (so settings are not "mismatched").
ZONE = {"example.test": {"MX": ["10 mx.example.test."]}, "mx.example.test": {"A": ["192.0.2.25"]},
        "gmail-hosted.test": {"MX": ["5 aspmx.l.google.com."]}}


@pytest.fixture
def dns_server():
    with running_dns_server(ZONE) as server:
        yield server


@pytest.fixture
def loopback_diagnostics(settings, test_ca, dns_server):
    """Runs may reach loopback (refused by default), trust the test CA, and ask the local DNS server."""
    settings.DIAGNOSTICS_ALLOWED_NETWORKS = LOOPBACK
    # The test servers listen on high ports; runs are otherwise held to the mail ports (tested on their own).
    settings.DIAGNOSTICS_EXTRA_PORTS = list(range(1024, 65536))
    settings.DIAGNOSTICS_CA_FILE = str(test_ca.ca_pem)
    settings.DIAGNOSTICS_CONNECT_TIMEOUT = 2.0
    settings.DIAGNOSTICS_STEP_TIMEOUT = 5.0
    settings.DNS_NAMESERVERS = [f"127.0.0.1:{dns_server.port}"]
    settings.DNS_TIMEOUT = 1.0
    return settings


@pytest.fixture
def make_account(dovecot, smtp_implicit):
    """make_account(owner, **fields): an active account of alice on Dovecot IMAPS and aiosmtpd implicit TLS."""
    from mailsettings.models import MailAccount

    def make(owner, **fields):
        address = fields.pop("address", "alice@example.test")
        values = dict(
            owner=owner, organization=owner.organization, address=address, address_normalized=address.lower(),
            protocol="imap", incoming_host="localhost", incoming_port=dovecot.imaps_port, incoming_security="ssl",
            incoming_username=address, incoming_password=dovecot.users.get(address, "x"),
            smtp_host="localhost", smtp_port=smtp_implicit.port, smtp_security="ssl", smtp_same_credentials=False,
            smtp_username="alice@example.test", smtp_password=smtp_implicit.users["alice@example.test"],
        )
        values.update(fields)
        return MailAccount.objects.create(**values)

    return make
