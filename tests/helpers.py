"""What every test layer shares: the secrets tests look for, signing in, the lock sentences, loopback runs.

Personas (admin_a, user_s, admin_b, admin_x, operator) are fixtures in tests/conftest.py; mail accounts are built
by tests/factories.py.
"""
from __future__ import annotations

from django.contrib.messages import get_messages
from django.test import Client

# A fake mail password the tests type in and then look for everywhere it must never appear.
SENTINEL = "S3ntinel-pa55-Never-Shown"  # noqa: S105
# The personas' sign-in password (tests/conftest.py).
PERSONA_PASSWORD = "correct horse battery"  # noqa: S105

# The sentences of a settings lock (scenarios 7 and 9 of docs/scenarios.md).
LOCKED_MESSAGE = "You don't have permission to change these mail settings. Contact your organization's administrator."
OWN_LOCK_MESSAGE = "Your settings were locked by an administrator. Ask another administrator to unlock them."

# Runs may reach the loopback test servers only when these networks are allowed (refused by default).
LOOPBACK_NETWORKS = ["127.0.0.0/8", "::1/128"]


class PageClient(Client):
    """A Django test client for the pages that remembers every response, so a test can scan them all for a
    secret."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.seen: list = []

    def request(self, **request):
        response = super().request(**request)
        self.seen.append(response)
        return response

    def assert_never_echoed(self, secret: str = SENTINEL) -> None:
        for response in self.seen:
            body = b"".join(response.streaming_content) if response.streaming else response.content
            assert secret.encode() not in body, f"{response.request['PATH_INFO']} echoed a password"
            assert all(secret not in str(value) for value in response.headers.values())


def signed_in(user, *, client_class: type[Client] = Client, **client_options) -> Client:
    """A test client signed in as `user` (client_options: enforce_csrf_checks=True, headers, ...)."""
    client = client_class(**client_options)
    client.force_login(user)
    return client


def messages_of(response) -> list[str]:
    """The texts of the Django messages a response carried."""
    return [str(m) for m in get_messages(response.wsgi_request)]


def allow_loopback_runs(settings, *, ca_file, dns_port: int) -> None:
    """Runs may reach the loopback test servers (refused by default), trust the test CA, and ask the test DNS
    server on `dns_port`; the test servers listen on high ports, so those are opened too (runs are otherwise held
    to the mail ports, tested on their own)."""
    settings.DIAGNOSTICS_ALLOWED_NETWORKS = LOOPBACK_NETWORKS
    settings.DIAGNOSTICS_EXTRA_PORTS = list(range(1024, 65536))
    settings.DIAGNOSTICS_CA_FILE = str(ca_file)
    settings.DIAGNOSTICS_CONNECT_TIMEOUT = 2.0
    settings.DIAGNOSTICS_STEP_TIMEOUT = 5.0
    settings.DNS_NAMESERVERS = [f"127.0.0.1:{dns_port}"]
    settings.DNS_TIMEOUT = 1.0
