"""Network discovery against real servers on loopback: an HTTPS server with a certificate of the test CA answering
autoconfig and well-known files, and the loopback DNS server answering A, MX and SRV. Probing: test_discovery_probe.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from mailsettings.discovery import detect
from tests.diagnostics.discovery_helpers import client_config, discovery_settings, fresh  # noqa: F401
from tests.servers.dns_server import running_dns_server
from tests.servers.https_server import Route, running_https_server

REPO = Path(__file__).resolve().parents[2]
AUTOCONFIG = "/mail/config-v1.1.xml"
WELL_KNOWN = "/.well-known/autoconfig/mail/config-v1.1.xml"

pytestmark = pytest.mark.usefixtures("discovery_settings")


@pytest.fixture
def dns(settings):
    """start(zone) → a running DNS server the settings point at (stopped at the end of the test)."""
    servers = []

    def start(zone):
        server = running_dns_server(zone)
        servers.append(server)
        running = server.__enter__()
        settings.DNS_NAMESERVERS = [f"127.0.0.1:{running.port}"]
        return running

    yield start
    for server in servers:
        server.__exit__(None, None, None)


def _settled_count(queries: list, *, quiet: float = 0.5, limit: float = 8.0) -> int:
    """The number of queries once none came for `quiet` seconds (bounded by `limit`)."""
    ends = time.monotonic() + limit
    count, since = len(queries), time.monotonic()
    while time.monotonic() < ends and time.monotonic() - since < quiet:
        time.sleep(0.05)
        if len(queries) != count:
            count, since = len(queries), time.monotonic()
    return count


def codes(detection) -> list[str]:
    return [note.code for note in detection.notes]


def test_it_reads_the_domains_autoconfig_file_and_resolves_the_username_for_the_address(test_ca, dns):
    fresh("acme.example")
    leaf = test_ca.issue("autoconfig.acme.example")
    xml = client_config("acme.example", imap=("imap.acme-mail.example", 993, "SSL"),
                        smtp=("smtp.acme-mail.example", 587, "STARTTLS"), username="%EMAILLOCALPART%")
    with running_https_server({AUTOCONFIG: Route(body=xml, headers={"Cache-Control": "max-age=600"})},
                              leaf=leaf) as web:
        dns({"autoconfig.acme.example": {"A": [web.address]}})
        detection = detect("Bob@acme.example")

    body = detection.to_dict()
    assert body["source"] == "autoconfig"
    assert body["incoming"] == {"protocol": "imap", "host": "imap.acme-mail.example", "port": 993,
                                "security": "ssl", "username": "bob"}
    assert body["outgoing"] == {"host": "smtp.acme-mail.example", "port": 587, "security": "starttls",
                                "username": "bob"}
    top = body["candidates"][0]
    assert top["source"] == "autoconfig" and top["verified"] is False
    assert top["evidence"] == [{"kind": "autoconfig", "url": "https://autoconfig.acme.example/mail/config-v1.1.xml",
                                "scheme": "https"}]
    assert top["documentation_url"] == "https://help.example.net/mail"
    assert web.requests == [("autoconfig.acme.example", f"{AUTOCONFIG}?emailaddress=bob@acme.example")]
    assert "source_autoconfig" in codes(detection)
    # The settings' own provider: a configured host elsewhere is a provider_mismatch for the diagnosis.
    assert detection.provider.host_suffixes == ("acme-mail.example",)


def test_a_second_detection_of_the_domain_comes_from_the_cache(test_ca, dns):
    fresh("cached.example")
    leaf = test_ca.issue("autoconfig.cached.example")
    with running_https_server({AUTOCONFIG: Route(body=client_config("cached.example"))}, leaf=leaf) as web:
        server = dns({"autoconfig.cached.example": {"A": [web.address]}})
        first = detect("a@cached.example")
        asked = _settled_count(server.queries)  # methods abandoned after the winner may still be asking
        second = detect("b@cached.example")
    assert len(server.queries) == asked and len(web.requests) == 1
    assert second.source == first.source == "autoconfig"
    assert second.incoming["username"] == "b@cached.example"  # templates resolved per address, not cached


def test_it_falls_back_to_the_well_known_path_on_the_domain_itself(test_ca, dns):
    fresh("wk.example")
    leaf = test_ca.issue("wk.example")
    with running_https_server({WELL_KNOWN: Route(body=client_config("wk.example"))}, leaf=leaf) as web:
        dns({"wk.example": {"A": [web.address]}})
        detection = detect("x@wk.example")
    assert detection.source == "well-known"
    assert detection.candidates[0].evidence[0]["url"] == f"https://wk.example{WELL_KNOWN}"


def test_an_autoconfig_host_on_a_private_address_is_refused_and_the_answer_says_so(test_ca, dns, settings):
    # The server listens, but the policy allows only another loopback range: the name points to a refused address,
    # so no connection is made (the isolated-network test of the guard covers 10/8 and metadata addresses).
    fresh("inside.example")
    leaf = test_ca.issue("autoconfig.inside.example")
    with running_https_server({AUTOCONFIG: Route(body=client_config("inside.example"))}, leaf=leaf) as web:
        settings.DIAGNOSTICS_ALLOWED_NETWORKS = ["127.0.0.1/32"]
        dns({"autoconfig.inside.example": {"A": [web.address]}})
        detection = detect("x@inside.example", network=True, probe=False)
    assert web.requests == []
    assert detection.source == "guess"
    refused = next(n for n in detection.notes if n.code == "autoconfig_refused")
    assert "not asked" in str(refused.message) and "private or reserved" in str(refused.message)
    assert web.address not in str(detection.to_dict())  # which address is not said


@pytest.mark.parametrize(("body", "reason", "words"), [
    (b"<clientConfig>" + b"x" * 70_000, "too_large", "larger than allowed"),
    (b"<clientConfig><emailProvider", "malformed", "not valid XML"),
    (b'<!DOCTYPE x [<!ENTITY a "aaaa">]><clientConfig>&a;</clientConfig>', "forbidden_xml", "refused"),
])
def test_an_oversized_or_malformed_file_is_ignored_with_a_note(test_ca, dns, body, reason, words):
    fresh("broken.example")
    leaf = test_ca.issue("autoconfig.broken.example")
    with running_https_server({AUTOCONFIG: Route(body=body)}, leaf=leaf) as web:
        dns({"autoconfig.broken.example": {"A": [web.address]}})
        detection = detect("x@broken.example", probe=False)
    assert detection.source == "guess"
    note = next(n for n in detection.notes if n.code == "autoconfig_ignored")
    assert words in str(note.message)
    assert "emailaddress" not in str(note.message)  # the person's address stays out of notes and the cache


def test_a_slow_server_cannot_hold_the_detection_past_its_deadline(test_ca, dns, settings):
    fresh("slow-web.example")
    settings.DISCOVERY_DEADLINE = 1.5
    leaf = test_ca.issue("autoconfig.slow-web.example")
    with running_https_server({AUTOCONFIG: Route(body=client_config("slow-web.example"), delay=20)},
                              leaf=leaf) as web:
        dns({"autoconfig.slow-web.example": {"A": [web.address]}})
        started = time.monotonic()
        detection = detect("x@slow-web.example")
        elapsed = time.monotonic() - started
    assert elapsed < 5  # a bound for a hang, not a timing claim
    assert detection.source == "guess" and detection.complete is True
    assert "deadline" in codes(detection)


def test_at_the_deadline_what_a_lower_method_already_found_is_used(test_ca, dns, settings):
    fresh("half.example")
    settings.DISCOVERY_DEADLINE = 1.5
    leaf = test_ca.issue("autoconfig.half.example")
    with running_https_server({AUTOCONFIG: Route(body=client_config("half.example"), delay=20)}, leaf=leaf) as web:
        dns({"autoconfig.half.example": {"A": [web.address]},
             "_imaps._tcp.half.example": {"SRV": ["0 1 993 mail.half.example."]}})
        detection = detect("x@half.example")
    assert detection.source == "srv"
    assert "deadline" in codes(detection)


def test_srv_records_name_the_servers_when_nothing_is_published(dns):
    fresh("srv.example")
    dns({"_imaps._tcp.srv.example": {"SRV": ["0 1 993 mail.srv.example."]},
         "_imap._tcp.srv.example": {"SRV": ["10 1 143 mail.srv.example."]},
         "_pop3._tcp.srv.example": {"SRV": ["0 0 0 ."]},  # "." : not offered
         "_submissions._tcp.srv.example": {"SRV": ["0 1 465 smtp.srv.example."]}})
    detection = detect("x@srv.example", probe=False)
    body = detection.to_dict()
    assert body["source"] == "srv"
    assert body["incoming"]["host"] == "mail.srv.example" and body["incoming"]["port"] == 993
    assert body["outgoing"] == {"host": "smtp.srv.example", "port": 465, "security": "ssl",
                                "username": "x@srv.example"}
    srv = [c for c in body["candidates"] if c["source"] == "srv"]
    assert [(c["incoming"]["port"], c["incoming"]["security"]) for c in srv] == [(993, "ssl"), (143, "starttls")]
    assert srv[0]["evidence"][0]["record"] == "_imaps._tcp.srv.example"
    assert detection.provider is None  # SRV names servers, not a provider


def test_the_mx_hosts_base_domain_is_looked_up_locally_in_the_ispdb(dns):
    fresh("ocn-hosted.example")
    dns({"ocn-hosted.example": {"MX": ["10 mx01.ocn.ne.jp."]}})
    detection = detect("x@ocn-hosted.example", protocol="pop3", probe=False)
    assert detection.source == "mx"
    assert detection.incoming["host"] == "pop.ocn.ne.jp"
    assert detection.mx == ["mx01.ocn.ne.jp"]
    assert {"kind": "ispdb", "file": "ocn.ne.jp.xml", "domain": "ocn.ne.jp"} in detection.candidates[0].evidence


def test_the_mx_hosts_base_domain_is_asked_for_its_autoconfig_file(test_ca, dns):
    fresh("customer.example")
    leaf = test_ca.issue("autoconfig.hoster.example")
    xml = client_config("hoster.example", imap=("imap.hoster.example", 993, "SSL"),
                        smtp=("smtp.hoster.example", 465, "SSL"), name="Hoster")
    with running_https_server({AUTOCONFIG: Route(body=xml)}, leaf=leaf) as web:
        dns({"customer.example": {"MX": ["10 mx1.in.hoster.example."]},
             "autoconfig.hoster.example": {"A": [web.address]}})
        detection = detect("x@customer.example", probe=False)
    assert detection.source == "mx"
    assert detection.incoming["host"] == "imap.hoster.example"
    assert detection.provider.name == "Hoster"
    evidence = detection.candidates[0].evidence
    assert evidence[0] == {"kind": "mx", "host": "mx1.in.hoster.example", "domain": "hoster.example"}
    # Thunderbird's order: the deeper name (in.hoster.example) first, then the base domain.
    assert [host for host, _path in web.requests] == ["autoconfig.hoster.example"]


def test_an_online_ispdb_mirror_is_asked_when_a_setting_names_it(test_ca, dns, settings):
    fresh("mirror-only.example")
    leaf = test_ca.issue("ispdb.mirror.example")
    with running_https_server({"/v1.1/mirror-only.example": Route(body=client_config("mirror-only.example"))},
                              leaf=leaf) as web:
        settings.DISCOVERY_ISPDB_URL = "https://ispdb.mirror.example/v1.1/"
        dns({"ispdb.mirror.example": {"A": [web.address]}})
        detection = detect("x@mirror-only.example", probe=False)
    assert detection.source == "ispdb"
    assert detection.candidates[0].evidence[0]["url"] == "https://ispdb.mirror.example/v1.1/mirror-only.example"


def test_plain_http_is_asked_only_when_allowed_and_its_answer_is_marked(dns, settings):
    fresh("plain.example")
    with running_https_server({AUTOCONFIG: Route(body=client_config("plain.example"))}, leaf=None) as web:
        dns({"autoconfig.plain.example": {"A": [web.address]}})
        assert detect("x@plain.example", probe=False).source == "guess"  # off by default
        fresh("plain.example")
        settings.DISCOVERY_ALLOW_HTTP = True
        detection = detect("x@plain.example", probe=False)
    assert detection.source == "autoconfig"
    assert detection.candidates[0].evidence[0]["scheme"] == "http"
    assert "plain_http" in codes(detection)


def test_a_redirect_to_plain_http_is_refused(test_ca, dns):
    fresh("redirect.example")
    leaf = test_ca.issue("autoconfig.redirect.example")
    routes = {AUTOCONFIG: Route(status=302, headers={"Location": "http://autoconfig.redirect.example/x.xml"})}
    with running_https_server(routes, leaf=leaf) as web:
        dns({"autoconfig.redirect.example": {"A": [web.address]}})
        detection = detect("x@redirect.example", probe=False)
    assert detection.source == "guess"
    assert "autoconfig_ignored" in codes(detection)


def test_a_certificate_for_another_name_is_not_trusted(test_ca, dns):
    fresh("badcert.example")
    with running_https_server({AUTOCONFIG: Route(body=client_config("badcert.example"))},
                              leaf=test_ca.wrong_name) as web:
        dns({"autoconfig.badcert.example": {"A": [web.address]}})
        detection = detect("x@badcert.example", probe=False)
    assert detection.source == "guess"
    assert "autoconfig_ignored" in codes(detection)


def test_local_knowledge_answers_without_any_network(dns):
    server = dns({})
    detection = detect("x@ocn.ne.jp")
    assert detection.source == "ispdb" and detection.complete
    assert server.queries == []


def test_the_local_answer_of_an_unknown_domain_says_a_network_look_up_may_do_better(dns):
    server = dns({})
    detection = detect("x@unknown-domain.example", network=False)
    assert detection.source == "guess" and detection.complete is False
    assert server.queries == []


_NAMESPACE_SCRIPT = textwrap.dedent(
    """
    import os
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    import django
    django.setup()
    from django.conf import settings
    from mailsettings.discovery import detect
    from tests.servers.dns_server import running_dns_server

    zone = {"autoconfig.private.example": {"A": ["10.1.2.3"]}, "private.example": {"A": ["169.254.169.254"]},
            "_imaps._tcp.private.example": {"SRV": ["0 1 993 imap.private.example."]},
            "imap.private.example": {"A": ["192.168.1.10"]}}
    with running_dns_server(zone) as dns:
        settings.DNS_NAMESERVERS = [f"127.0.0.1:{dns.port}"]
        settings.DIAGNOSTICS_ALLOWED_NETWORKS = []
        detection = detect("x@private.example")
    print(detection.source)
    for note in detection.notes:
        print(note.code, str(note.message))
    """
)


def test_private_and_metadata_addresses_are_refused_in_an_isolated_network():
    # Run where only loopback exists: even a broken guard could not send a packet to 10/8, 192.168/16 or the
    # metadata address. The SRV record names a private server: it is suggested (DNS said so) but a probe of it would
    # be refused the same way.
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        pytest.skip("unshare/ip not available")
    if subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode != 0:
        pytest.skip("cannot create a network namespace here")
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CACHE_URL", "CELERY_BROKER_URL"}}
    command = f"ip link set lo up && {sys.executable} -c '{_NAMESPACE_SCRIPT}'"
    done = subprocess.run(["unshare", "-n", "sh", "-c", command], cwd=REPO, capture_output=True, text=True,
                          timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "srv"
    refused = [line for line in lines if line.startswith("autoconfig_refused")]
    assert len(refused) == 2
    assert "autoconfig.private.example points to a private or reserved network address," in refused[0]
    assert "10.1.2.3" not in done.stdout and "169.254.169.254" not in done.stdout  # which address is not said
