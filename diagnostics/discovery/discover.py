"""The network discoverer mailsettings calls when local knowledge does not know a domain.

Steps 2-5 of the lookup order start together: the domain's autoconfig file and its well-known path (https; http
only when DISCOVERY_ALLOW_HTTP, and marked), the SRV records, the MX step (local knowledge of the preferred MX
host, then the autoconfig file and the online ISPDB of its base domains), and the online ISPDB
(DISCOVERY_ISPDB_URL, off by default). The result of the highest-priority one that found settings is used: each is
waited for in priority order, and lower ones still running are abandoned (each ends by the deadline anyway).
Only when all of them found nothing does verified guessing run (step 6), with what is left of the deadline and
rate-limited per user and per target domain. Everything connects through diagnostics' outbound policy.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from django.conf import settings

from diagnostics.discovery import autoconfig, ratelimit, records
from diagnostics.discovery.autoconfig import Found
from diagnostics.discovery.guess import ALL_PROBE_PORTS, guess
from diagnostics.probes.net import ProbeOptions
from mailsettings import candidates as cands
from mailsettings.addresses import Address
from mailsettings.candidates import Candidate
from mailsettings.discovery import NetworkAnswer, mx_candidates
from mailsettings.domains import base_and_next
from mailsettings.ispdb import ConfigServer

logger = logging.getLogger(__name__)


def _options(*, ports: frozenset[int], deadline: float, timeout: float) -> ProbeOptions:
    return ProbeOptions.build(
        allowed_networks=settings.DIAGNOSTICS_ALLOWED_NETWORKS, allowed_ports=ports, deadline=deadline,
        connect_timeout=min(settings.DIAGNOSTICS_CONNECT_TIMEOUT, timeout), step_timeout=timeout,
        ca_file=settings.DIAGNOSTICS_CA_FILE or None, nameservers=tuple(settings.DNS_NAMESERVERS),
    )


def _web_options(deadline: float) -> ProbeOptions:
    allowed = {443, 80} if settings.DISCOVERY_ALLOW_HTTP else {443}
    return _options(ports=frozenset(allowed), deadline=deadline, timeout=settings.DISCOVERY_FETCH_TIMEOUT)


def _fetch(url: str, *, source: str, domain: str, deadline: float, extra: tuple[dict, ...] = ()) -> Found:
    return autoconfig.fetch_config(
        url, source=source, domain=domain, options=_web_options(deadline), max_bytes=settings.DISCOVERY_MAX_BYTES,
        timeout=settings.DISCOVERY_FETCH_TIMEOUT, allow_http=settings.DISCOVERY_ALLOW_HTTP,
        default_ttl=settings.DISCOVERY_CACHE_TTL, extra_evidence=extra)


def _srv(domain: str, *, deadline: float) -> Found:
    found: dict[str, list[records.SrvRecord]] = {}
    with ThreadPoolExecutor(max_workers=len(records.SRV_SERVICES), thread_name_prefix="discovery-srv") as pool:
        futures = {service: pool.submit(records.lookup_srv, domain, service, protocol, security,
                                        nameservers=settings.DNS_NAMESERVERS, deadline=deadline,
                                        limit=settings.DNS_TIMEOUT)
                   for service, protocol, security in records.SRV_SERVICES}
        for service, future in futures.items():
            found[service] = future.result()
    incoming = [r for s, _p, _x in records.SRV_SERVICES[:4] for r in found[s]]
    outgoing = [r for s, _p, _x in records.SRV_SERVICES[4:] for r in found[s]]
    if not incoming:
        return Found()

    def server(record: records.SrvRecord) -> ConfigServer:
        return ConfigServer(protocol=record.protocol, host=record.target, port=record.port,
                            security=record.security, authentication=("password-cleartext",))

    def evidence(record: records.SrvRecord) -> dict:
        return {"kind": "srv", "record": f"{record.service}.{domain}", "target": record.target, "port": record.port,
                "priority": record.priority, "weight": record.weight}

    out = server(outgoing[0]) if outgoing else None
    out_evidence = (evidence(outgoing[0]),) if outgoing else ()
    candidates = [Candidate(incoming=server(r), outgoing=out, source=cands.SRV, evidence=(evidence(r), *out_evidence))
                  for r in incoming]
    return Found(candidates=candidates, ttl=min(r.ttl for r in incoming + outgoing))


def _mx(address: Address, *, deadline: float) -> tuple[Found, records.MxAnswer]:
    domain = address.domain
    answer = records.lookup_mx(domain, nameservers=settings.DNS_NAMESERVERS, deadline=deadline,
                               limit=settings.DNS_TIMEOUT)
    if answer.status != records.MX_OK:
        return Found(notes=[("dns_failed", {"domain": domain, "status": answer.status})],
                     finished=answer.status != records.MX_TIMEOUT), answer
    local = mx_candidates(list(answer.hosts))
    if local:
        return Found(candidates=local, ttl=answer.ttl), answer
    found = Found(ttl=answer.ttl)
    for name in base_and_next(answer.hosts[0]):
        if name == domain:
            continue  # the domain's own files are steps 2 and 5
        extra = ({"kind": "mx", "host": answer.hosts[0], "domain": name},)
        query = f"?emailaddress={address.normalized}" if address.local else ""
        urls = [f"https://autoconfig.{name}/mail/config-v1.1.xml{query}"]
        if settings.DISCOVERY_ISPDB_URL:
            urls.append(autoconfig.ispdb_online_url(settings.DISCOVERY_ISPDB_URL, name))
        for url in urls:
            result = _fetch(url, source=cands.MX, domain=name, deadline=deadline, extra=extra)
            found.notes += result.notes
            if result.candidates:
                return Found(candidates=result.candidates, notes=found.notes,
                             ttl=_min_ttl(answer.ttl, result.ttl)), answer
    return found, answer


def _min_ttl(*ttls: int | None) -> int | None:
    known = [t for t in ttls if t is not None]
    return min(known) if known else None


def discover(*, address: Address, deadline: float, actor_id: int | None, probe: bool) -> NetworkAnswer:
    domain = address.domain
    jobs: list[tuple[str, object]] = []
    pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="discovery")
    try:
        for source, url in autoconfig.autoconfig_urls(domain, address.normalized,
                                                      allow_http=settings.DISCOVERY_ALLOW_HTTP):
            jobs.append((source, pool.submit(_fetch, url, source=source, domain=domain, deadline=deadline)))
        jobs.append((cands.SRV, pool.submit(_srv, domain, deadline=deadline)))
        mx_future = pool.submit(_mx, address, deadline=deadline)
        jobs.append((cands.MX, mx_future))
        if settings.DISCOVERY_ISPDB_URL:
            url = autoconfig.ispdb_online_url(settings.DISCOVERY_ISPDB_URL, domain)
            jobs.append((cands.ISPDB, pool.submit(_fetch, url, source=cands.ISPDB, domain=domain,
                                                  deadline=deadline)))
        answer = NetworkAnswer(ttl=settings.DISCOVERY_CACHE_TTL)
        winner: Found | None = None
        for index, (_source, future) in enumerate(jobs):
            found = _found(_result(future, deadline=deadline))
            if found is None:
                # The deadline: what the methods after this one found by now still counts, best first.
                answer.complete = False
                for _later, later in jobs[index + 1:]:
                    done = _found(_result(later, deadline=0.0)) if later.done() else None
                    if done is not None:
                        answer.notes += done.notes
                        winner = winner or (done if done.candidates else None)
                break
            answer.notes += found.notes
            answer.complete = answer.complete and found.finished
            if found.candidates:
                winner = found
                break
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    if mx_future.done() and not mx_future.cancelled() and mx_future.exception() is None:
        answer.mx = list(mx_future.result()[1].hosts)
    if winner is not None:
        answer.candidates = winner.candidates
        answer.ttl = min(answer.ttl, winner.ttl or answer.ttl)
        answer.notes = [n for n in answer.notes if n[0] != "dns_failed"]
    elif probe:
        _guess_into(answer, domain=domain, deadline=deadline, actor_id=actor_id)
    if not answer.complete:
        answer.notes.append(("deadline", {"seconds": f"{settings.DISCOVERY_DEADLINE:g}"}))
    return answer


def _found(result) -> Found | None:
    return result[0] if isinstance(result, tuple) else result  # the MX job also returns its MX answer


def _result(future: Future, *, deadline: float):
    try:
        return future.result(timeout=max(0.0, deadline - time.monotonic()))
    except FutureTimeout:
        return None
    except Exception:  # a bug in one method must not cost the person the others' answers
        logger.exception("a discovery method failed")
        return Found(finished=False)


def _guess_into(answer: NetworkAnswer, *, domain: str, deadline: float, actor_id: int | None) -> None:
    answer.probed = True
    if time.monotonic() >= deadline:
        answer.complete = False
        return
    user_ok = actor_id is None or ratelimit.take("user", str(actor_id), settings.DISCOVERY_PROBE_RATE_USER)
    if not user_ok or not ratelimit.take("domain", domain, settings.DISCOVERY_PROBE_RATE_DOMAIN):
        answer.notes.append(("probe_rate_limited", {}))
        answer.probed = False  # a later caller may still probe
        answer.ttl = min(answer.ttl, 60)
        return
    options = _options(ports=ALL_PROBE_PORTS, deadline=deadline, timeout=settings.DISCOVERY_PROBE_TIMEOUT)
    result = guess(domain, options=options, deadline=deadline)
    answer.complete = answer.complete and result.finished
    answer.candidates = result.candidates
    if not result.candidates:
        answer.notes.append(("probe_failed", {"domain": domain}))
        answer.ttl = min(answer.ttl, 300)  # nothing answered: a server may be switched on soon
