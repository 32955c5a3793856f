"""Pure judgment of a domain's mail records: MX, SPF, DMARC, DKIM, MTA-STS and TLS-RPT as found in DNS (and the
MTA-STS policy as fetched) -> one check per record: a level, a reason word, the record as found and facts.

No network here: diagnostics/probes/mail_records.py looks the records up and hands them over as text. The sentences
a person reads (and can hand to whoever manages the domain's DNS) are in mail_records_text.py.

Levels: ok; info (nothing wrong, worth knowing: p=none, no MTA-STS); warning (works, but weaker or fragile than it
should be); error (mail is refused, lost or marked as spam because of it); not_checked (DNS did not answer).
Only errors make the domain step a warning (mail_records_problem): the rest is shown, not alarmed about.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

OK, INFO, WARNING, ERROR, NOT_CHECKED = "ok", "info", "warning", "error", "not_checked"
RECORD_KINDS = ("mx", "spf", "dmarc", "dkim", "mta_sts", "tls_rpt")

# RFC 7208 4.6.4: at most 10 mechanisms and modifiers that cause DNS lookups.
SPF_LOOKUP_LIMIT = 10
_SPF_LOOKUP_TERMS = ("include", "a", "mx", "ptr", "exists", "redirect")

# DKIM selectors that providers document for custom domains (the key is published under
# <selector>._domainkey.<domain>). A provider not listed here: its selectors cannot be guessed.
DKIM_SELECTORS: dict[str, tuple[str, ...]] = {
    "gmail": ("google",),
    "google_workspace": ("google",),
    "microsoft_365": ("selector1", "selector2"),
    "outlook_com": ("selector1", "selector2"),
    "zoho": ("zmail", "zoho"),
    "fastmail": ("fm1", "fm2", "fm3"),
    "icloud": ("sig1",),
    "yahoo": ("s1024", "s2048"),
}


@dataclass
class Check:
    record: str  # one of RECORD_KINDS
    level: str
    reason: str
    found: list[str] = field(default_factory=list)  # the records as found, verbatim
    facts: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"record": self.record, "level": self.level, "reason": self.reason, "found": list(self.found),
                "facts": dict(self.facts)}


def worst(checks: Iterable[Check | Mapping[str, Any]]) -> str:
    order = [OK, NOT_CHECKED, INFO, WARNING, ERROR]
    levels = [c.level if isinstance(c, Check) else c.get("level", OK) for c in checks]
    return max(levels, key=order.index, default=OK)


# --- MX --------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class MxHost:
    preference: int
    exchange: str  # without the root dot, lower case; "" for the null MX's "."
    cname_target: str = ""  # the exchange is an alias (CNAME) of this name
    resolves: bool | None = None  # None: not looked up


_IP_LIKE = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$|:")


def judge_mx(status: str, hosts: Sequence[MxHost]) -> Check:
    """status: ok, nxdomain, no_answer, timeout/servfail/error (DNS trouble)."""
    found = [f"{h.preference} {h.exchange or '.'}" for h in hosts]
    if status == "nxdomain":
        return Check("mx", ERROR, "domain_not_found")
    if status == "no_answer":
        return Check("mx", WARNING, "missing")
    if status != "ok":
        return Check("mx", NOT_CHECKED, "dns_failed", facts={"status": status})
    if any(not h.exchange for h in hosts):
        # RFC 7505: a single "0 ." says the domain accepts no mail; mixed with others it is a mistake.
        reason = "null_mx" if len(hosts) == 1 else "null_mx_mixed"
        return Check("mx", ERROR, reason, found)
    addresses = [h.exchange for h in hosts if _IP_LIKE.search(h.exchange)]
    if addresses:
        return Check("mx", ERROR, "address_not_name", found, {"hosts": addresses})
    unresolved = [h.exchange for h in hosts if h.resolves is False]
    if unresolved and len(unresolved) == len(hosts):
        return Check("mx", ERROR, "hosts_do_not_resolve", found, {"hosts": unresolved})
    aliases = [h.exchange for h in hosts if h.cname_target]
    if aliases:
        # RFC 2181 10.3 / RFC 5321 5.1: an MX must name a host, not an alias. Most servers cope; some refuse.
        return Check("mx", WARNING, "points_to_cname", found, {"hosts": aliases})
    if unresolved:
        return Check("mx", WARNING, "some_hosts_do_not_resolve", found, {"hosts": unresolved})
    return Check("mx", OK, "ok", found, {"hosts": [h.exchange for h in hosts]})


# --- SPF -------------------------------------------------------------------------------------------------------

_SPF_MECHANISM = re.compile(
    r"^(?P<q>[+\-~?]?)(?P<name>all|include|a|mx|ptr|ip4|ip6|exists)(?P<arg>[:/].*)?$", re.I)
_SPF_MODIFIER = re.compile(r"^(?P<name>[a-z][a-z0-9_.\-]*)=(?P<value>.*)$", re.I)


def spf_records(txt_records: Iterable[str]) -> list[str]:
    """The TXT strings that are SPF records ("v=spf1" followed by a space or nothing, RFC 7208 4.5)."""
    return [t for t in txt_records if re.match(r"^v=spf1(\s|$)", t.strip(), re.I)]


@dataclass
class SpfTerms:
    terms: list[str]
    errors: list[str]
    lookups: list[tuple[str, str]]  # (term name, target or "") of the terms that cost a DNS lookup
    all_qualifier: str | None  # "+", "-", "~", "?" or None when there is no "all"
    redirect: str | None


def parse_spf(record: str) -> SpfTerms:
    """RFC 7208 syntax of one record: each term a mechanism or a modifier; unknown or malformed terms are errors."""
    terms = record.split()[1:]
    errors: list[str] = []
    lookups: list[tuple[str, str]] = []
    all_qualifier = None
    redirect = None
    for term in terms:
        mech = _SPF_MECHANISM.match(term)
        if mech:
            name, arg = mech.group("name").lower(), (mech.group("arg") or "")
            if name in ("include", "exists") and not arg.startswith(":"):
                errors.append(term)
                continue
            if name in ("ip4", "ip6") and not _valid_ip_arg(name, arg):
                errors.append(term)
                continue
            if name == "all":
                if arg:
                    errors.append(term)
                    continue
                all_qualifier = mech.group("q") or "+"
            if name in _SPF_LOOKUP_TERMS:
                lookups.append((name, arg[1:] if arg.startswith(":") else ""))
            continue
        mod = _SPF_MODIFIER.match(term)
        if mod:
            if mod.group("name").lower() == "redirect":
                redirect = mod.group("value")
                lookups.append(("redirect", redirect))
            continue
        errors.append(term)
    return SpfTerms(terms, errors, lookups, all_qualifier, redirect)


def _valid_ip_arg(name: str, arg: str) -> bool:
    import ipaddress

    if not arg.startswith(":"):
        return False
    try:
        ipaddress.ip_network(arg[1:], strict=False)
    except ValueError:
        return False
    return (":" in arg[1:]) == (name == "ip6")


def judge_spf(txt_records: Sequence[str] | None, *, lookup_count: int | None = None,
              nested_errors: Sequence[str] = ()) -> Check:
    """txt_records: the domain's TXT strings (None: DNS did not answer). lookup_count: DNS lookups counted
    through include/redirect (probes count them), None when not counted."""
    if txt_records is None:
        return Check("spf", NOT_CHECKED, "dns_failed")
    records = spf_records(txt_records)
    if not records:
        return Check("spf", WARNING, "missing")
    if len(records) > 1:
        # RFC 7208 4.5: more than one record is a permanent error: receivers treat the domain as having no SPF.
        return Check("spf", ERROR, "multiple", records)
    record = records[0]
    parsed = parse_spf(record)
    facts: dict[str, Any] = {"lookups": lookup_count if lookup_count is not None else len(parsed.lookups),
                             "limit": SPF_LOOKUP_LIMIT}
    if parsed.errors:
        return Check("spf", ERROR, "syntax", [record], {**facts, "terms": parsed.errors})
    if nested_errors:
        return Check("spf", ERROR, "include_broken", [record], {**facts, "includes": list(nested_errors)})
    if facts["lookups"] > SPF_LOOKUP_LIMIT:
        return Check("spf", ERROR, "too_many_lookups", [record], facts)
    if parsed.all_qualifier == "+":
        return Check("spf", ERROR, "pass_all", [record], facts)
    if parsed.all_qualifier is None and parsed.redirect is None:
        return Check("spf", WARNING, "no_all", [record], facts)
    if parsed.all_qualifier == "?":
        return Check("spf", WARNING, "neutral_all", [record], facts)
    return Check("spf", OK, "ok", [record], {**facts, "all": parsed.all_qualifier or "redirect"})


# --- DMARC -----------------------------------------------------------------------------------------------------

def parse_tags(record: str) -> dict[str, str]:
    """ "v=DMARC1; p=none; rua=mailto:a@b" -> {"v": "DMARC1", "p": "none", ...} (names lower-cased)."""
    tags: dict[str, str] = {}
    for part in record.split(";"):
        name, sep, value = part.partition("=")
        if sep:
            tags.setdefault(name.strip().lower(), value.strip())
    return tags


def judge_dmarc(txt_records: Sequence[str] | None) -> Check:
    if txt_records is None:
        return Check("dmarc", NOT_CHECKED, "dns_failed")
    records = [t for t in txt_records if re.match(r"^\s*v\s*=\s*DMARC1\s*(;|$)", t)]
    if not records:
        return Check("dmarc", WARNING, "missing")
    if len(records) > 1:
        return Check("dmarc", ERROR, "multiple", records)
    tags = parse_tags(records[0])
    policy = tags.get("p", "").lower()
    facts = {"policy": policy, "rua": _uris(tags.get("rua")), "ruf": _uris(tags.get("ruf")),
             "subdomain_policy": tags.get("sp", "").lower(), "pct": tags.get("pct", "100")}
    if policy not in ("none", "quarantine", "reject"):
        return Check("dmarc", ERROR, "invalid_policy", records, facts)
    if policy == "none":
        return Check("dmarc", INFO, "monitoring_only", records, facts)
    return Check("dmarc", OK, "ok", records, facts)


def _uris(value: str | None) -> list[str]:
    return [u.strip() for u in (value or "").split(",") if u.strip()]


# --- DKIM ------------------------------------------------------------------------------------------------------

def judge_dkim(provider_id: str | None, keys: Mapping[str, Sequence[str] | None]) -> Check:
    """keys: selector -> TXT strings at <selector>._domainkey (None: DNS did not answer, []: nothing there)."""
    selectors = DKIM_SELECTORS.get(provider_id or "")
    if not selectors:
        return Check("dkim", INFO, "selectors_unknown", facts={"provider": provider_id or ""})
    if all(found is None for found in keys.values()):
        return Check("dkim", NOT_CHECKED, "dns_failed", facts={"selectors": list(selectors)})
    published, revoked, found = [], [], []
    for selector, records in keys.items():
        for record in records or ():
            tags = parse_tags(record)
            if "p" not in tags and not record.lstrip().lower().startswith("v=dkim1"):
                continue
            found.append(f"{selector}._domainkey: {record}")
            (published if tags.get("p") else revoked).append(selector)
    facts = {"selectors": list(selectors), "published": published, "provider": provider_id}
    if published:
        return Check("dkim", OK, "ok", found, facts)
    if revoked:
        return Check("dkim", WARNING, "key_revoked", found, {**facts, "revoked": revoked})
    return Check("dkim", WARNING, "missing", found, facts)


# --- MTA-STS and TLS-RPT -----------------------------------------------------------------------------------------

@dataclass
class StsPolicy:
    version: str = ""
    mode: str = ""
    max_age: int | None = None
    mx: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def parse_sts_policy(text: str) -> StsPolicy:
    """RFC 8461 3.2: "key: value" lines (CRLF or LF); version STSv1, mode, max_age, one or more mx."""
    policy = StsPolicy()
    for line in text.splitlines():
        if not line.strip():
            continue
        key, sep, value = line.partition(":")
        key, value = key.strip().lower(), value.strip()
        if not sep:
            policy.errors.append(line[:80])
        elif key == "version":
            policy.version = value
        elif key == "mode":
            policy.mode = value.lower()
        elif key == "max_age":
            policy.max_age = int(value) if value.isdigit() else None
        elif key == "mx":
            policy.mx.append(value.lower().rstrip("."))
    if policy.version != "STSv1":
        policy.errors.append("version")
    if policy.mode not in ("enforce", "testing", "none"):
        policy.errors.append("mode")
    if policy.max_age is None:
        policy.errors.append("max_age")
    if not policy.mx and policy.mode != "none":
        policy.errors.append("mx")
    return policy


def sts_mx_matches(pattern: str, host: str) -> bool:
    """RFC 8461 4.1: "*.example.com" matches exactly one more label."""
    if pattern.startswith("*."):
        head, _, rest = host.partition(".")
        return bool(head) and rest == pattern[2:]
    return host == pattern


def judge_mta_sts(txt_records: Sequence[str] | None, *, policy_text: str | None = None,
                  fetch_error: str = "", mx_hosts: Sequence[str] = ()) -> Check:
    if txt_records is None:
        return Check("mta_sts", NOT_CHECKED, "dns_failed")
    records = [t for t in txt_records if re.match(r"^\s*v=STSv1\s*(;|$)", t)]
    if not records:
        return Check("mta_sts", INFO, "missing")
    if len(records) > 1:
        return Check("mta_sts", ERROR, "multiple", records)
    tags = parse_tags(records[0])
    facts: dict[str, Any] = {"id": tags.get("id", "")}
    if not re.fullmatch(r"[A-Za-z0-9]{1,32}", facts["id"]):
        return Check("mta_sts", ERROR, "invalid_record", records, facts)
    if policy_text is None:
        return Check("mta_sts", ERROR, "policy_unreachable", records, {**facts, "error": fetch_error})
    policy = parse_sts_policy(policy_text)
    found = [*records, policy_text.strip()[:2000]]
    facts.update(mode=policy.mode, max_age=policy.max_age, policy_mx=policy.mx)
    if policy.errors:
        return Check("mta_sts", ERROR, "invalid_policy", found, {**facts, "problems": policy.errors})
    uncovered = [h for h in mx_hosts if not any(sts_mx_matches(p, h) for p in policy.mx)]
    if uncovered and policy.mode == "enforce":
        # Senders that enforce the policy will refuse to deliver to these MX hosts.
        return Check("mta_sts", ERROR, "mx_not_covered", found, {**facts, "hosts": uncovered})
    if uncovered and policy.mode == "testing":
        return Check("mta_sts", WARNING, "mx_not_covered_testing", found, {**facts, "hosts": uncovered})
    if policy.mode == "testing":
        return Check("mta_sts", INFO, "testing", found, facts)
    if policy.mode == "none":
        return Check("mta_sts", INFO, "mode_none", found, facts)
    return Check("mta_sts", OK, "ok", found, facts)


def judge_tls_rpt(txt_records: Sequence[str] | None) -> Check:
    if txt_records is None:
        return Check("tls_rpt", NOT_CHECKED, "dns_failed")
    records = [t for t in txt_records if re.match(r"^\s*v=TLSRPTv1\s*(;|$)", t)]
    if not records:
        return Check("tls_rpt", INFO, "missing")
    if len(records) > 1:
        return Check("tls_rpt", WARNING, "multiple", records)
    rua = _uris(parse_tags(records[0]).get("rua"))
    if not rua or not all(u.startswith(("mailto:", "https:")) for u in rua):
        return Check("tls_rpt", WARNING, "invalid_record", records, {"rua": rua})
    return Check("tls_rpt", OK, "ok", records, {"rua": rua})
