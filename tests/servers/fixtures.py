"""Pytest fixtures for the loopback test servers (loaded by tests/conftest.py through pytest_plugins).

Slow servers are session-scoped; scripted servers and the black hole are per test. See README.md.
"""

from __future__ import annotations

import os
import pwd
from collections.abc import Iterator
from typing import NoReturn

import pytest

from tests.servers.certs import CertBundle, LeafCert, make_cert_bundle
from tests.servers.dovecot import DovecotServer, running_dovecot
from tests.servers.ports import ServerUnavailable
from tests.servers.postfix import POSTFIX_USER, PostfixServer, running_postfix
from tests.servers.pymap_server import PymapServer, running_pymap
from tests.servers.scripted import Behaviour, BlackHole, ScriptedServer, TlsMode
from tests.servers.smtp import SmtpServer, running_smtp


def _unavailable(reason: str) -> NoReturn:
    """Skip on a developer machine; fail in CI (CI=true), where every server must be installed."""
    if os.environ.get("CI", "").lower() in {"true", "1", "yes"}:
        pytest.fail(f"test server unavailable in CI: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session", name="test_ca")
def _test_ca(tmp_path_factory: pytest.TempPathFactory) -> CertBundle:
    """The test CA (ca_pem) and its leaves: localhost (valid), expired, wrong_name (other.invalid)."""
    return make_cert_bundle(tmp_path_factory.mktemp("certs"))


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


@pytest.fixture(scope="session")
def dovecot(test_ca: CertBundle) -> Iterator[DovecotServer]:
    """Dovecot 2.3: IMAP/STARTTLS, IMAPS, POP3/STLS, POP3S; alice (INBOX + Sent) and bob (INBOX only); a SASL
    socket for Postfix when its user exists."""
    try:
        with running_dovecot(certs=test_ca, sasl_user=POSTFIX_USER if _user_exists(POSTFIX_USER) else None) as server:
            yield server
    except ServerUnavailable as exc:
        _unavailable(str(exc))


@pytest.fixture(scope="session")
def postfix(test_ca: CertBundle, dovecot: DovecotServer) -> Iterator[PostfixServer]:
    """Postfix: 587-style (STARTTLS, then AUTH), 465-style (implicit TLS) and a 465-style port whose SASL backend
    can be taken down; users and passwords are the test Dovecot's."""
    try:
        with running_postfix(certs=test_ca, dovecot=dovecot) as server:
            yield server
    except ServerUnavailable as exc:
        _unavailable(str(exc))


@pytest.fixture(scope="session")
def smtp_starttls(test_ca: CertBundle) -> Iterator[SmtpServer]:
    """aiosmtpd 587-style: STARTTLS required before AUTH; AUTH required."""
    with running_smtp(certs=test_ca, tls_mode="starttls") as server:
        yield server


@pytest.fixture(scope="session")
def smtp_implicit(test_ca: CertBundle) -> Iterator[SmtpServer]:
    """aiosmtpd 465-style: implicit TLS; AUTH required."""
    with running_smtp(certs=test_ca, tls_mode="implicit") as server:
        yield server


@pytest.fixture(scope="session")
def pymap_imap(test_ca: CertBundle) -> Iterator[PymapServer]:
    """pymap: plain IMAP port, STARTTLS required before LOGIN; one demo user with INBOX, Sent, Trash."""
    try:
        with running_pymap(certs=test_ca) as server:
            yield server
    except ServerUnavailable as exc:
        _unavailable(str(exc))


class ScriptedServerFactory:
    """Starts scripted servers for one test and stops them all at its end."""

    def __init__(self, certs: CertBundle) -> None:
        self._certs = certs
        self._servers: list[ScriptedServer] = []

    def __call__(
        self, behaviour: Behaviour, *, tls: TlsMode = None, cert: str | LeafCert = "localhost"
    ) -> ScriptedServer:
        """`cert`: "localhost", "expired", "wrong_name" or a LeafCert; used only when `tls` is set."""
        leaf = self._certs.leaf(cert) if isinstance(cert, str) else cert
        server = ScriptedServer(behaviour, tls=tls, cert=leaf if tls else None).start()
        self._servers.append(server)
        return server

    def stop_all(self) -> None:
        for server in self._servers:
            server.stop()


@pytest.fixture
def scripted_server(test_ca: CertBundle) -> Iterator[ScriptedServerFactory]:
    """Factory: scripted_server(behaviour, tls=None|"implicit"|"starttls", cert="localhost") -> ScriptedServer."""
    factory = ScriptedServerFactory(test_ca)
    try:
        yield factory
    finally:
        factory.stop_all()


@pytest.fixture
def black_hole() -> Iterator[BlackHole]:
    """A loopback port (black_hole.host, black_hole.port) whose TCP connects time out."""
    try:
        hole = BlackHole().start()
    except ServerUnavailable as exc:
        _unavailable(str(exc))
    try:
        yield hole
    finally:
        hole.stop()
