"""The outbound policy, tested as a function: none of these tests opens a socket."""

import socket

import pytest

from diagnostics.policy import OutboundPolicy, check_address, is_address_allowed
from diagnostics.results import Code, ProbeError

REFUSED_BY_DEFAULT = [
    "127.0.0.1",
    "127.8.9.10",
    "10.0.0.1",
    "172.16.5.4",
    "192.168.1.1",
    "100.64.0.1",
    "169.254.169.254",  # cloud metadata
    "0.0.0.0",
    "255.255.255.255",
    "224.0.0.251",
    "::1",
    "::",
    "fe80::1",
    "fd00::1",
    "ff02::1",
    "::ffff:127.0.0.1",  # IPv4-mapped loopback
    "::ffff:169.254.169.254",
    "64:ff9b::a00:1",  # NAT64 form of 10.0.0.1
    "64:ff9b::7f00:1",  # NAT64 form of 127.0.0.1
    "2002:a00:1::",  # 6to4 around 10.0.0.1
]


@pytest.fixture(autouse=True)
def no_sockets(monkeypatch):
    """Fail loudly if anything here tries to open a socket: the policy must decide without the network."""

    def refuse(*args, **kwargs):
        raise AssertionError("a policy test opened a socket")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.mark.parametrize("ip", REFUSED_BY_DEFAULT)
def test_it_refuses_internal_and_reserved_addresses_by_default(ip):
    with pytest.raises(ProbeError) as caught:
        check_address(ip, allowed_networks=[])
    assert caught.value.code == Code.TARGET_NOT_ALLOWED
    assert caught.value.transient is False


@pytest.mark.parametrize("ip", ["8.8.8.8", "1.1.1.1", "2001:4860:4860::8888", "2a00:1450:4001::1"])
def test_it_allows_public_addresses(ip):
    check_address(ip, allowed_networks=[])
    assert is_address_allowed(ip)


@pytest.mark.parametrize(
    ("ip", "networks"),
    [
        ("127.0.0.1", ["127.0.0.0/8"]),
        ("::1", ["::1/128"]),
        ("10.0.0.1", ["10.0.0.0/8"]),
        ("169.254.169.254", ["169.254.169.254/32"]),
        ("::ffff:127.0.0.1", ["127.0.0.0/8"]),  # the mapped form follows the IPv4 it carries
        ("64:ff9b::a00:1", ["10.0.0.0/24"]),
    ],
)
def test_it_allows_a_refused_range_once_configured(ip, networks):
    check_address(ip, allowed_networks=networks)


def test_opening_one_range_keeps_the_others_closed():
    with pytest.raises(ProbeError):
        check_address("10.0.0.1", allowed_networks=["127.0.0.0/8", "::1/128"])
    with pytest.raises(ProbeError):
        check_address("::ffff:10.0.0.1", allowed_networks=["127.0.0.0/8"])


def test_it_refuses_a_public_looking_v6_form_of_a_private_v4():
    assert not is_address_allowed("::ffff:192.168.0.1")
    assert not is_address_allowed("64:ff9b::c0a8:1")


def test_it_refuses_a_text_that_is_not_an_address():
    with pytest.raises(ProbeError) as caught:
        check_address("localhost", allowed_networks=[])
    assert caught.value.code == Code.TARGET_NOT_ALLOWED


def test_a_port_list_limits_the_ports():
    policy = OutboundPolicy.build(allowed_networks=[], allowed_ports=[993, 465])
    policy.check_port(993)
    with pytest.raises(ProbeError) as caught:
        policy.check_port(6379)
    assert caught.value.details == {"port": 6379}
    OutboundPolicy.build().check_port(6379)  # no list: any port

