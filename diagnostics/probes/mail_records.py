"""Looking up a domain's mail records (MX, SPF with its includes, DMARC, DKIM, MTA-STS, TLS-RPT) and fetching the
MTA-STS policy over HTTPS. The judgment is diagnostics.mail_records (pure); this module only asks.

Every DNS query is bounded by DNS_TIMEOUT and the run's deadline; after one query times out the rest are not sent
(the checks read "not checked"), so a dead resolver costs one timeout, not ten. The policy is fetched through the
same guarded connect as every probe (policy-checked address, verified TLS for mta-sts.<domain>, size cap, no
redirects: RFC 8461 3.3), on the one port the MTA-STS standard uses.
"""
from __future__ import annotations

import dataclasses
import ssl
import time
from collections.abc import Sequence
from typing import Any

import dns.exception
import dns.name
import dns.rdatatype
import dns.resolver

from diagnostics import mail_records as judge
from diagnostics.policy import OutboundPolicy
from diagnostics.probes import tls
from diagnostics.probes.dns import resolver_for
from diagnostics.probes.net import ConnectionClosed, LineTooLong, ProbeOptions, ReadTimeout, Transcript, open_channel
from diagnostics.results import Code, ProbeError, StepResult

MTA_STS_PORT = 443
MAX_POLICY_BYTES = 64 * 1024  # RFC 8461 3.2: a policy is small; more than this is not one
MAX_SPF_RECORDS = 12  # records fetched while following include/redirect (past the limit the count is known)
MAX_MX_HOSTS = 5


class _Dns:
    """TXT/MX/A lookups sharing one time budget; None means "DNS did not answer", [] means "nothing there"."""

    def __init__(self, options: ProbeOptions, *, timeout: float):
        self.resolver = resolver_for(options.nameservers)
        self.timeout = timeout
        self.deadline = options.deadline
        self.down = False

    def _resolve(self, name: str, rdtype: dns.rdatatype.RdataType) -> dns.resolver.Answer | list | None:
        """An answer (maybe without records), [] for NXDOMAIN or a bad name, None when DNS did not answer."""
        if self.down:
            return None
        lifetime = self.timeout
        if self.deadline is not None:
            lifetime = min(lifetime, self.deadline - time.monotonic())
        if lifetime <= 0:
            self.down = True
            return None
        try:
            qname = dns.name.from_text(name, origin=dns.name.root)
            return self.resolver.resolve(qname, rdtype, lifetime=lifetime, search=False, raise_on_no_answer=False)
        except dns.resolver.NXDOMAIN:
            return []
        except (dns.exception.Timeout, dns.resolver.NoNameservers):
            self.down = True  # one dead resolver answer is enough: the rest would wait as long
            return None
        except (dns.exception.DNSException, ValueError):
            return []

    def txt(self, name: str) -> list[str] | None:
        answer = self._resolve(name, dns.rdatatype.TXT)
        if answer is None:
            return None
        if isinstance(answer, list) or answer.rrset is None:
            return []
        # A TXT record may be split in 255-byte strings: they are one value (RFC 7208 3.3).
        return [b"".join(r.strings).decode("utf-8", errors="replace") for r in answer]

    def mx(self, domain: str) -> tuple[str, list[judge.MxHost]]:
        answer = self._resolve(domain, dns.rdatatype.MX)
        if answer is None:
            return "dns_failed", []
        if isinstance(answer, list):
            return "nxdomain", []
        if answer.rrset is None:
            return "no_answer", []
        hosts = []
        for record in sorted(answer, key=lambda r: (r.preference, r.exchange.to_text())):
            exchange = "" if record.exchange == dns.name.root else record.exchange.to_text(True).lower()
            hosts.append(judge.MxHost(record.preference, exchange))
        return "ok", hosts

    def host_facts(self, host: str) -> tuple[bool | None, str]:
        """(has an address, the alias target when the name is a CNAME)."""
        answer = self._resolve(host, dns.rdatatype.A)
        if answer is None:
            return None, ""
        if isinstance(answer, list):
            return False, ""
        canonical = answer.canonical_name.to_text(True).lower()
        alias = canonical if canonical != host else ""
        if answer.rrset is not None:
            return True, alias
        aaaa = self._resolve(host, dns.rdatatype.AAAA)
        if aaaa is None:
            return None, alias
        return (not isinstance(aaaa, list) and aaaa.rrset is not None), alias


def _mx_check(lookups: _Dns, domain: str) -> tuple[judge.Check, list[str]]:
    status, hosts = lookups.mx(domain)
    checked = []
    for host in hosts:
        if host.exchange and not judge._IP_LIKE.search(host.exchange) and len(checked) < MAX_MX_HOSTS:
            resolves, alias = lookups.host_facts(host.exchange)
            host = dataclasses.replace(host, resolves=resolves, cname_target=alias)
        checked.append(host)
    return judge.judge_mx(status, checked), [h.exchange for h in checked if h.exchange]


def _spf_check(lookups: _Dns, domain: str, txt: list[str] | None) -> judge.Check:
    records = judge.spf_records(txt or [])
    if txt is None or len(records) != 1:
        return judge.judge_spf(txt)
    count, broken = 0, []
    queue = [(domain, records[0])]
    fetched = 1
    while queue and count <= judge.SPF_LOOKUP_LIMIT:
        _name, record = queue.pop(0)
        parsed = judge.parse_spf(record)
        count += len(parsed.lookups)
        for term, target in parsed.lookups:
            if term not in ("include", "redirect") or "%" in target or fetched >= MAX_SPF_RECORDS:
                continue  # macros depend on the sender: they cannot be followed here
            nested = judge.spf_records(lookups.txt(target) or [])
            fetched += 1
            if len(nested) != 1:
                broken.append(target)
            else:
                queue.append((target, nested[0]))
    return judge.judge_spf(txt, lookup_count=count, nested_errors=broken)


def fetch_sts_policy(domain: str, *, options: ProbeOptions, port: int = MTA_STS_PORT) -> tuple[str | None, str]:
    """(policy text, "") or (None, a reason word). Only `port` is allowed for this connection, whatever the mail
    ports are; the address is checked by the same outbound policy as every probe."""
    host = f"mta-sts.{domain}"
    https = dataclasses.replace(
        options, policy=OutboundPolicy(allowed_networks=options.policy.allowed_networks,
                                       allowed_ports=frozenset({port})),
        step_timeout=min(options.step_timeout, 10.0),
    )
    channel = None
    try:
        channel = open_channel(host, port, options=https, transcript=Transcript(secrets=[], limit=40))
        channel.start_tls(tls.make_context(ca_file=options.ca_file), server_hostname=host)
        channel.send(f"GET /.well-known/mta-sts.txt HTTP/1.0\r\nHost: {host}\r\nUser-Agent: mailbind\r\n"
                     "Accept: text/plain\r\n\r\n".encode("ascii"))
        status = channel.readline()
        parts = status.split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/"):
            return None, "not_http"
        code = parts[1]
        headers: dict[str, str] = {}
        while line := channel.readline():
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if code.startswith("3"):
            return None, "redirect"  # RFC 8461 3.3: redirects must not be followed
        if code != "200":
            return None, f"http_{code}"
        if not headers.get("content-type", "").lower().startswith("text/plain"):
            return None, "not_text_plain"
        body = bytearray()
        while True:
            try:
                body += channel.read_raw_line() + b"\n"
            except ConnectionClosed:
                break
            if len(body) > MAX_POLICY_BYTES:
                return None, "too_large"
        return body.decode("utf-8", errors="replace"), ""
    except ProbeError as exc:
        return None, {Code.TARGET_NOT_ALLOWED: "target_not_allowed", Code.DNS_NOT_FOUND: "no_such_host",
                      Code.TIMEOUT: "timeout"}.get(exc.code, str(exc.code))
    except ssl.SSLCertVerificationError:
        return None, "certificate_invalid"
    except ssl.SSLError:
        return None, "tls_failed"
    except ReadTimeout:
        return None, "timeout"
    except LineTooLong:
        return None, "too_large"
    except (ConnectionClosed, OSError):
        return None, "connection_failed"
    finally:
        if channel is not None:
            channel.close()


def check_mail_records(domain: str, *, provider_id: str | None, options: ProbeOptions, dns_timeout: float,
                       https_port: int = MTA_STS_PORT, skip_dns: bool = False) -> dict[str, Any]:
    """Every record of `domain`, judged: {"domain", "level", "checks": [...]}. skip_dns: DNS already failed for
    this domain (every check reads "not checked" at once)."""
    lookups = _Dns(options, timeout=dns_timeout)
    lookups.down = skip_dns
    mx, mx_hosts = _mx_check(lookups, domain)
    apex = lookups.txt(domain)
    checks = [mx, _spf_check(lookups, domain, apex), judge.judge_dmarc(lookups.txt(f"_dmarc.{domain}"))]
    selectors: Sequence[str] = judge.DKIM_SELECTORS.get(provider_id or "", ())
    checks.append(judge.judge_dkim(provider_id, {s: lookups.txt(f"{s}._domainkey.{domain}") for s in selectors}))
    sts = lookups.txt(f"_mta-sts.{domain}")
    policy, error = (None, "")
    if sts and any(record.strip().startswith("v=STSv1") for record in sts):
        policy, error = fetch_sts_policy(domain, options=options, port=https_port)
    checks.append(judge.judge_mta_sts(sts, policy_text=policy, fetch_error=error, mx_hosts=mx_hosts))
    checks.append(judge.judge_tls_rpt(lookups.txt(f"_smtp._tls.{domain}")))
    return {"domain": domain, "level": judge.worst(checks), "checks": [c.to_dict() for c in checks]}


def add_mail_records(result: StepResult, *, domain: str, provider_id: str | None, options: ProbeOptions,
                     dns_timeout: float, https_port: int = MTA_STS_PORT, skip_dns: bool = False) -> None:
    """The domain step's records: in its details, and a warning (mail_records_problem) when one is an error and
    nothing more important is already said."""
    records = check_mail_records(domain, provider_id=provider_id, options=options, dns_timeout=dns_timeout,
                                 https_port=https_port, skip_dns=skip_dns)
    result.details["records"] = records
    if records["level"] == judge.ERROR and result.code == Code.OK:
        result.code = Code.MAIL_RECORDS_PROBLEM
