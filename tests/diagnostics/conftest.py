"""Diagnostics fixtures: settings that let runs reach the loopback test servers, a local DNS server for the
domain step, and mail accounts pointed at Dovecot and aiosmtpd."""
from __future__ import annotations

import pytest

from tests.factories import account_on_test_servers
from tests.helpers import allow_loopback_runs
from tests.servers.dns_server import running_dns_server

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
    allow_loopback_runs(settings, ca_file=test_ca.ca_pem, dns_port=dns_server.port)
    return settings


@pytest.fixture
def make_account(dovecot, smtp_implicit):
    """make_account(owner, **fields): an active account of alice on Dovecot IMAPS and aiosmtpd implicit TLS."""

    def make(owner, **fields):
        return account_on_test_servers(owner, dovecot=dovecot, smtp_implicit=smtp_implicit, **fields)

    return make
