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
from tests.servers.dovecot import DovecotServer, OAuth2Passdb, running_dovecot
from tests.servers.oauth_server import (
    MAIL_SCOPE,
    RESOURCE_CLIENT_ID,
    RESOURCE_CLIENT_SECRET,
    OAuthServer,
    running_oauth_server,
)
from tests.servers.ports import ServerUnavailable
from tests.servers.postfix import POSTFIX_USER, PostfixServer, running_postfix
from tests.servers.pymap_server import PymapServer, running_pymap
from tests.servers.scripted import Behaviour, BlackHole, ScriptedServer, TlsMode
from tests.servers.smtp import SmtpServer, running_smtp
from tests.servers.smtp_oauth import OAuthSmtpServer, running_oauth_smtp


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
def oauth_server_session(test_ca: CertBundle) -> Iterator[OAuthServer]:
    with running_oauth_server(certs=test_ca) as server:
        yield server


@pytest.fixture
def oauth_server(oauth_server_session: OAuthServer) -> Iterator[OAuthServer]:
    """The test authorization server (Authlib, HTTPS with the test CA on loopback), emptied for each test."""
    oauth_server_session.reset()
    yield oauth_server_session
    oauth_server_session.reset()


@pytest.fixture(scope="session")
def dovecot_oauth(test_ca: CertBundle, oauth_server_session: OAuthServer) -> Iterator[DovecotServer]:
    """Dovecot with the oauth2 passdb asking the test authorization server (scope "mail" required), next to the
    password users; carol@example.test signs in only with a token."""
    passdb = OAuth2Passdb(introspection_url=oauth_server_session.introspection_url, client_id=RESOURCE_CLIENT_ID,
                          client_secret=RESOURCE_CLIENT_SECRET, ca_file=test_ca.ca_pem, scope=MAIL_SCOPE)
    try:
        with running_dovecot(certs=test_ca, oauth2=passdb) as server:
            yield server
    except ServerUnavailable as exc:
        _unavailable(str(exc))


@pytest.fixture(scope="session")
def smtp_oauth(test_ca: CertBundle, oauth_server_session: OAuthServer) -> Iterator[OAuthSmtpServer]:
    """aiosmtpd (implicit TLS) offering only XOAUTH2 and OAUTHBEARER, checking tokens with the test server."""
    with running_oauth_smtp(certs=test_ca, introspection_url=oauth_server_session.introspection_url,
                            client=(RESOURCE_CLIENT_ID, RESOURCE_CLIENT_SECRET), scope=MAIL_SCOPE) as server:
        yield server


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
