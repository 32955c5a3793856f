"""A small HTTPS (or HTTP) server on a loopback address of its own, serving fixed answers by path, for tests.

    leaf = test_ca.issue("autoconfig.acme.example", "acme.example")
    routes = {"/mail/config-v1.1.xml": Route(body=xml)}
    with running_https_server(routes, leaf=leaf) as server:       # listens on server.address:443
        ...                                                      # point the test zone's A records at it
    server.requests  # [("autoconfig.acme.example", "/mail/config-v1.1.xml?emailaddress=..."), ...]

Binding 443 needs root (the tests run as root, as Dovecot's do); each server takes a random 127.x.y.z, so parallel
runs never meet. `Route(delay=...)` holds the answer (a slow server); `Route(status=302, headers={"Location": ...})`
redirects. Nothing here leaves the loopback interface.
"""

from __future__ import annotations

import contextlib
import ssl
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.servers.certs import LeafCert
from tests.servers.ports import free_loopback_address


@dataclass(frozen=True)
class Route:
    body: bytes = b""
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before the answer


@dataclass
class HttpsServer:
    address: str
    port: int
    requests: list[tuple[str, str]] = field(default_factory=list)


def _handler(routes: Mapping[str, Route], server: HttpsServer, stop: threading.Event):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 (http.server's hook name)
            server.requests.append((self.headers.get("Host", ""), self.path))
            route = routes.get(self.path.split("?", 1)[0])
            if route is None:
                route = Route(status=404, body=b"not found")
            if route.delay:
                stop.wait(route.delay)
            self.send_response(route.status)
            for name, value in {"Content-Type": "application/xml", **route.headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(route.body)))
            self.send_header("Connection", "close")
            self.end_headers()
            with contextlib.suppress(OSError):
                self.wfile.write(route.body)

        def log_message(self, *args) -> None:  # quiet
            return

    return Handler


@contextlib.contextmanager
def running_https_server(routes: Mapping[str, Route], *, leaf: LeafCert | None, address: str | None = None,
                         port: int | None = None) -> Iterator[HttpsServer]:
    """`leaf=None` serves plain HTTP (on port 80 unless `port` is given)."""
    port = port or (443 if leaf is not None else 80)
    address = address or free_loopback_address(ports=(port,))
    state = HttpsServer(address=address, port=port)
    stop = threading.Event()
    httpd = ThreadingHTTPServer((address, port), _handler(routes, state, stop))
    httpd.daemon_threads = True
    if leaf is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certfile=str(leaf.cert_chain_pem), keyfile=str(leaf.key_pem))
        httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        stop.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
