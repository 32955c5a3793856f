"""Verified guessing against real servers on the standard ports: Dovecot (IMAP 993/143, POP3 995/110) and aiosmtpd
(465/587), each on a loopback address of its own with a certificate for the test zone's names (root binds the
ports below 1024, as the suite's Dovecot needs root anyway)."""
from __future__ import annotations

import contextlib
import secrets

import pytest

from mailsettings.discovery import detect
from tests.diagnostics.discovery_helpers import discovery_settings, fresh  # noqa: F401
from tests.servers.dns_server import running_dns_server
from tests.servers.dovecot import running_dovecot
from tests.servers.ports import ServerUnavailable, free_loopback_address
from tests.servers.smtp import running_smtp

pytestmark = pytest.mark.usefixtures("discovery_settings")
MAIL_PORTS = (993, 143, 995, 110, 465, 587)


@contextlib.contextmanager
def mail_servers(test_ca, names: tuple[str, ...], *, dovecot_ports: dict[str, int], smtp_ports: dict[str, int]):
    try:
        address = free_loopback_address(ports=MAIL_PORTS)
        leaf = test_ca.issue(*names)
        with contextlib.ExitStack() as stack:
            stack.enter_context(running_dovecot(certs=test_ca, host=address, ports=dovecot_ports, leaf=leaf))
            for mode, port in smtp_ports.items():
                stack.enter_context(running_smtp(certs=test_ca, tls_mode=mode, host=address, port=port, leaf=leaf))
            yield address
    except ServerUnavailable as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def full_house(test_ca):
    """Every usual port answers on imap./pop./smtp.probe.example."""
    names = ("imap.probe.example", "pop.probe.example", "smtp.probe.example")
    with mail_servers(test_ca, names, dovecot_ports={"imaps": 993, "imap": 143, "pop3s": 995, "pop3": 110},
                      smtp_ports={"implicit": 465, "starttls": 587}) as address:
        yield address, names


def test_a_full_guess_finds_and_verifies_imap_with_implicit_tls_first(full_house, settings):
    address, names = full_house
    fresh("probe.example")
    with running_dns_server({name: {"A": [address]} for name in names}) as dns:
        settings.DNS_NAMESERVERS = [f"127.0.0.1:{dns.port}"]
        detection = detect("alice@probe.example", actor_id=None)

    body = detection.to_dict()
    assert body["source"] == "probe" and body["verified"] is True
    assert body["incoming"] == {"protocol": "imap", "host": "imap.probe.example", "port": 993, "security": "ssl",
                                "username": "alice@probe.example"}
    assert body["outgoing"]["host"] == "smtp.probe.example" and body["outgoing"]["port"] == 465
    evidence = body["candidates"][0]["evidence"]
    assert evidence[0]["kind"] == "probe" and "IMAP4REV1" in evidence[0]["capabilities"]
    assert evidence[1]["host"] == "smtp.probe.example" and evidence[1]["security"] == "ssl"
    assert "source_probe" in [note.code for note in detection.notes]


def test_asking_for_pop3_prefers_the_pop3_server_that_answered(full_house, settings):
    address, names = full_house
    fresh("probe.example")
    with running_dns_server({name: {"A": [address]} for name in names}) as dns:
        settings.DNS_NAMESERVERS = [f"127.0.0.1:{dns.port}"]
        detection = detect("alice@probe.example", protocol="pop3")
    assert detection.source == "probe"
    assert (detection.incoming["protocol"], detection.incoming["host"], detection.incoming["port"]) in {
        ("pop3", "pop.probe.example", 995), ("imap", "imap.probe.example", 993)}


def test_only_starttls_on_143_is_found_and_verified(test_ca, settings):
    fresh("tls143.example")
    names = ("imap.tls143.example", "smtp.tls143.example")
    with mail_servers(test_ca, names, dovecot_ports={"imap": 143}, smtp_ports={"starttls": 587}) as address, \
            running_dns_server({name: {"A": [address]} for name in names}) as dns:
        settings.DNS_NAMESERVERS = [f"127.0.0.1:{dns.port}"]
        detection = detect("alice@tls143.example")

    assert detection.source == "probe" and detection.candidates[0].verified
    assert detection.incoming == {"protocol": "imap", "host": "imap.tls143.example", "port": 143,
                                  "security": "starttls", "username": "alice@tls143.example"}
    assert detection.outgoing["port"] == 587 and detection.outgoing["security"] == "starttls"
    assert "STARTTLS" in detection.candidates[0].evidence[0]["capabilities"] or \
        detection.candidates[0].evidence[0].get("tls_version")


def test_nothing_answering_leaves_the_untested_guess_and_says_so(settings):
    domain = f"silent-{secrets.token_hex(3)}.example"
    with running_dns_server({}) as dns:
        settings.DNS_NAMESERVERS = [f"127.0.0.1:{dns.port}"]
        detection = detect(f"x@{domain}")
    assert detection.source == "guess" and not detection.candidates[0].verified
    assert "probe_failed" in [note.code for note in detection.notes]


def test_probes_are_rate_limited_per_user(settings):
    settings.DISCOVERY_PROBE_RATE_USER = "1/hour"
    actor = 10_000_000 + secrets.randbelow(10_000_000)  # a counter no other run has touched
    with running_dns_server({}) as dns:
        settings.DNS_NAMESERVERS = [f"127.0.0.1:{dns.port}"]
        first = detect(f"x@first-{secrets.token_hex(3)}.example", actor_id=actor)
        second = detect(f"x@second-{secrets.token_hex(3)}.example", actor_id=actor)
    assert "probe_rate_limited" not in [n.code for n in first.notes]
    limited = next(n for n in second.notes if n.code == "probe_rate_limited")
    assert "not tested" in str(limited.message)


def test_probes_are_rate_limited_per_target_domain(settings):
    settings.DISCOVERY_PROBE_RATE_DOMAIN = "1/hour"
    domain = f"popular-{secrets.token_hex(3)}.example"
    with running_dns_server({}) as dns:
        settings.DNS_NAMESERVERS = [f"127.0.0.1:{dns.port}"]
        detect(f"a@{domain}", actor_id=1)
        fresh(domain)
        again = detect(f"b@{domain}", actor_id=2)
    assert "probe_rate_limited" in [n.code for n in again.notes]
