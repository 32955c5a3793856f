"""Verified guessing: probe the usual server names of a domain and suggest only what answered.

Hosts as Thunderbird guesses them: incoming imap.<d> (IMAP), pop3.<d> and pop.<d> (POP3), mail.<d> and <d> (both);
outgoing smtp.<d>, mail.<d>, <d>. Ports: IMAP 993 (TLS) and 143 (STARTTLS), POP3 995 and 110, SMTP 465 and 587.
Every attempt is a real session of the protocol's probe (greeting and its capability command: CAPABILITY, CAPA,
EHLO; STARTTLS must be advertised and the certificate verified), through the outbound policy, started in rank
order a little apart and all bounded by the discovery's deadline.

Rank (best first): TLS before plain, IMAP before POP3, implicit TLS before STARTTLS, then the host order. A
STARTTLS port whose server does not offer STARTTLS counts as a plain-text find, ranked after every TLS one, without a
connection of its own. The winner is the first attempt in rank order that answered once every better-ranked one
failed; at the deadline, the best one that answered by then.
"""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field

from diagnostics.probes import imap, pop3, smtp
from diagnostics.probes.net import ProbeOptions
from diagnostics.results import Code, SessionResult, Step
from mailsettings import candidates as cands
from mailsettings import ports
from mailsettings.candidates import Candidate
from mailsettings.ispdb import ConfigServer

PROBE_PORTS = {
    ports.IMAP: ((993, ports.SSL), (143, ports.STARTTLS)),
    ports.POP3: ((995, ports.SSL), (110, ports.STARTTLS)),
    ports.SMTP: ((465, ports.SSL), (587, ports.STARTTLS)),
}
ALL_PROBE_PORTS = frozenset(port for pairs in PROBE_PORTS.values() for port, _security in pairs)
_MODULES = {ports.IMAP: imap, ports.POP3: pop3, ports.SMTP: smtp}


def incoming_hosts(domain: str) -> list[tuple[str, tuple[str, ...]]]:
    return [(f"imap.{domain}", (ports.IMAP,)), (f"pop3.{domain}", (ports.POP3,)), (f"pop.{domain}", (ports.POP3,)),
            (f"mail.{domain}", (ports.IMAP, ports.POP3)), (domain, (ports.IMAP, ports.POP3))]


def outgoing_hosts(domain: str) -> list[str]:
    return [f"smtp.{domain}", f"mail.{domain}", domain]


@dataclass(frozen=True)
class Attempt:
    protocol: str
    host: str
    port: int
    security: str
    rank: tuple


@dataclass
class Outcome:
    attempt: Attempt
    answered: bool = False  # the protocol answered as asked (TLS verified where asked)
    plain_only: bool = False  # a STARTTLS port that answered without offering STARTTLS
    connected: bool = False  # a TCP connection was attempted (the name resolved and the policy allowed it)
    code: str = ""
    evidence: dict = field(default_factory=dict)


def plan(domain: str) -> tuple[list[Attempt], list[Attempt]]:
    """Incoming and outgoing attempts, each in rank order."""
    incoming = []
    for index, (host, protocols) in enumerate(incoming_hosts(domain)):
        for protocol in protocols:
            for port, security in PROBE_PORTS[protocol]:
                rank = (protocol != ports.IMAP, security != ports.SSL, index)
                incoming.append(Attempt(protocol, host, port, security, rank))
    outgoing = [Attempt(ports.SMTP, host, port, security, (security != ports.SSL, index))
                for index, host in enumerate(outgoing_hosts(domain)) for port, security in PROBE_PORTS[ports.SMTP]]
    return sorted(incoming, key=lambda a: a.rank), sorted(outgoing, key=lambda a: a.rank)


def probe_one(attempt: Attempt, *, options: ProbeOptions) -> Outcome:
    session: SessionResult = _MODULES[attempt.protocol].probe_session(
        host=attempt.host, port=attempt.port, security=attempt.security, options=options)
    outcome = Outcome(attempt=attempt, connected=session.step(Step.PORT) is not None, code=str(session.code))
    greeting = session.step(Step.GREETING)
    tls_step = session.step(Step.TLS)
    if session.failed is None:
        outcome.answered = True
    elif (attempt.security == ports.STARTTLS and greeting is not None and greeting.ok and tls_step is not None
          and tls_step.code == Code.STARTTLS_UNAVAILABLE):
        outcome.plain_only = True
    if outcome.answered or outcome.plain_only:
        capabilities = (tls_step.details.get("capabilities") if tls_step and tls_step.ok else None) or (
            greeting.details.get("capabilities") if greeting else None) or []
        outcome.evidence = {
            "kind": "probe", "protocol": attempt.protocol, "host": attempt.host, "port": attempt.port,
            "security": attempt.security if outcome.answered else ports.NONE,
            "capabilities": sorted(str(c) for c in capabilities)[:40],
            **({"tls_version": tls_step.details.get("tls_version")} if tls_step and tls_step.ok else {}),
        }
    return outcome


@dataclass
class GuessResult:
    candidates: list[Candidate]
    attempts: int  # probe sessions started
    connections: int  # of them, those that opened a TCP connection (their name resolved, the policy allowed it)
    finished: bool  # every attempt ended before the deadline


def _server(outcome: Outcome) -> ConfigServer:
    attempt = outcome.attempt
    security = attempt.security if outcome.answered else ports.NONE
    return ConfigServer(protocol=attempt.protocol, host=attempt.host, port=attempt.port, security=security,
                        authentication=("password-cleartext",))


def _pick(futures: list[tuple[Attempt, Future]], *, deadline: float) -> tuple[list[Outcome], bool]:
    """Outcomes that answered, best first: walk the rank order waiting for each attempt until one answered (every
    better one has failed by then), then add the ones already done. Plain-text finds come after every TLS one."""
    answered: list[Outcome] = []
    plain: list[Outcome] = []
    finished = True
    for _attempt, future in futures:
        try:
            outcome = future.result(timeout=max(0.0, deadline - time.monotonic()))
        except FutureTimeout:
            finished = False
            break
        if outcome.answered:
            answered.append(outcome)
            break
        if outcome.plain_only:
            plain.append(outcome)
    for _attempt, future in futures:
        if future.done() and not future.cancelled() and future.exception() is None:
            outcome = future.result()
            if outcome.answered and outcome not in answered:
                answered.append(outcome)
            elif outcome.plain_only and outcome not in plain:
                plain.append(outcome)
    order = {id(a): i for i, (a, _f) in enumerate(futures)}
    answered.sort(key=lambda o: order[id(o.attempt)])
    plain.sort(key=lambda o: order[id(o.attempt)])
    return answered + plain, finished


def guess(domain: str, *, options: ProbeOptions, deadline: float, stagger: float = 0.05) -> GuessResult:
    incoming, outgoing = plan(domain)
    everything = incoming + outgoing
    everything.sort(key=lambda a: (a.rank[:-1], a.rank[-1]))  # start the best-ranked attempts first
    starts = {id(a): i * stagger for i, a in enumerate(everything)}
    pool = ThreadPoolExecutor(max_workers=len(everything), thread_name_prefix="discovery-probe")
    started = time.monotonic()

    def run(attempt: Attempt) -> Outcome:
        delay = started + starts[id(attempt)] - time.monotonic()
        if delay > 0:
            time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
        if time.monotonic() >= deadline:
            return Outcome(attempt=attempt, code=str(Code.TIMEOUT))
        return probe_one(attempt, options=options)

    try:
        futures = {id(a): pool.submit(run, a) for a in everything}
        found_in, done_in = _pick([(a, futures[id(a)]) for a in incoming], deadline=deadline)
        found_out, done_out = _pick([(a, futures[id(a)]) for a in outgoing], deadline=deadline)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    outgoing_server = _server(found_out[0]) if found_out else None
    out_evidence = (found_out[0].evidence,) if found_out else ()
    candidates = [
        Candidate(incoming=_server(o), outgoing=outgoing_server, source=cands.PROBE,
                  verified=o.answered and bool(found_out and found_out[0].answered),
                  evidence=(o.evidence, *out_evidence))
        for o in found_in
    ]
    outcomes = [f.result() for f in futures.values() if f.done() and not f.cancelled() and f.exception() is None]
    return GuessResult(candidates=candidates, attempts=len(everything),
                       connections=sum(1 for o in outcomes if o.connected), finished=done_in and done_out)
