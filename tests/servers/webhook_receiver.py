"""A webhook receiver for the tests: Python's own HTTPS server on a loopback port (the test CA's `localhost`
leaf), recording every request (time, path, headers, raw body) and answering the status codes it is given in
turn (the last one repeats)."""
from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.servers.certs import CertBundle
from tests.servers.ports import LOOPBACK


@dataclass(frozen=True)
class ReceivedRequest:
    at: float  # time.monotonic()
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class WebhookReceiver:
    host: str
    port: int
    statuses: list[int]
    requests: list[ReceivedRequest] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def url(self, path: str = "/hooks/mailbind") -> str:
        return f"https://{self.host}:{self.port}{path}"

    def wait_for(self, count: int, *, timeout: float = 20.0) -> list[ReceivedRequest]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.requests) >= count:
                    return list(self.requests)
            time.sleep(0.05)
        raise AssertionError(f"the receiver got {len(self.requests)} requests, not {count}, in {timeout} s")


def _handler(receiver: WebhookReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's hook name)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(min(length, 1 << 20))
            with receiver.lock:
                receiver.requests.append(ReceivedRequest(at=time.monotonic(), path=self.path,
                                                         headers={k: v for k, v in self.headers.items()}, body=body))
                index = min(len(receiver.requests) - 1, len(receiver.statuses) - 1)
                status = receiver.statuses[index]
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args) -> None:
            return None

    return Handler


@contextlib.contextmanager
def running_webhook_receiver(*, certs: CertBundle, statuses: list[int] | None = None) -> Iterator[WebhookReceiver]:
    server = ThreadingHTTPServer((LOOPBACK, 0), None)  # type: ignore[arg-type]
    receiver = WebhookReceiver(host=LOOPBACK, port=server.server_address[1], statuses=list(statuses or [200]))
    server.RequestHandlerClass = _handler(receiver)
    server.socket = certs.localhost.server_context().wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
