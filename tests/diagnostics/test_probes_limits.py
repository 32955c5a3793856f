"""Hostile or broken servers cannot hold a worker or its memory: every step ends by its deadline."""

import time
import tracemalloc

from diagnostics.probes import imap, pop3, smtp
from diagnostics.probes.ports import check_port
from diagnostics.results import Code, Step
from tests.diagnostics.probe_options import loopback_options
from tests.servers import scripted as s


def test_a_black_holed_port_is_filtered_within_the_connect_timeout(black_hole):
    started = time.monotonic()
    result = check_port(black_hole.host, black_hole.port, options=loopback_options(connect_timeout=1.0))
    elapsed = time.monotonic() - started
    assert (result.code, result.transient) == (Code.PORT_FILTERED, True)
    assert elapsed < 1.0 + 1.0


def test_a_session_on_a_black_holed_port_stops_at_the_port_step(black_hole):
    started = time.monotonic()
    result = imap.probe_session(host=black_hole.host, port=black_hole.port, security="ssl",
                                options=loopback_options(connect_timeout=1.0))
    assert time.monotonic() - started < 2.0
    assert [str(st.step) for st in result.steps] == ["dns", "port"]
    assert result.code == Code.PORT_FILTERED


def test_a_10_mb_banner_is_cut_off_early_with_bounded_memory(scripted_server):
    server = scripted_server(s.huge_banner())
    tracemalloc.start()
    try:
        started = time.monotonic()
        result = imap.probe_session(host="127.0.0.1", port=server.port, security="none",
                                    options=loopback_options(step_timeout=3.0))
        elapsed = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    greeting = result.step(Step.GREETING)
    # A first line longer than any real greeting: the server does not speak the protocol we expect.
    assert (greeting.code, greeting.details["reason"]) == (Code.WRONG_PROTOCOL, "response_too_long")
    assert greeting.details["bytes_read"] < 64 * 1024
    assert elapsed < 3.0
    assert peak < 2 * 1024 * 1024  # the server's own buffers included; far below the 10 MB sent
    (line,) = greeting.transcript  # the start of the banner, cut
    assert line.startswith("S: * OK xxx") and len(line) < 1000


def test_a_dripping_server_times_out_at_the_step_deadline(scripted_server):
    server = scripted_server(s.drip(interval=0.05))
    started = time.monotonic()
    result = pop3.probe_session(host="127.0.0.1", port=server.port, security="none",
                                options=loopback_options(step_timeout=1.0))
    elapsed = time.monotonic() - started
    greeting = result.step(Step.GREETING)
    assert (greeting.code, greeting.transient) == (Code.TIMEOUT, True)
    assert 1.0 <= elapsed < 2.0


def test_a_dripping_tls_server_cannot_stretch_the_handshake(scripted_server):
    server = scripted_server(s.drip(interval=0.05))  # answers a ClientHello with a byte at a time
    started = time.monotonic()
    result = smtp.probe_session(host="127.0.0.1", port=server.port, security="ssl",
                                options=loopback_options(step_timeout=1.0))
    assert time.monotonic() - started < 2.0
    assert result.step(Step.TLS).code in (Code.TIMEOUT, Code.TLS_HANDSHAKE_FAILED)


def test_a_silent_server_times_out_waiting_for_the_greeting(scripted_server):
    server = scripted_server(s.silent())
    started = time.monotonic()
    result = smtp.probe_session(host="127.0.0.1", port=server.port, security="none",
                                options=loopback_options(step_timeout=1.0))
    assert time.monotonic() - started < 2.0
    assert result.step(Step.GREETING).code == Code.TIMEOUT
