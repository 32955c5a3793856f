"""aiosmtpd with XOAUTH2 and OAUTHBEARER (recipe: shared/recipes/OAUTH2.md): every AUTH asks the test authorization
server's introspection endpoint, as a provider's submission server checks a token. A refused token gets Gmail's
answer: `334 <base64 JSON>`, then, after the client's empty line, `535 5.7.8`. Implicit TLS (465-style)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from aiosmtpd.smtp import MISSING, AuthResult

from tests.servers.certs import CertBundle
from tests.servers.ports import LOOPBACK, free_port
from tests.servers.smtp import _AcceptingHandler, _ImplicitTlsController

REFUSED_REPLY = "535 5.7.8 Username and Password not accepted"


@dataclass(frozen=True)
class OAuthSmtpServer:
    host: str
    port: int
    ca_file: Path


class _OAuthHandler(_AcceptingHandler):
    def __init__(self, *, introspection_url: str, client: tuple[str, str], ca_file: Path, scope: str) -> None:
        super().__init__([])
        self._url, self._client, self._ca, self._scope = introspection_url, client, str(ca_file), scope

    def _introspect(self, token: str) -> dict:
        response = requests.post(self._url, data={"token": token, "client_id": self._client[0],
                                                  "client_secret": self._client[1]}, verify=self._ca, timeout=5)
        return response.json()

    async def _check(self, server: Any, args: list[str], parse) -> AuthResult:
        if len(args) > 1:
            raw = base64.b64decode(args[1])
        else:
            raw = await server.challenge_auth("")
            if raw is MISSING:
                return AuthResult(success=False, handled=False, message="501 5.5.2 Cannot decode response")
        user, token = parse(raw.decode("utf-8", "replace"))
        info = await asyncio.to_thread(self._introspect, token)
        if (info.get("active") and info.get("username") == user
                and (not self._scope or self._scope in str(info.get("scope", "")).split())):
            return AuthResult(success=True, auth_data=user)
        error = {"status": "401", "schemes": "bearer", "scope": self._scope or "mail"}
        await server.challenge_auth(json.dumps(error))  # 334 <b64 JSON>, then reads the client's empty line
        return AuthResult(success=False, handled=False, message=REFUSED_REPLY)

    async def auth_XOAUTH2(self, server: Any, args: list[str]) -> AuthResult:  # noqa: N802 (aiosmtpd's name)
        def parse(text: str) -> tuple[str, str]:
            fields = dict(part.split("=", 1) for part in text.split("\x01") if "=" in part)
            return fields.get("user", ""), fields.get("auth", "").removeprefix("Bearer ")
        return await self._check(server, args, parse)

    async def auth_OAUTHBEARER(self, server: Any, args: list[str]) -> AuthResult:  # noqa: N802
        def parse(text: str) -> tuple[str, str]:
            header, _sep, rest = text.partition("\x01")
            user = next((p[2:] for p in header.split(",") if p.startswith("a=")), "")
            fields = dict(part.split("=", 1) for part in rest.split("\x01") if "=" in part)
            return user, fields.get("auth", "").removeprefix("Bearer ")
        return await self._check(server, args, parse)


def _never(*_args: Any) -> AuthResult:
    return AuthResult(success=False, handled=False, message=REFUSED_REPLY)


@contextlib.contextmanager
def running_oauth_smtp(*, certs: CertBundle, introspection_url: str, client: tuple[str, str],
                       scope: str = "") -> Iterator[OAuthSmtpServer]:
    """Implicit-TLS submission server offering only AUTH XOAUTH2 and OAUTHBEARER."""
    port = free_port()
    handler = _OAuthHandler(introspection_url=introspection_url, client=client, ca_file=certs.ca_pem, scope=scope)
    controller = _ImplicitTlsController(
        handler, hostname=LOOPBACK, port=port, server_hostname="localhost", authenticator=_never,
        auth_required=True, auth_exclude_mechanism=["LOGIN", "PLAIN"], ready_timeout=10.0,
        ssl_context=certs.localhost.server_context(),
    )
    controller.start()
    try:
        yield OAuthSmtpServer(host=LOOPBACK, port=port, ca_file=certs.ca_pem)
    finally:
        controller.stop()
