"""Port facts (the settings step) and the TCP port check, on loopback only."""

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from diagnostics.probes.net import ProbeOptions
from diagnostics.probes.ports import check_port, check_settings
from diagnostics.results import Code, Step
from mailsettings.ports import default_port
from tests.diagnostics.probe_options import loopback_options
from tests.servers.ports import free_port

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("protocol", "port", "security"),
    [
        ("imap", 993, "ssl"), ("imap", 143, "starttls"), ("imap", 143, "none"),
        ("pop3", 995, "ssl"), ("pop3", 110, "starttls"),
        ("smtp", 465, "ssl"), ("smtp", 587, "starttls"), ("smtp", 25, "none"), ("smtp", 25, "starttls"),
        ("imap", 10993, "ssl"),  # not a standard port: nothing to say
    ],
)
def test_standard_pairs_pass_the_settings_check(protocol, port, security):
    result = check_settings(protocol=protocol, port=port, security=security)
    assert (result.step, result.code) == (Step.SETTINGS, Code.OK)


@pytest.mark.parametrize(
    ("protocol", "port", "security", "reason"),
    [
        ("imap", 993, "starttls", "security_mismatch"),
        ("imap", 143, "ssl", "security_mismatch"),
        ("pop3", 995, "none", "security_mismatch"),
        ("smtp", 465, "starttls", "security_mismatch"),
        ("smtp", 587, "ssl", "security_mismatch"),
        ("imap", 587, "starttls", "port_of_other_protocol"),
        ("pop3", 993, "ssl", "port_of_other_protocol"),
        ("smtp", 993, "ssl", "port_of_other_protocol"),
    ],
)
def test_mismatched_pairs_are_a_warning_with_suggestions(protocol, port, security, reason):
    result = check_settings(protocol=protocol, port=port, security=security)
    assert (result.code, result.details["reason"]) == (Code.PORT_PROTOCOL_MISMATCH, reason)
    assert result.is_warning
    assert result.details["suggested"][0]["port"] == default_port(protocol, "ssl")


def test_an_open_port_is_ok_and_names_the_address_used(smtp_implicit):
    result = check_port("localhost", smtp_implicit.port, options=loopback_options())
    assert (result.step, result.code) == (Step.PORT, Code.OK)
    assert result.details["ip"] == "127.0.0.1"


def test_a_refused_port_is_closed_and_permanent():
    result = check_port("127.0.0.1", free_port(), options=loopback_options())
    assert (result.code, result.transient) == (Code.PORT_CLOSED, False)


def test_loopback_is_refused_unless_allowed(smtp_implicit):
    result = check_port("127.0.0.1", smtp_implicit.port, options=ProbeOptions.build())
    assert (result.code, result.details["reason"]) == (Code.TARGET_NOT_ALLOWED, "blocked_range")
    result = check_port("::ffff:127.0.0.1", smtp_implicit.port, options=ProbeOptions.build())
    assert result.code == Code.TARGET_NOT_ALLOWED


def test_a_port_outside_the_allowed_list_is_refused(smtp_implicit):
    options = loopback_options(allowed_ports=[993, 465])
    result = check_port("127.0.0.1", smtp_implicit.port, options=options)
    assert (result.code, result.details["reason"]) == (Code.TARGET_NOT_ALLOWED, "port_not_allowed")


_NAMESPACE_SCRIPT = textwrap.dedent(
    """
    from diagnostics.probes.net import ProbeOptions
    from diagnostics.probes.ports import check_port
    from tests.servers.dns_server import running_dns_server

    zone = {"metadata.evil.example": {"A": ["169.254.169.254"]},
            "private.evil.example": {"A": ["10.0.0.1"]},
            "mixed.evil.example": {"A": ["127.0.0.1", "10.0.0.1"]},
            "mapped.evil.example": {"AAAA": ["::ffff:10.0.0.1"]},
            "nat64.evil.example": {"AAAA": ["64:ff9b::a9fe:a9fe"]},
            "loopback.allowed.example": {"A": ["127.0.0.1"]}}
    with running_dns_server(zone) as dns:
        options = ProbeOptions.build(allowed_networks=["127.0.0.0/8"], connect_timeout=1.0,
                                     nameservers=(f"127.0.0.1:{dns.port}",))
        for name in sorted(zone):
            print(name, check_port(name, 993, options=options).code)
    """
)


def test_names_that_resolve_to_internal_addresses_are_refused_in_an_isolated_network():
    # Run where only loopback exists: even a broken guard could not send a packet to 10.0.0.1 or the metadata IP.
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        pytest.skip("unshare/ip not available")
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("cannot create a network namespace here")
    command = f"ip link set lo up && {sys.executable} -c '{_NAMESPACE_SCRIPT}'"
    done = subprocess.run(["unshare", "-n", "sh", "-c", command], cwd=REPO, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "loopback.allowed.example port_closed",  # the allowed range is reached: the guard refuses no more than it must
        "mapped.evil.example target_not_allowed",  # IPv4-mapped 10.0.0.1, answered as AAAA only
        "metadata.evil.example target_not_allowed",
        "mixed.evil.example target_not_allowed",
        "nat64.evil.example target_not_allowed",  # NAT64 form of 169.254.169.254, answered as AAAA only
        "private.evil.example target_not_allowed",
    ]
