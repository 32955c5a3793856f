"""Dovecot's real per-user connection limit (mail_max_userip_connections): a mailbox already held open by another
program is read as server_busy with the reason too_many_connections, not as a failed sign-in."""

import socket
import ssl
import time

import pytest

from diagnostics.probes import imap, pop3
from diagnostics.results import Code, Step
from tests.diagnostics.probe_options import loopback_options
from tests.servers.dovecot import ALICE, running_dovecot
from tests.servers.fixtures import _unavailable
from tests.servers.ports import ServerUnavailable


@pytest.fixture(scope="module")
def dovecot_one_connection(test_ca):
    """Dovecot that lets each user hold one connection per IP (the default is 10)."""
    try:
        with running_dovecot(certs=test_ca, max_userip_connections=1) as server:
            yield server
    except ServerUnavailable as exc:
        _unavailable(str(exc))


def _hold_imap_session(server):
    """Another mail program: signed in on IMAPS and kept open."""
    context = ssl.create_default_context(cafile=str(server.ca_file))
    sock = context.wrap_socket(socket.create_connection((server.host, server.imaps_port), timeout=5),
                               server_hostname="localhost")
    reader = sock.makefile("rb")
    reader.readline()
    sock.sendall(f'h1 LOGIN "{ALICE}" "{server.users[ALICE]}"\r\n'.encode())
    while not (line := reader.readline()).startswith(b"h1 "):
        pass
    assert line.startswith(b"h1 OK"), line
    return sock, reader


def _probe_until_refused(module, **kwargs):
    """Dovecot counts a session once its mail process has told anvil, a moment after the client's "logged in": on a
    busy machine the next login may still slip in. The limit must bite within a few tries."""
    for _attempt in range(5):
        result = module.probe_session(**kwargs)
        if result.step(Step.LOGIN) is not None and result.step(Step.LOGIN).code != Code.OK:
            return result
        time.sleep(0.3)
    return result


def test_a_mailbox_held_open_elsewhere_is_server_busy_too_many_connections_over_imap(dovecot_one_connection):
    server = dovecot_one_connection
    sock, reader = _hold_imap_session(server)
    try:
        result = _probe_until_refused(imap, host="localhost", port=server.imaps_port, security="ssl",
                                      username=ALICE, password=server.users[ALICE],
                                      options=loopback_options(ca_file=server.ca_file))
    finally:
        reader.close()
        sock.close()
    login = result.step(Step.LOGIN)
    assert (login.code, login.transient, login.details["reason"]) == (Code.SERVER_BUSY, True, "too_many_connections")
    assert "mail_max_userip_connections=1" in login.details["server_line"]


def _hold_pop3_session(server):
    """Another mail program on POP3S (Dovecot counts connections per protocol)."""
    context = ssl.create_default_context(cafile=str(server.ca_file))
    sock = context.wrap_socket(socket.create_connection((server.host, server.pop3s_port), timeout=5),
                               server_hostname="localhost")
    reader = sock.makefile("rb")
    reader.readline()
    for command in (f"USER {ALICE}", f"PASS {server.users[ALICE]}"):
        sock.sendall(f"{command}\r\n".encode())
        line = reader.readline()
    assert line.startswith(b"+OK"), line
    return sock, reader


def test_a_mailbox_held_open_elsewhere_is_server_busy_too_many_connections_over_pop3(dovecot_one_connection):
    server = dovecot_one_connection
    sock, reader = _hold_pop3_session(server)
    try:
        result = _probe_until_refused(pop3, host="localhost", port=server.pop3s_port, security="ssl",
                                      username=ALICE, password=server.users[ALICE],
                                      options=loopback_options(ca_file=server.ca_file))
    finally:
        reader.close()
        sock.close()
    login = result.step(Step.LOGIN)
    assert (login.code, login.details["reason"]) == (Code.SERVER_BUSY, "too_many_connections"), login.details


def test_the_same_login_works_once_the_other_program_lets_go(dovecot_one_connection):
    server = dovecot_one_connection
    result = imap.probe_session(host="localhost", port=server.imaps_port, security="ssl", username=ALICE,
                                password=server.users[ALICE], options=loopback_options(ca_file=server.ca_file))
    assert result.code == Code.OK
