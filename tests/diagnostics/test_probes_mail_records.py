"""A domain's mail records looked up from a real DNS server on loopback, and the MTA-STS policy fetched from a
local HTTPS server with a certificate of the test CA, through the guarded connect."""
import time

import pytest

from diagnostics.probes.mail_records import check_mail_records, fetch_sts_policy
from tests.diagnostics.probe_options import loopback_options
from tests.servers.dns_server import running_dns_server
from tests.servers.https_server import Route, running_https_server

POLICY_PATH = "/.well-known/mta-sts.txt"
POLICY = "version: STSv1\nmode: enforce\nmx: mx1.records.test\nmax_age: 86400\n"


def zone(policy_address="127.0.0.1", **overrides):
    records = {
        "records.test": {"MX": ["10 mx1.records.test."], "TXT": ['"v=spf1 include:_spf.provider.test ~all"',
                                                                  '"google-site-verification=abc"']},
        "mx1.records.test": {"A": ["127.0.0.1"]},
        "_spf.provider.test": {"TXT": ['"v=spf1 ip4:192.0.2.0/24 include:_spf2.provider.test -all"']},
        "_spf2.provider.test": {"TXT": ['"v=spf1 a mx -all"']},
        "_dmarc.records.test": {"TXT": ['"v=DMARC1; p=none; rua=mailto:dmarc@records.test"']},
        "google._domainkey.records.test": {"TXT": ['"v=DKIM1; k=rsa; " "p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKC"']},
        "_mta-sts.records.test": {"TXT": ['"v=STSv1; id=20240101"']},
        "mta-sts.records.test": {"A": [policy_address]},
        "_smtp._tls.records.test": {"TXT": ['"v=TLSRPTv1; rua=mailto:tls@records.test"']},
    }
    records.update(overrides)
    return records


@pytest.fixture
def sts_leaf(test_ca):
    return test_ca.issue("mta-sts.records.test")


def _policy_server(leaf, status=200, content_type="text/plain", body=POLICY):
    """The policy on <a loopback address of its own>:443, as RFC 8461 asks."""
    headers = {"Content-Type": content_type}
    if 300 <= status < 400:
        headers["Location"] = "https://elsewhere.records.test/policy.txt"
    return running_https_server({POLICY_PATH: Route(body=body.encode(), status=status, headers=headers)}, leaf=leaf)


def _check(dns, test_ca, *, provider_id="google_workspace", **kwargs):
    options = loopback_options(ca_file=test_ca.ca_pem)
    options = type(options)(**{**options.__dict__, "nameservers": (f"127.0.0.1:{dns.port}",)})
    return check_mail_records("records.test", provider_id=provider_id, options=options, dns_timeout=1.0,
                              **kwargs)


def _by_record(result):
    return {c["record"]: c for c in result["checks"]}


def test_every_record_is_looked_up_and_judged(test_ca, sts_leaf):
    with _policy_server(sts_leaf) as https, running_dns_server(zone(https.address)) as dns:
        result = _check(dns, test_ca)
    checks = _by_record(result)
    assert {k: (v["level"], v["reason"]) for k, v in checks.items()} == {
        "mx": ("ok", "ok"), "spf": ("ok", "ok"), "dmarc": ("info", "monitoring_only"), "dkim": ("ok", "ok"),
        "mta_sts": ("ok", "ok"), "tls_rpt": ("ok", "ok"),
    }
    assert result["level"] == "info"
    assert checks["spf"]["found"] == ["v=spf1 include:_spf.provider.test ~all"]
    assert checks["spf"]["facts"]["lookups"] == 4  # include, include, a, mx (ip4 and all cost none)
    assert checks["dkim"]["facts"]["published"] == ["google"]
    assert checks["dkim"]["found"][0].startswith("google._domainkey: v=DKIM1; k=rsa; p=MIIB")  # split TXT joined
    assert checks["mta_sts"]["facts"]["mode"] == "enforce"
    assert https.requests == [("mta-sts.records.test", POLICY_PATH)]


def test_spf_lookups_are_counted_through_nested_includes(test_ca):
    chain = {f"_s{n}.provider.test": {"TXT": [f'"v=spf1 include:_s{n + 1}.provider.test a -all"']} for n in range(6)}
    chain["_s6.provider.test"] = {"TXT": ['"v=spf1 -all"']}
    records = zone(**chain, **{"records.test": {"MX": ["10 mx1.records.test."],
                                                "TXT": ['"v=spf1 include:_s0.provider.test -all"']}})
    with running_dns_server(records) as dns:
        spf = _by_record(_check(dns, test_ca))["spf"]
    assert (spf["level"], spf["reason"]) == ("error", "too_many_lookups")
    assert spf["facts"]["lookups"] > 10


def test_an_include_that_has_no_spf_record_is_reported(test_ca):
    records = zone(**{"_spf.provider.test": {"A": ["192.0.2.1"]}})
    with running_dns_server(records) as dns:
        spf = _by_record(_check(dns, test_ca))["spf"]
    assert (spf["reason"], spf["facts"]["includes"]) == ("include_broken", ["_spf.provider.test"])


def test_an_mx_that_is_an_alias_and_a_null_mx_are_recognized(test_ca):
    aliased = zone(**{"records.test": {"MX": ["10 mail.records.test."]},
                      "mail.records.test": {"CNAME": ["mx1.records.test."]}})
    with running_dns_server(aliased) as dns:
        mx = _by_record(_check(dns, test_ca))["mx"]
    assert (mx["level"], mx["reason"], mx["facts"]["hosts"]) == ("warning", "points_to_cname", ["mail.records.test"])
    with running_dns_server(zone(**{"records.test": {"MX": ["0 ."]}})) as dns:
        mx = _by_record(_check(dns, test_ca))["mx"]
    assert (mx["level"], mx["reason"], mx["found"]) == ("error", "null_mx", ["0 ."])


@pytest.mark.parametrize(("answer", "error"), [
    ((404, "text/plain", "not found"), "http_404"),
    ((301, "text/plain", ""), "redirect"),
    ((200, "text/html", POLICY), "not_text_plain"),
    ((200, "text/plain", "x" * 70_000), "too_large"),
])
def test_a_policy_that_cannot_be_used_is_an_error_saying_why(test_ca, sts_leaf, answer, error):
    status, content_type, body = answer
    with _policy_server(sts_leaf, status, content_type, body) as https, \
            running_dns_server(zone(https.address)) as dns:
        sts = _by_record(_check(dns, test_ca))["mta_sts"]
    assert (sts["level"], sts["reason"], sts["facts"]["error"]) == ("error", "policy_unreachable", error)


def test_the_policy_servers_certificate_is_verified_for_the_mta_sts_name(test_ca):
    # The localhost leaf is valid, but not for mta-sts.records.test.
    with _policy_server(test_ca.localhost) as https, running_dns_server(zone(https.address)) as dns:
        sts = _by_record(_check(dns, test_ca))["mta_sts"]
        assert https.requests == []  # nothing was asked over the unverified connection
    assert sts["facts"]["error"] == "certificate_invalid"


def test_the_policy_is_not_fetched_from_an_address_the_outbound_policy_refuses(test_ca):
    # mta-sts.records.test points to a private address: refused before any packet is sent.
    with running_dns_server(zone(**{"mta-sts.records.test": {"A": ["10.0.0.1"]}})) as dns:
        options = loopback_options(ca_file=test_ca.ca_pem)
        options = type(options)(**{**options.__dict__, "nameservers": (f"127.0.0.1:{dns.port}",)})
        text, error = fetch_sts_policy("records.test", options=options, port=443)
    assert (text, error) == (None, "target_not_allowed")


def test_a_silent_dns_server_costs_one_timeout_and_every_record_reads_not_checked(test_ca):
    with running_dns_server({}, silent=True) as dns:
        started = time.monotonic()
        result = _check(dns, test_ca)
        elapsed = time.monotonic() - started
        assert len(dns.queries) == 1
    assert {c["level"] for c in result["checks"]} <= {"not_checked", "info"}
    assert _by_record(result)["spf"]["level"] == "not_checked"
    assert elapsed < 3  # one DNS timeout (1 s), not one per record


def test_known_dns_trouble_skips_the_lookups(test_ca):
    with running_dns_server(zone()) as dns:
        result = _check(dns, test_ca, skip_dns=True)
        assert dns.queries == []
    assert _by_record(result)["mx"]["level"] == "not_checked"
