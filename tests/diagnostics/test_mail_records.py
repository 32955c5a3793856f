"""The judgment of a domain's mail records, on the records as text (no network)."""
import pytest
from django.utils import translation

from diagnostics import mail_records as mr
from diagnostics.mail_records_text import describe


def test_mx_names_are_fine():
    check = mr.judge_mx("ok", [mr.MxHost(10, "mx1.example.com", resolves=True),
                               mr.MxHost(20, "mx2.example.com", resolves=True)])
    assert (check.level, check.reason, check.found) == ("ok", "ok", ["10 mx1.example.com", "20 mx2.example.com"])


@pytest.mark.parametrize(("status", "hosts", "level", "reason"), [
    ("ok", [mr.MxHost(0, "")], "error", "null_mx"),  # RFC 7505
    ("ok", [mr.MxHost(0, ""), mr.MxHost(10, "mx.example.com", resolves=True)], "error", "null_mx_mixed"),
    ("ok", [mr.MxHost(10, "192.0.2.25")], "error", "address_not_name"),
    ("ok", [mr.MxHost(10, "mail.example.com", resolves=True, cname_target="ghs.example.net")], "warning",
     "points_to_cname"),
    ("ok", [mr.MxHost(10, "gone.example.com", resolves=False)], "error", "hosts_do_not_resolve"),
    ("ok", [mr.MxHost(10, "mx.example.com", resolves=True), mr.MxHost(20, "old.example.com", resolves=False)],
     "warning", "some_hosts_do_not_resolve"),
    ("no_answer", [], "warning", "missing"),
    ("nxdomain", [], "error", "domain_not_found"),
    ("dns_failed", [], "not_checked", "dns_failed"),
])
def test_mx_problems(status, hosts, level, reason):
    check = mr.judge_mx(status, hosts)
    assert (check.level, check.reason) == (level, reason)


@pytest.mark.parametrize(("txt", "level", "reason"), [
    (["v=spf1 include:_spf.google.com ~all"], "ok", "ok"),
    (["v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 mx -all"], "ok", "ok"),
    (["v=spf1 include:spf.protection.outlook.com -all", "google-site-verification=abc"], "ok", "ok"),
    ([], "warning", "missing"),
    (["google-site-verification=abc"], "warning", "missing"),
    (["v=spf1 -all", "v=spf1 include:_spf.google.com ~all"], "error", "multiple"),
    (["v=spf1 include:_spf.google.com +all"], "error", "pass_all"),
    (["v=spf1 include:_spf.google.com all"], "error", "pass_all"),  # no qualifier means "+"
    (["v=spf1 ip4:192.0.2.300 -all"], "error", "syntax"),
    (["v=spf1 include -all"], "error", "syntax"),
    (["v=spf1 inclde:_spf.google.com -all"], "error", "syntax"),
    (["v=spf1 ip6:192.0.2.1 -all"], "error", "syntax"),
    (["v=spf1 include:_spf.google.com"], "warning", "no_all"),
    (["v=spf1 include:_spf.google.com ?all"], "warning", "neutral_all"),
    (["v=spf1 redirect=_spf.example.com"], "ok", "ok"),
    (["v=spf10 -all"], "warning", "missing"),  # not "v=spf1"
    (None, "not_checked", "dns_failed"),
])
def test_spf_records(txt, level, reason):
    check = mr.judge_spf(txt)
    assert (check.level, check.reason) == (level, reason)


def test_spf_counts_lookups_against_the_limit_of_ten():
    record = "v=spf1 " + " ".join(f"include:s{n}.example.com" for n in range(11)) + " -all"
    check = mr.judge_spf([record])
    assert (check.level, check.reason, check.facts["lookups"]) == ("error", "too_many_lookups", 11)
    # ip4/ip6/all cost nothing; a, mx, ptr, exists, include, redirect cost one each.
    assert len(mr.parse_spf("v=spf1 a mx ptr exists:x.example.com include:y.example.com ip4:192.0.2.1 -all")
               .lookups) == 5
    nested = mr.judge_spf(["v=spf1 include:a.example.com -all"], lookup_count=12)
    assert nested.reason == "too_many_lookups" and nested.facts["lookups"] == 12


def test_an_include_without_an_spf_record_is_an_error():
    check = mr.judge_spf(["v=spf1 include:gone.example.com -all"], nested_errors=["gone.example.com"])
    assert (check.level, check.reason, check.facts["includes"]) == ("error", "include_broken", ["gone.example.com"])


@pytest.mark.parametrize(("txt", "level", "reason", "policy"), [
    (["v=DMARC1; p=reject; rua=mailto:dmarc@example.com"], "ok", "ok", "reject"),
    (["v=DMARC1; p=quarantine; pct=50"], "ok", "ok", "quarantine"),
    (["v=DMARC1; p=none; rua=mailto:a@example.com,mailto:b@example.net; ruf=mailto:f@example.com"], "info",
     "monitoring_only", "none"),
    (["v=DMARC1; rua=mailto:a@example.com"], "error", "invalid_policy", ""),
    (["v=DMARC1; p=block"], "error", "invalid_policy", "block"),
    (["v=DMARC1; p=none", "v=DMARC1; p=reject"], "error", "multiple", None),
    ([], "warning", "missing", None),
])
def test_dmarc_records(txt, level, reason, policy):
    check = mr.judge_dmarc(txt)
    assert (check.level, check.reason) == (level, reason)
    if policy is not None:
        assert check.facts["policy"] == policy


def test_dmarc_shows_the_reporting_addresses():
    check = mr.judge_dmarc(["v=DMARC1; p=none; rua=mailto:a@example.com,mailto:b@example.net; "
                            "ruf=mailto:f@example.com"])
    assert check.facts["rua"] == ["mailto:a@example.com", "mailto:b@example.net"]
    assert check.facts["ruf"] == ["mailto:f@example.com"]


@pytest.mark.parametrize(("provider", "keys", "level", "reason"), [
    ("google_workspace", {"google": ["v=DKIM1; k=rsa; p=MIIBIjANBgkq"]}, "ok", "ok"),
    ("microsoft_365", {"selector1": [], "selector2": ["v=DKIM1; k=rsa; p=MIGfMA0GCSqG"]}, "ok", "ok"),
    ("microsoft_365", {"selector1": [], "selector2": []}, "warning", "missing"),
    ("zoho", {"zmail": ["v=DKIM1; k=rsa; p="], "zoho": []}, "warning", "key_revoked"),
    ("google_workspace", {"google": None}, "not_checked", "dns_failed"),
    (None, {}, "info", "selectors_unknown"),
    ("docomo", {}, "info", "selectors_unknown"),
])
def test_dkim_keys_at_the_selectors_of_the_detected_provider(provider, keys, level, reason):
    check = mr.judge_dkim(provider, keys)
    assert (check.level, check.reason) == (level, reason)


def test_the_documented_selectors_of_the_providers():
    assert mr.DKIM_SELECTORS["google_workspace"] == ("google",)
    assert mr.DKIM_SELECTORS["microsoft_365"] == ("selector1", "selector2")
    assert mr.DKIM_SELECTORS["fastmail"] == ("fm1", "fm2", "fm3")


POLICY = "version: STSv1\r\nmode: enforce\r\nmx: mx1.example.com\r\nmx: *.mail.example.com\r\nmax_age: 604800\r\n"


@pytest.mark.parametrize(("txt", "policy", "mx", "level", "reason"), [
    (["v=STSv1; id=20240101"], POLICY, ["mx1.example.com", "a.mail.example.com"], "ok", "ok"),
    (["v=STSv1; id=20240101"], POLICY, ["mx2.example.com"], "error", "mx_not_covered"),
    (["v=STSv1; id=20240101"], POLICY, ["a.b.mail.example.com"], "error", "mx_not_covered"),  # one label only
    (["v=STSv1; id=20240101"], POLICY.replace("enforce", "testing"), ["mx2.example.com"], "warning",
     "mx_not_covered_testing"),
    (["v=STSv1; id=20240101"], POLICY.replace("enforce", "testing"), ["mx1.example.com"], "info", "testing"),
    (["v=STSv1; id=20240101"], "version: STSv1\nmode: enforce\n", [], "error", "invalid_policy"),
    (["v=STSv1; id=20240101"], None, [], "error", "policy_unreachable"),
    (["v=STSv1; id=2024-01-01"], POLICY, [], "error", "invalid_record"),
    ([], None, [], "info", "missing"),
])
def test_mta_sts(txt, policy, mx, level, reason):
    check = mr.judge_mta_sts(txt, policy_text=policy, fetch_error="http_404", mx_hosts=mx)
    assert (check.level, check.reason) == (level, reason)


@pytest.mark.parametrize(("txt", "level", "reason"), [
    (["v=TLSRPTv1; rua=mailto:tls@example.com"], "ok", "ok"),
    (["v=TLSRPTv1; rua=https://reports.example.com/tls"], "ok", "ok"),
    (["v=TLSRPTv1;"], "warning", "invalid_record"),
    ([], "info", "missing"),
])
def test_tls_rpt(txt, level, reason):
    check = mr.judge_tls_rpt(txt)
    assert (check.level, check.reason) == (level, reason)


def test_only_errors_are_the_worst_level_that_alarms():
    checks = [mr.judge_dmarc(["v=DMARC1; p=none"]), mr.judge_tls_rpt([])]
    assert mr.worst(checks) == "info"
    assert mr.worst([*checks, mr.judge_spf(["v=spf1 +all"])]) == "error"


def test_every_check_has_advice_in_english_and_japanese():
    checks = [
        mr.judge_mx("ok", [mr.MxHost(0, "")]), mr.judge_spf(["v=spf1 " + " ".join(
            f"include:s{n}.example.com" for n in range(11)) + " -all"]),
        mr.judge_dmarc(["v=DMARC1; p=none; rua=mailto:a@example.com"]), mr.judge_dkim("microsoft_365", {}),
        mr.judge_mta_sts(["v=STSv1; id=1"], policy_text=POLICY, mx_hosts=["mx9.example.com"]),
        mr.judge_tls_rpt([]), mr.judge_spf(None),
    ]
    for check in checks:
        with translation.override("en"):
            english = describe(check.to_dict())
        with translation.override("ja"):
            japanese = describe(check.to_dict())
        assert english["advice"] and "{" not in english["advice"], check
        assert japanese["advice"] != english["advice"] and japanese["label"] != english["label"], check
    with translation.override("en"):
        assert "11 DNS lookups; the limit is 10" in describe(checks[1].to_dict())["advice"]
        assert "mx9.example.com" in describe(checks[4].to_dict())["advice"]
