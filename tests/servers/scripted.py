"""Scripted servers: a small threaded TCP server whose answers a test chooses.

Real servers cannot be told to answer like Gmail, Microsoft 365 or a broken network on demand, so a
behaviour (a function taking a `Conn`) plays one session per connection. Behaviours live in
`tests.servers.scripted_behaviours` and are re-exported here. `BlackHole` is a port whose connects time out.

Everything listens on 127.0.0.1 only; `stop()` closes every socket and joins every thread.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from typing import Literal

from tests.servers.certs import LeafCert
from tests.servers.ports import LOOPBACK, ServerUnavailable

TlsMode = Literal["implicit", "starttls"] | None
MAX_LINE = 64 * 1024


class LineTooLong(Exception):
    pass


class Conn:
    """One accepted client connection as a behaviour sees it."""

    def __init__(
        self, sock: socket.socket, *, tls_context: ssl.SSLContext | None, tls: TlsMode, server: ScriptedServer
    ) -> None:
        self.sock = sock
        self.tls_active = False
        self._tls_context = tls_context
        self._tls = tls
        self._buffer = bytearray()
        self._server = server

    @property
    def stopping(self) -> threading.Event:
        """Set when the server stops; long-running behaviours wait on it instead of sleeping."""
        return self._server.stopping

    @property
    def can_start_tls(self) -> bool:
        return self._tls == "starttls" and not self.tls_active and self._tls_context is not None

    def send(self, data: bytes | str) -> None:
        self.sock.sendall(data.encode() if isinstance(data, str) else data)

    def send_line(self, line: str) -> None:
        self.send(line + "\r\n")

    def read_line(self, *, limit: int = MAX_LINE) -> str | None:
        """Next line without its CRLF, or None at end of stream. Raises LineTooLong past `limit` bytes."""
        while b"\n" not in self._buffer:
            if len(self._buffer) > limit:
                raise LineTooLong(f"client line longer than {limit} bytes")
            chunk = self.sock.recv(4096)
            if not chunk:
                return None
            self._buffer += chunk
        raw, _, rest = bytes(self._buffer).partition(b"\n")
        self._buffer = bytearray(rest)
        line = raw.rstrip(b"\r").decode("utf-8", "replace")
        self._server.received.append(line)
        return line

    def read_exact(self, size: int) -> bytes | None:
        while len(self._buffer) < size:
            chunk = self.sock.recv(max(4096, size - len(self._buffer)))
            if not chunk:
                return None
            self._buffer += chunk
        data, self._buffer = bytes(self._buffer[:size]), self._buffer[size:]
        return data

    def wait_for_close(self) -> None:
        """Hold the connection, discarding input, until the client closes it or the server stops."""
        with contextlib.suppress(OSError):
            while self.sock.recv(4096):
                pass

    def start_tls(self) -> None:
        """Server side of STARTTLS/STLS: the caller has already sent the go-ahead reply."""
        if self._tls_context is None:
            raise RuntimeError("this scripted server has no certificate")
        self._buffer.clear()  # anything pipelined before the handshake must not survive it (RFC 3207 §4.2)
        self.sock = self._tls_context.wrap_socket(self.sock, server_side=True)
        self.tls_active = True

    def abort(self) -> None:
        # socket.socket.shutdown on an SSLSocket shuts the descriptor down without touching the TLS
        # object another thread may be blocked in; recv/send there then return at once.
        with contextlib.suppress(OSError):
            socket.socket.shutdown(self.sock, socket.SHUT_RDWR)

    def close(self) -> None:
        self.abort()
        with contextlib.suppress(OSError):
            self.sock.close()


Behaviour = Callable[[Conn], None]


class ScriptedServer:
    """Runs `behaviour` once per accepted connection, each in its own thread.

    tls=None: plaintext; "implicit": TLS handshake right after accept; "starttls": plaintext, and the
    behaviour may call `conn.start_tls()`. `cert` is the leaf to present (required for TLS).
    """

    def __init__(
        self,
        behaviour: Behaviour,
        *,
        tls: TlsMode = None,
        cert: LeafCert | None = None,
        host: str = LOOPBACK,
        idle_timeout: float = 60.0,
    ) -> None:
        if tls is not None and cert is None:
            raise ValueError("a TLS scripted server needs a cert")
        self.behaviour = behaviour
        self.tls = tls
        self.cert = cert
        self.host = host
        self.port = 0
        self.idle_timeout = idle_timeout  # a forgotten client cannot hold a thread for ever
        self.stopping = threading.Event()
        self.received: list[str] = []  # every line read from clients, in order (test data only)
        self.errors: list[str] = []  # tracebacks of behaviours that crashed (harness bugs)
        self.accepted = 0
        self._context = cert.server_context() if cert is not None else None
        self._listener: socket.socket | None = None
        self._accept_thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._conns: set[Conn] = set()
        self._threads: list[threading.Thread] = []

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)

    def start(self) -> ScriptedServer:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, 0))
        listener.listen(16)
        listener.settimeout(0.1)  # the accept loop polls `stopping`
        self._listener = listener
        self.port = listener.getsockname()[1]
        self._accept_thread = threading.Thread(
            target=self._accept_loop, name=f"scripted-accept-{self.port}", daemon=True
        )
        self._accept_thread.start()
        return self

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self.stopping.is_set():
            try:
                raw, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            raw.settimeout(self.idle_timeout)
            self.accepted += 1
            thread = threading.Thread(target=self._serve, args=(raw,), name=f"scripted-conn-{self.port}", daemon=True)
            with self._lock:
                self._threads.append(thread)
            thread.start()

    def _serve(self, raw: socket.socket) -> None:
        conn = Conn(raw, tls_context=self._context, tls=self.tls, server=self)
        with self._lock:
            self._conns.add(conn)
        try:
            if self.stopping.is_set():
                return
            if self.tls == "implicit":
                assert self._context is not None
                conn.sock = self._context.wrap_socket(raw, server_side=True)
                conn.tls_active = True
            self.behaviour(conn)
        except (OSError, LineTooLong):
            pass  # the client left, the handshake failed, or we are stopping: all normal here
        except Exception:  # noqa: BLE001 (a behaviour bug must not kill the server; keep it for the test)
            self.errors.append(traceback.format_exc())
            print(f"scripted server {self.port}: behaviour crashed\n{self.errors[-1]}", file=sys.stderr)
        finally:
            conn.close()
            with self._lock:
                self._conns.discard(conn)

    def threads_alive(self) -> int:
        """Threads of this server still running (0 after a clean stop)."""
        with self._lock:
            threads = [self._accept_thread, *self._threads]
        return sum(1 for thread in threads if thread is not None and thread.is_alive())

    def stop(self, *, timeout: float = 5.0) -> None:
        """Close the listener and every client socket, then join all threads (bounded by `timeout`)."""
        self.stopping.set()
        if self._listener is not None:
            self._listener.close()
        if self._accept_thread is not None:
            self._accept_thread.join(timeout)
        with self._lock:
            conns, threads = list(self._conns), list(self._threads)
        for conn in conns:
            conn.abort()
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def __enter__(self) -> ScriptedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class BlackHole:
    """A loopback port whose TCP connects time out (SYNs dropped), like a firewalled host.

    Linux trick: a listener with backlog 0 that never accepts; once its accept queue holds one
    connection the kernel drops further SYNs. `start()` fills the queue and checks that a connect
    really times out, else raises ServerUnavailable.
    """

    def __init__(self, *, host: str = LOOPBACK) -> None:
        self.host = host
        self.port = 0
        self._listener: socket.socket | None = None
        self._fillers: list[socket.socket] = []

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)

    def start(self) -> BlackHole:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind((self.host, 0))
        listener.listen(0)
        self._listener = listener
        self.port = listener.getsockname()[1]
        for _ in range(8):
            try:
                self._fillers.append(socket.create_connection(self.address, timeout=0.3))
            except TimeoutError:
                return self  # the queue is full: connects now time out
        self.stop()
        raise ServerUnavailable("could not make a loopback port drop SYNs (backlog-0 trick did not work)")

    def stop(self) -> None:
        for sock in self._fillers:
            sock.close()
        self._fillers.clear()
        if self._listener is not None:
            self._listener.close()
            self._listener = None

    def __enter__(self) -> BlackHole:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def scripted(behaviour: Behaviour, *, tls: TlsMode = None, cert: LeafCert | None = None) -> Iterator[ScriptedServer]:
    """Context-manager form of ScriptedServer."""
    server = ScriptedServer(behaviour, tls=tls, cert=cert).start()
    try:
        yield server
    finally:
        server.stop()


from tests.servers.scripted_behaviours import *  # noqa: E402, F403 (behaviours are part of this module's interface)
from tests.servers.scripted_behaviours import __all__ as _behaviours  # noqa: E402

__all__ = ["BlackHole", "Behaviour", "Conn", "ScriptedServer", "TlsMode", "scripted", *_behaviours]
