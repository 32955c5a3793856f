"""Loopback port helpers shared by the test servers."""

from __future__ import annotations

import contextlib
import socket
import time

LOOPBACK = "127.0.0.1"


class ServerUnavailable(RuntimeError):
    """A test server cannot run on this machine (binary missing, not root...)."""


def free_ports(count: int, *, host: str = LOOPBACK) -> list[int]:
    """Return `count` distinct ports that were free a moment ago (all held open together, then released)."""
    with contextlib.ExitStack() as stack:
        ports = []
        for _ in range(count):
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind((host, 0))
            ports.append(sock.getsockname()[1])
        return ports


def free_port(*, host: str = LOOPBACK) -> int:
    return free_ports(1, host=host)[0]


def wait_for_port(port: int, *, host: str = LOOPBACK, timeout: float = 15.0, alive=None) -> None:
    """Block until a TCP connect to host:port succeeds.

    `alive`, if given, is called between attempts and should raise when the server process died,
    so a crashed server fails fast instead of after the whole timeout.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=1.0):
                return
        except OSError:
            if alive is not None:
                alive()
            if time.monotonic() > deadline:
                raise ServerUnavailable(f"nothing accepted connections on {host}:{port} within {timeout} s") from None
            time.sleep(0.05)


def free_loopback_address(*, ports: tuple[int, ...] = (443,)) -> str:
    """A random 127.x.y.z on which `ports` are free: servers that must listen on standard ports (443, 993, 143...)
    get an address of their own (root may bind them), so parallel test runs never meet. All of 127/8 is loopback."""
    import random

    for _ in range(100):
        address = f"127.{random.randint(64, 250)}.{random.randint(1, 250)}.{random.randint(2, 250)}"
        try:
            with contextlib.ExitStack() as stack:
                for port in ports:
                    sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
                    sock.bind((address, port))
        except OSError:
            continue
        return address
    raise ServerUnavailable(f"no loopback address with ports {ports} free (binding ports below 1024 needs root)")
