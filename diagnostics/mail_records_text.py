"""What each mail-record check means, in sentences a person can hand to whoever manages the domain's DNS.

Pure: a check (diagnostics.mail_records.Check, or its dict as stored in a step) -> label, level label and advice,
in the active language.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext_lazy as _

RECORD_LABELS = {
    "mx": _("Mail servers (MX)"),
    "spf": _("Allowed senders (SPF)"),
    "dmarc": _("Sender policy (DMARC)"),
    "dkim": _("Signing keys (DKIM)"),
    "mta_sts": _("Encrypted delivery (MTA-STS)"),
    "tls_rpt": _("Delivery reports (TLS-RPT)"),
}
LEVEL_LABELS = {
    "ok": _("OK"),
    "info": _("Good to know"),
    "warning": _("Warning"),
    "error": _("Problem"),
    "not_checked": _("Not checked"),
}

_DNS_FAILED = _("The DNS servers did not answer, so this record could not be checked. Try again later.")

_TEXTS: dict[tuple[str, str], Any] = {
    ("mx", "ok"): _("The domain names its mail servers correctly."),
    ("mx", "domain_not_found"): _("The domain does not exist in DNS, so no mail can reach it. Check the spelling, "
                                  "or register the domain."),
    ("mx", "missing"): _("The domain has no MX record. Some senders then deliver to the domain's own address, "
                         "others give up. Publish MX records that name the mail provider's servers."),
    ("mx", "null_mx"): _("The domain publishes a \"null MX\" (RFC 7505: \"0 .\"), which says it receives no mail "
                         "at all: every message to it is refused. If mail should arrive, replace it with the "
                         "provider's MX records."),
    ("mx", "null_mx_mixed"): _("A \"null MX\" (\"0 .\", which means \"no mail\") is published next to real MX "
                               "records. Remove the \"0 .\" record."),
    ("mx", "address_not_name"): _("An MX record names an IP address ({hosts}) instead of a host name. MX records "
                                  "must name a host; senders ignore or refuse them. Use the server's name."),
    ("mx", "hosts_do_not_resolve"): _("None of the mail servers named in MX ({hosts}) has an address, so no mail "
                                      "can be delivered. Correct the names or add their address records."),
    ("mx", "points_to_cname"): _("An MX record names an alias (CNAME): {hosts}. The rules say an MX must name "
                                 "the host itself; most senders cope, some refuse. Put the alias's target in the "
                                 "MX record."),
    ("mx", "some_hosts_do_not_resolve"): _("Some mail servers named in MX have no address ({hosts}). Remove them "
                                           "or correct their names."),
    ("spf", "ok"): _("One valid SPF record, within the limit of {limit} DNS lookups ({lookups} used)."),
    ("spf", "missing"): _("There is no SPF record, so receivers cannot tell which servers may send mail for the "
                          "domain, and its mail is more likely to land in spam. Publish the SPF record your mail "
                          "provider gives (a TXT record starting with \"v=spf1\")."),
    ("spf", "multiple"): _("There is more than one SPF record. Receivers then treat the domain as having none. "
                           "Merge them into one TXT record starting with \"v=spf1\"."),
    ("spf", "syntax"): _("The SPF record has terms that are not valid: {terms}. Receivers reject the whole record. "
                         "Correct or remove them."),
    ("spf", "include_broken"): _("The SPF record includes domains that publish no valid SPF record: {includes}. "
                                 "Receivers treat that as an error. Remove or correct those includes."),
    ("spf", "too_many_lookups"): _("The SPF record needs {lookups} DNS lookups; the limit is {limit}. Receivers "
                                   "stop at the limit and reject the record. Remove includes of services no "
                                   "longer used, or replace some with ip4:/ip6: ranges."),
    ("spf", "pass_all"): _("The SPF record ends in \"+all\" (or \"all\"), which allows every server in the world "
                           "to send as this domain. Change it to \"~all\" or \"-all\"."),
    ("spf", "no_all"): _("The SPF record has no \"all\" at the end, so mail from other servers is not marked. "
                         "End it with \"~all\" or \"-all\"."),
    ("spf", "neutral_all"): _("The SPF record ends in \"?all\", which says nothing about other servers. End it "
                              "with \"~all\" or \"-all\"."),
    ("dmarc", "ok"): _("DMARC policy \"{policy}\": receivers act on mail that fails the checks."),
    ("dmarc", "missing"): _("There is no DMARC record (a TXT record at _dmarc of the domain). Large providers "
                            "expect one from senders. Start with \"v=DMARC1; p=none; rua=mailto:(an address that "
                            "collects reports)\"."),
    ("dmarc", "multiple"): _("There is more than one DMARC record; receivers then ignore DMARC. Keep one."),
    ("dmarc", "invalid_policy"): _("The DMARC record has no valid policy (p=none, quarantine or reject), so "
                                   "receivers ignore it. Correct the p= tag."),
    ("dmarc", "monitoring_only"): _("DMARC policy \"none\" is monitoring only: receivers send reports but deliver "
                                    "failing mail as usual. Once the reports show that all your senders pass, "
                                    "move to \"quarantine\", then \"reject\"."),
    ("dkim", "ok"): _("A signing key is published for the provider's selector ({published})."),
    ("dkim", "selectors_unknown"): _("DKIM keys are published under names the sender chooses; for this provider "
                                     "they cannot be guessed. Ask your mail provider which selector it signs "
                                     "with, and check that the key is published."),
    ("dkim", "missing"): _("No signing key was found at the selectors this provider documents ({selectors}). "
                           "Without DKIM, mail fails DMARC more often. Turn on DKIM signing in the provider's "
                           "admin settings and publish the record it gives."),
    ("dkim", "key_revoked"): _("The key at {revoked} is empty (revoked). Publish the current key from your mail "
                               "provider's admin settings."),
    ("mta_sts", "ok"): _("Senders must deliver to this domain over a verified encrypted connection "
                         "(mode \"{mode}\")."),
    ("mta_sts", "missing"): _("No MTA-STS policy: senders may deliver without encryption if an attacker "
                              "interferes. Optional, but recommended for domains that handle sensitive mail."),
    ("mta_sts", "multiple"): _("There is more than one _mta-sts record; senders ignore MTA-STS then. Keep one."),
    ("mta_sts", "invalid_record"): _("The _mta-sts record is not valid (it needs \"v=STSv1; id=...\" with a short "
                                     "letters-and-digits id). Correct it."),
    ("mta_sts", "policy_unreachable"): _("The _mta-sts record says there is a policy, but it could not be fetched "
                                         "from https://mta-sts.(domain)/.well-known/mta-sts.txt ({error}). "
                                         "Publish the policy file there, or remove the record."),
    ("mta_sts", "invalid_policy"): _("The MTA-STS policy file is not valid ({problems}). It needs the lines "
                                     "version: STSv1, mode, mx and max_age."),
    ("mta_sts", "mx_not_covered"): _("The MTA-STS policy is enforced but does not list these mail servers: "
                                     "{hosts}. Senders that follow it will refuse to deliver to them. Add them to "
                                     "the policy's mx lines."),
    ("mta_sts", "mx_not_covered_testing"): _("The MTA-STS policy (testing) does not list these mail servers: "
                                             "{hosts}. Add them before switching to enforce."),
    ("mta_sts", "testing"): _("The MTA-STS policy is in testing mode: problems are reported, nothing is refused "
                              "yet."),
    ("mta_sts", "mode_none"): _("The MTA-STS policy is switched off (mode none)."),
    ("tls_rpt", "ok"): _("Reports about encrypted delivery go to {rua}."),
    ("tls_rpt", "missing"): _("No TLS-RPT record: nobody is told when senders fail to deliver securely. Optional; "
                              "useful together with MTA-STS."),
    ("tls_rpt", "multiple"): _("There is more than one TLS-RPT record; keep one."),
    ("tls_rpt", "invalid_record"): _("The TLS-RPT record needs rua= with a mailto: or https: address."),
}


def _text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) or "—"
    return "" if value is None else str(value)


def describe(check: Mapping[str, Any]) -> dict[str, Any]:
    """label, level label and the advice sentence of one stored check."""
    record, reason = check.get("record", ""), check.get("reason", "")
    template = _DNS_FAILED if reason == "dns_failed" else _TEXTS.get((record, reason))
    facts = {key: _text(value) for key, value in (check.get("facts") or {}).items()}
    try:
        advice = str(template).format(**facts) if template is not None else ""
    except (KeyError, IndexError, ValueError):
        advice = str(template)
    return {"record": record, "label": str(RECORD_LABELS.get(record, record)), "level": check.get("level", ""),
            "level_label": str(LEVEL_LABELS.get(check.get("level", ""), "")), "advice": advice,
            "found": list(check.get("found") or []), "facts": dict(check.get("facts") or {})}
