"""Host resolution against a real DNS server on loopback (tests/servers/dns_server.py): never the machine's."""

import time

import pytest

from diagnostics.probes.dns import resolve_addresses, resolve_host
from diagnostics.results import Code, ProbeError, Step
from tests.servers.dns_server import running_dns_server

ZONE = {
    "imap.acme.example": {"A": ["127.0.0.1"], "AAAA": ["::1"]},
    "v6only.acme.example": {"AAAA": ["::1"]},
    "nomail.acme.example": {"MX": ["10 mx.acme.example."]},  # exists, but has no address
}


@pytest.fixture
def dns_server():
    with running_dns_server(ZONE, servfail={"broken.acme.example"}, drop={"slow.acme.example"}) as server:
        yield server


def _ns(server):
    return (f"127.0.0.1:{server.port}",)


def test_it_returns_ipv4_then_ipv6_addresses(dns_server):
    addresses = resolve_addresses("imap.acme.example", timeout=2, nameservers=_ns(dns_server))
    assert [str(a) for a in addresses] == ["127.0.0.1", "::1"]


def test_an_ipv6_only_host_resolves(dns_server):
    assert [str(a) for a in resolve_addresses("v6only.acme.example", timeout=2, nameservers=_ns(dns_server))] == [
        "::1"]


def test_a_missing_name_is_dns_not_found_and_permanent(dns_server):
    result = resolve_host("imapp.acme.example", timeout=2, nameservers=_ns(dns_server))
    assert (result.step, result.code, result.transient, result.details["reason"]) == (
        Step.DNS, Code.DNS_NOT_FOUND, False, "nxdomain")


def test_a_name_without_addresses_is_dns_not_found(dns_server):
    result = resolve_host("nomail.acme.example", timeout=2, nameservers=_ns(dns_server))
    assert (result.code, result.details["reason"]) == (Code.DNS_NOT_FOUND, "no_address")


def test_servfail_is_transient(dns_server):
    result = resolve_host("broken.acme.example", timeout=2, nameservers=_ns(dns_server))
    assert (result.code, result.transient, result.details["reason"]) == (Code.DNS_NOT_FOUND, True, "servfail")


def test_a_silent_resolver_times_out_on_time(dns_server):
    started = time.monotonic()
    result = resolve_host("slow.acme.example", timeout=1.0, nameservers=_ns(dns_server))
    assert time.monotonic() - started < 2.0
    assert (result.code, result.transient) == (Code.TIMEOUT, True)


def test_ip_literals_and_the_hosts_file_need_no_dns():
    # The nameserver is a closed loopback port: any query would fail, so these answers come from elsewhere.
    assert [str(a) for a in resolve_addresses("127.0.0.1", timeout=1, nameservers=("127.0.0.1:9",))] == ["127.0.0.1"]
    assert [str(a) for a in resolve_addresses("[::1]", timeout=1, nameservers=("127.0.0.1:9",))] == ["::1"]
    assert "127.0.0.1" in [str(a) for a in resolve_addresses("localhost", timeout=1, nameservers=("127.0.0.1:9",))]


@pytest.mark.parametrize("name", ["mailserver", "bad..name.example", "-" * 70 + ".example"])
def test_a_name_that_cannot_be_a_mail_host_is_refused_without_a_query(name):
    with pytest.raises(ProbeError) as caught:
        resolve_addresses(name, timeout=1, nameservers=("127.0.0.1:9",))
    assert caught.value.code == Code.DNS_NOT_FOUND


# --- a refused target's addresses are not listed ------------------------------------------------------------------

INTERNAL_ZONE = {"db.corp.internal": {"A": ["10.1.2.3"]}, "mail.public.example": {"A": ["203.0.114.7"]}}


def test_a_name_resolving_to_a_private_address_says_private_or_reserved_not_which():
    from diagnostics.policy import OutboundPolicy

    # Only resolved (by a loopback DNS server), never connected to.
    with running_dns_server(INTERNAL_ZONE) as server:
        refused = resolve_host("db.corp.internal", timeout=2, nameservers=_ns(server), policy=OutboundPolicy())
        public = resolve_host("mail.public.example", timeout=2, nameservers=_ns(server), policy=OutboundPolicy())
    assert refused.ok and refused.details == {"host": "db.corp.internal", "addresses_refused": "private_or_reserved"}
    assert "10.1.2.3" not in str(refused.to_dict())
    assert public.details["addresses"] == ["203.0.114.7"]


def test_the_hosts_file_and_loopback_names_are_not_listed_either():
    from diagnostics.policy import OutboundPolicy

    result = resolve_host("localhost", timeout=1, policy=OutboundPolicy())
    assert "addresses" not in result.details and "127.0.0.1" not in str(result.to_dict())
    allowed = resolve_host("localhost", timeout=1, policy=OutboundPolicy.build(allowed_networks=["127.0.0.0/8",
                                                                                                 "::1/128"]))
    assert "127.0.0.1" in allowed.details["addresses"]
