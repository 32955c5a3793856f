"""pymap (pure-Python IMAP server) as a subprocess: STARTTLS only, LOGIN refused before STARTTLS.

One user with demo data (INBOX, Sent, Trash). There is no implicit-TLS port in pymap.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import secrets
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.servers.certs import CertBundle
from tests.servers.ports import LOOPBACK, ServerUnavailable, free_port, wait_for_port

PYMAP_USER = "carol@example.test"

# pymap trusts every loopback peer as if it were TLS-protected and then allows LOGIN before STARTTLS.
# Our clients are always on loopback, so the launcher makes pymap treat them as remote: LOGIN is then
# refused (LOGINDISABLED) until STARTTLS, as on a real server reached over the network.
_LAUNCHER = (
    "import sys, proxyprotocol.sock as s; "
    "s.SocketInfo.from_localhost = property(lambda self: False); "
    "from pymap.main import main; sys.argv[0] = 'pymap'; sys.exit(main())"
)


@dataclass(frozen=True)
class PymapServer:
    host: str
    port: int  # plain IMAP, STARTTLS required before LOGIN
    ca_file: Path
    users: dict[str, str] = field(repr=False)  # the one demo user -> password


def pymap_command() -> list[str]:
    """The interpreter that has pymap installed (this one), running the launcher above."""
    if importlib.util.find_spec("pymap") is None:
        raise ServerUnavailable(f"pymap is not installed for {sys.executable} (pip install pymap)")
    return [sys.executable, "-c", _LAUNCHER]


@contextlib.contextmanager
def running_pymap(*, certs: CertBundle, user: str = PYMAP_USER, password: str | None = None) -> Iterator[PymapServer]:
    """Start pymap's in-memory backend on a free loopback port; terminate it on exit."""
    password = password or f"pymap-{secrets.token_urlsafe(9)}"
    port = free_port()
    command = [
        *pymap_command(),
        "--host", LOOPBACK,
        "--port", str(port),
        "--cert", str(certs.localhost.cert_chain_pem),
        "--key", str(certs.localhost.key_pem),
        "dict", "--demo-data", "--demo-user", user, "--demo-password", password,
    ]  # fmt: skip
    with tempfile.TemporaryFile() as log:
        # The password is on pymap's command line: acceptable for a throwaway local test account only.
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)

        def alive() -> None:
            if process.poll() is not None:
                log.seek(0)
                raise RuntimeError(
                    f"pymap exited with {process.returncode}: {log.read()[-2000:].decode(errors='replace')}"
                )

        try:
            wait_for_port(port, alive=alive, timeout=30)
            yield PymapServer(host=LOOPBACK, port=port, ca_file=certs.ca_pem, users={user: password})
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)  # its own session: only pymap and its children
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(timeout=10)
