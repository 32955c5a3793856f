"""A small OAuth2 / OpenID authorization server for tests: Authlib's server classes in a Flask app, on loopback
over HTTPS with the test CA (recipe: shared/recipes/OAUTH2.md).

What a mail provider's sign-in does, in memory: authorization code with PKCE (S256 only: a missing or `plain`
challenge is refused), refresh tokens rotated on every use (as Microsoft does), RFC 7662 introspection (Dovecot's
oauth2 passdb and the aiosmtpd server ask it), RFC 7009 revocation, userinfo, and OpenID discovery. The consent page
asks who signs in (a plain text field: this server trusts whoever types) and offers Allow and Deny.

Test hooks (`POST /_test/...`): expire a user's access tokens, revoke a user's grants (as when a password changes),
make the token endpoint fail with 503 a number of times, and count the requests each endpoint received.
"""

from __future__ import annotations

import contextlib
import hmac
import html
import logging
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import AuthorizationCodeMixin, ClientMixin, TokenMixin, grants
from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from flask import Flask, jsonify, request
from werkzeug.serving import make_server

from tests.servers.certs import CertBundle
from tests.servers.ports import LOOPBACK

APP_CLIENT_ID = "mailbind-test"
APP_CLIENT_SECRET = "mailbind-test-client-secret"  # noqa: S105 - a test server's credential
RESOURCE_CLIENT_ID = "mail-servers"  # Dovecot and the SMTP server introspect with it
RESOURCE_CLIENT_SECRET = "mail-servers-secret"  # noqa: S105
MAIL_SCOPE = "mail"
ACCESS_TOKEN_SECONDS = 3600


@dataclass
class _Client(ClientMixin):
    client_id: str
    client_secret: str

    def get_client_id(self):
        return self.client_id

    def get_default_redirect_uri(self):
        return None

    def get_allowed_scope(self, scope):
        return scope or ""

    def check_redirect_uri(self, redirect_uri):
        # Only the app on loopback (the live server of the test) may receive codes.
        return redirect_uri.startswith(("http://localhost:", "http://127.0.0.1:", "https://localhost:"))

    def check_client_secret(self, client_secret):
        return hmac.compare_digest(self.client_secret.encode(), (client_secret or "").encode())

    def check_endpoint_auth_method(self, method, endpoint):
        return method in ("client_secret_post", "client_secret_basic")

    def check_response_type(self, response_type):
        return response_type == "code"

    def check_grant_type(self, grant_type):
        return grant_type in ("authorization_code", "refresh_token")


@dataclass
class _Code(AuthorizationCodeMixin):
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user: str
    code_challenge: str | None
    code_challenge_method: str | None

    def get_redirect_uri(self):
        return self.redirect_uri

    def get_scope(self):
        return self.scope


@dataclass
class _Token(TokenMixin):
    client_id: str
    access_token: str
    refresh_token: str | None
    scope: str
    user: str
    issued_at: float
    expires_in: int
    access_revoked: bool = False
    refresh_revoked: bool = False

    def check_client(self, client):
        return client.get_client_id() == self.client_id

    def get_scope(self):
        return self.scope

    def get_expires_in(self):
        return self.expires_in

    def is_expired(self):
        return time.time() >= self.issued_at + self.expires_in

    def is_revoked(self):
        return self.access_revoked

    def get_user(self):
        return self.user

    def get_client(self):
        return None


@dataclass
class _Store:
    clients: dict[str, _Client]
    codes: dict[str, _Code] = field(default_factory=dict)
    tokens: list[_Token] = field(default_factory=list)
    requests: Counter = field(default_factory=Counter)
    token_failures: int = 0  # the next N token requests answer 503
    token_delay: float = 0.0  # seconds each token request waits before answering (races)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def by_access(self, value: str) -> _Token | None:
        return next((t for t in self.tokens if hmac.compare_digest(t.access_token, value)), None)

    def by_refresh(self, value: str) -> _Token | None:
        return next((t for t in self.tokens if t.refresh_token and hmac.compare_digest(t.refresh_token, value)), None)


class _S256Only(CodeChallenge):
    """PKCE for every client, confidential ones included, and only S256 (Authlib insists only for public ones)."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant, redirect_uri):
        data = grant.request.payload.data
        if not data.get("code_challenge") or data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("PKCE with code_challenge_method=S256 is required.")
        super().validate_code_challenge(grant, redirect_uri)


def _grants(store: _Store):
    class CodeGrant(grants.AuthorizationCodeGrant):
        TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

        def save_authorization_code(self, code, req):
            data = req.payload.data
            with store.lock:
                store.codes[code] = _Code(
                    code=code, client_id=req.client.get_client_id(), redirect_uri=req.payload.redirect_uri,
                    scope=req.scope or "", user=req.user, code_challenge=data.get("code_challenge"),
                    code_challenge_method=data.get("code_challenge_method"),
                )

        def query_authorization_code(self, code, client):
            found = store.codes.get(code)
            return found if found is not None and found.client_id == client.get_client_id() else None

        def delete_authorization_code(self, authorization_code):
            store.codes.pop(authorization_code.code, None)

        def authenticate_user(self, authorization_code):
            return authorization_code.user

    class RefreshGrant(grants.RefreshTokenGrant):
        TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]
        INCLUDE_NEW_REFRESH_TOKEN = True  # rotation: the old refresh token dies with its first use

        def authenticate_refresh_token(self, refresh_token):
            found = store.by_refresh(refresh_token)
            return found if found is not None and not found.refresh_revoked else None

        def authenticate_user(self, credential):
            return credential.user

        def revoke_old_credential(self, refresh_token):
            refresh_token.refresh_revoked = True

    return CodeGrant, RefreshGrant


def _endpoints(store: _Store):
    class Introspection(IntrospectionEndpoint):
        CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]  # Dovecot posts its secret

        def query_token(self, token_string, token_type_hint):
            return store.by_access(token_string)

        def introspect_token(self, token):
            return {"active": True, "username": token.user, "sub": token.user, "scope": token.scope,
                    "exp": int(token.issued_at + token.expires_in), "client_id": token.client_id}

        def check_permission(self, token, client, req):
            return client.get_client_id() == RESOURCE_CLIENT_ID

    class Revocation(RevocationEndpoint):
        CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

        def query_token(self, token_string, token_type_hint):
            return store.by_refresh(token_string) or store.by_access(token_string)

        def revoke_token(self, token, req):
            token.access_revoked = token.refresh_revoked = True

    return Introspection, Revocation


_PAGE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Test provider: sign in</title></head>
<body><main><h1>Test provider</h1><p>{client} asks to read and send your mail ({scope}).</p>
<form method="post"><label for="user">Your address</label> <input id="user" name="user" value="{login_hint}">
<button type="submit" name="decision" value="allow" id="allow">Allow</button>
<button type="submit" name="decision" value="deny" id="deny">Deny</button></form></main></body></html>"""


def build_app(store: _Store, *, issuer_holder: dict[str, str]) -> Flask:
    app = Flask("mailbind-test-oauth")
    app.config.update(OAUTH2_REFRESH_TOKEN_GENERATOR=True,
                      OAUTH2_TOKEN_EXPIRES_IN={"authorization_code": ACCESS_TOKEN_SECONDS,
                                               "refresh_token": ACCESS_TOKEN_SECONDS})

    def save_token(token, req):
        with store.lock:
            store.tokens.append(_Token(
                client_id=req.client.get_client_id(), access_token=token["access_token"],
                refresh_token=token.get("refresh_token"), scope=token.get("scope", ""), user=req.user,
                issued_at=time.time(), expires_in=int(token.get("expires_in", ACCESS_TOKEN_SECONDS)),
            ))

    server = AuthorizationServer(app, query_client=store.clients.get, save_token=save_token)
    code_grant, refresh_grant = _grants(store)
    server.register_grant(code_grant, [_S256Only(required=True)])
    server.register_grant(refresh_grant)
    introspection, revocation = _endpoints(store)
    server.register_endpoint(introspection)
    server.register_endpoint(revocation)

    @app.before_request
    def count():
        store.requests[request.path] += 1

    @app.get("/.well-known/openid-configuration")
    def discovery():
        issuer = issuer_holder["issuer"]
        return jsonify({
            "issuer": issuer,
            "authorization_endpoint": f"{issuer}/authorize",
            "token_endpoint": f"{issuer}/token",
            "introspection_endpoint": f"{issuer}/introspect",
            "revocation_endpoint": f"{issuer}/revoke",
            "userinfo_endpoint": f"{issuer}/userinfo",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "scopes_supported": ["openid", "email", "offline_access", MAIL_SCOPE],
        })

    @app.route("/authorize", methods=["GET", "POST"])
    def authorize():
        try:
            grant = server.get_consent_grant(end_user=None)
        except OAuth2Error as error:
            return server.handle_error_response(request, error)
        if request.method == "GET":
            return _PAGE.format(client=html.escape(grant.client.get_client_id()),
                                scope=html.escape(grant.request.payload.scope or ""),
                                login_hint=html.escape(request.args.get("login_hint", "")))
        user = request.form.get("user", "").strip()
        allowed = request.form.get("decision") == "allow" and user
        return server.create_authorization_response(grant_user=user if allowed else None, grant=grant)

    @app.post("/token")
    def issue_token():
        with store.lock:
            failing = store.token_failures > 0
            if failing:
                store.token_failures -= 1
        if store.token_delay:
            time.sleep(store.token_delay)
        if failing:
            return jsonify({"error": "temporarily_unavailable"}), 503
        return server.create_token_response()

    @app.post("/introspect")
    def introspect():
        return server.create_endpoint_response(IntrospectionEndpoint.ENDPOINT_NAME)

    @app.post("/revoke")
    def revoke():
        return server.create_endpoint_response(RevocationEndpoint.ENDPOINT_NAME)

    @app.get("/userinfo")
    def userinfo():
        auth = request.headers.get("Authorization", "")
        token = store.by_access(auth[7:]) if auth.startswith("Bearer ") else None
        if token is None or token.is_expired() or token.is_revoked():
            return jsonify({"error": "invalid_token"}), 401
        return jsonify({"sub": token.user, "email": token.user, "email_verified": True})

    @app.post("/_test/expire")
    def expire():
        user = request.form["user"]
        with store.lock:
            for token in store.tokens:
                if token.user == user:
                    token.issued_at -= token.expires_in + 1
        return jsonify({"ok": True})

    @app.post("/_test/revoke")
    def revoke_user():
        user = request.form["user"]
        with store.lock:
            for token in store.tokens:
                if token.user == user:
                    token.access_revoked = token.refresh_revoked = True
        return jsonify({"ok": True})

    return app


@dataclass
class OAuthServer:
    """A running test authorization server. `issuer` is its https URL (host name localhost, test CA)."""

    issuer: str
    port: int
    store: _Store = field(repr=False)

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    @property
    def introspection_url(self) -> str:
        return f"{self.issuer}/introspect"

    def requests_to(self, path: str) -> int:
        return self.store.requests[path]

    def reset(self) -> None:
        """Forget every grant, token and counter (between tests sharing the session's server)."""
        with self.store.lock:
            self.store.codes.clear()
            self.store.tokens.clear()
            self.store.requests.clear()
            self.store.token_failures = 0
            self.store.token_delay = 0.0

    def fail_token_requests(self, count: int) -> None:
        with self.store.lock:
            self.store.token_failures = count

    def slow_token_requests(self, seconds: float) -> None:
        self.store.token_delay = seconds

    def expire_access_tokens(self, user: str) -> None:
        with self.store.lock:
            for token in self.store.tokens:
                if token.user == user:
                    token.issued_at -= token.expires_in + 1

    def revoke_grants(self, user: str) -> None:
        """As a provider does when the user changes their password or withdraws consent."""
        with self.store.lock:
            for token in self.store.tokens:
                if token.user == user:
                    token.access_revoked = token.refresh_revoked = True

    def live_tokens(self, user: str) -> list[_Token]:
        return [t for t in self.store.tokens if t.user == user and not t.is_expired() and not t.is_revoked()]


@contextlib.contextmanager
def running_oauth_server(*, certs: CertBundle) -> Iterator[OAuthServer]:
    """Start the server on a free loopback port over HTTPS (the `localhost` leaf of the test CA)."""
    store = _Store(clients={
        APP_CLIENT_ID: _Client(APP_CLIENT_ID, APP_CLIENT_SECRET),
        RESOURCE_CLIENT_ID: _Client(RESOURCE_CLIENT_ID, RESOURCE_CLIENT_SECRET),
    })
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    issuer_holder: dict[str, str] = {}
    app = build_app(store, issuer_holder=issuer_holder)
    httpd = make_server(LOOPBACK, 0, app, threaded=True, ssl_context=certs.localhost.server_context())
    port = httpd.server_port
    issuer_holder["issuer"] = f"https://localhost:{port}"
    thread = threading.Thread(target=httpd.serve_forever, name="oauth-test-server", daemon=True)
    thread.start()
    try:
        yield OAuthServer(issuer=issuer_holder["issuer"], port=port, store=store)
    finally:
        httpd.shutdown()
        thread.join(timeout=10)
