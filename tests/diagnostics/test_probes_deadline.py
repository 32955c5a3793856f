"""The run's deadline bounds every probe operation (lookup, connect, handshake, read), not only the gaps between
steps: past it a step ends as timeout with reason run_deadline, whatever its own limit."""

import time

import pytest

from diagnostics.probes import imap, pop3, smtp
from diagnostics.probes.deadline import RUN_DEADLINE, ends_at
from diagnostics.probes.dns import resolve_host
from diagnostics.probes.ports import check_port
from diagnostics.results import Code, ProbeError, Step
from tests.diagnostics.probe_options import loopback_options
from tests.servers import scripted as s
from tests.servers.dns_server import running_dns_server


def _steps(result):
    return [(str(step.step), str(step.code)) for step in result.steps]


def test_the_run_deadline_shortens_a_longer_limit_and_refuses_once_passed():
    end, cut = ends_at(30.0, time.monotonic() + 1.0)
    assert cut and end - time.monotonic() <= 1.0
    end, cut = ends_at(0.5, time.monotonic() + 10.0)
    assert not cut and end - time.monotonic() <= 0.5
    assert ends_at(2.0, None)[1] is False
    with pytest.raises(ProbeError) as caught:
        ends_at(30.0, time.monotonic() - 0.01)
    assert (caught.value.code, caught.value.transient, caught.value.reason) == (Code.TIMEOUT, True, RUN_DEADLINE)


def test_a_run_whose_deadline_passed_neither_resolves_nor_connects(scripted_server):
    server = scripted_server(s.imap())
    result = imap.probe_session(host="127.0.0.1", port=server.port, security="none", username="u", password="p",
                                options=loopback_options(deadline=time.monotonic() - 1))
    assert _steps(result) == [("dns", "timeout")]
    assert result.steps[0].details["reason"] == RUN_DEADLINE
    assert server.accepted == 0


def test_the_run_deadline_cuts_a_silent_dns_lookup():
    with running_dns_server({}, drop={"slow.acme.example"}) as dns:
        started = time.monotonic()
        result = resolve_host("slow.acme.example", timeout=10.0, nameservers=(f"127.0.0.1:{dns.port}",),
                              deadline=time.monotonic() + 0.5)
    assert (result.code, result.transient, result.details["reason"]) == (Code.TIMEOUT, True, RUN_DEADLINE)
    assert time.monotonic() - started < 1.5


def test_the_run_deadline_cuts_a_connect_to_a_black_hole(black_hole):
    started = time.monotonic()
    result = check_port(black_hole.host, black_hole.port,
                        options=loopback_options(connect_timeout=10.0, deadline=time.monotonic() + 0.5))
    # Not port_filtered: the run's time ran out, the port got no fair chance to answer.
    assert (result.code, result.details["reason"]) == (Code.TIMEOUT, RUN_DEADLINE)
    assert time.monotonic() - started < 1.5


def test_the_run_deadline_cuts_a_dripping_greeting(scripted_server):
    server = scripted_server(s.drip(interval=0.05))
    started = time.monotonic()
    result = pop3.probe_session(host="127.0.0.1", port=server.port, security="none",
                                options=loopback_options(step_timeout=20.0, deadline=time.monotonic() + 1.0))
    greeting = result.step(Step.GREETING)
    assert (greeting.code, greeting.transient, greeting.details["reason"]) == (Code.TIMEOUT, True, RUN_DEADLINE)
    assert time.monotonic() - started < 2.0


def test_the_run_deadline_cuts_a_tls_handshake(scripted_server):
    server = scripted_server(s.silent())  # never answers the ClientHello
    started = time.monotonic()
    result = smtp.probe_session(host="127.0.0.1", port=server.port, security="ssl",
                                options=loopback_options(step_timeout=20.0, deadline=time.monotonic() + 1.0))
    tls_step = result.step(Step.TLS)
    assert (tls_step.code, tls_step.details["reason"]) == (Code.TIMEOUT, RUN_DEADLINE)
    assert time.monotonic() - started < 2.0


def test_a_step_that_would_start_after_the_run_deadline_ends_as_timeout_without_sending(scripted_server):
    server = scripted_server(s.imap())
    deadline = time.monotonic() + 0.5

    def slow_writer(step):
        if step.step == Step.GREETING:
            time.sleep(max(0.0, deadline - time.monotonic()) + 0.05)  # the run's time runs out between steps

    result = imap.probe_session(host="127.0.0.1", port=server.port, security="none", username="u@example.test",
                                password="pw-123456", options=loopback_options(deadline=deadline),
                                on_step=slow_writer)
    assert _steps(result)[-2:] == [("greeting", "ok"), ("login", "timeout")]
    assert result.step(Step.LOGIN).details["reason"] == RUN_DEADLINE
    assert not any(" LOGIN " in line for line in server.received)
