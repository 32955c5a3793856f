"""What the discovery tests share: settings that reach loopback servers, clientConfig files, a fresh cache."""
from __future__ import annotations

import pytest

from mailsettings.discovery import network_answer_forget

Server = tuple[str, int, str]


def client_config(*domains: str, imap: Server | None = ("imap.example.net", 993, "SSL"), pop3: Server | None = None,
                  smtp: Server = ("smtp.example.net", 465, "SSL"), username: str = "%EMAILADDRESS%",
                  name: str = "Example Mail") -> bytes:
    """A clientConfig 1.1 file as ISPs publish it."""
    def server(tag: str, kind: str, entry: tuple[str, int, str]) -> str:
        host, port, socket_type = entry
        return (f'<{tag} type="{kind}"><hostname>{host}</hostname><port>{port}</port>'
                f"<socketType>{socket_type}</socketType><username>{username}</username>"
                f"<authentication>password-cleartext</authentication></{tag}>")

    parts = ['<?xml version="1.0" encoding="UTF-8"?>', '<clientConfig version="1.1">',
             f'<emailProvider id="{domains[0]}">', *(f"<domain>{d}</domain>" for d in domains),
             f"<displayName>{name}</displayName>"]
    if imap:
        parts.append(server("incomingServer", "imap", imap))
    if pop3:
        parts.append(server("incomingServer", "pop3", pop3))
    parts += [server("outgoingServer", "smtp", smtp), '<documentation url="https://help.example.net/mail"/>',
              "</emailProvider>", "</clientConfig>"]
    return "\n".join(parts).encode()


@pytest.fixture
def discovery_settings(settings, test_ca):
    """The discoverer may reach 127/8 (refused by default), trusts the test CA, and has a short deadline."""
    settings.DIAGNOSTICS_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    settings.DIAGNOSTICS_CA_FILE = str(test_ca.ca_pem)
    settings.DIAGNOSTICS_CONNECT_TIMEOUT = 2.0
    settings.DISCOVERY_DEADLINE = 6.0
    settings.DISCOVERY_FETCH_TIMEOUT = 3.0
    settings.DISCOVERY_PROBE_TIMEOUT = 3.0
    settings.DNS_TIMEOUT = 1.0
    return settings


def fresh(*domains: str) -> None:
    """Forget cached network answers (the cache may be a shared Redis kept between runs)."""
    for domain in domains:
        network_answer_forget(domain)
