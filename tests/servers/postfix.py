"""Debian's Postfix (3.7) as a real submission server on loopback, signing users in through the test Dovecot.

One instance of its own per test session: `postfix -c DIR start` with a configuration directory, a queue directory
and a data directory under one fresh temporary folder, listeners on free loopback ports, its log in a file there.
Two sessions on one machine share no file, lock, socket or port. Postfix never delivers anything here (every
transport is `discard`), and the probes never send mail anyway.

Listeners:
- `submission_port` (587-style): STARTTLS required; AUTH offered only after it.
- `smtps_port` (465-style): TLS from the first byte (`smtpd_tls_wrappermode`); AUTH offered at once.
- `backend_down_port` (465-style): authenticates through a second Dovecot of its own, which
  `PostfixServer.take_auth_backend_down()` starts, lets Postfix connect to, and stops again. Postfix keeps the
  mechanisms it learned, so it still offers AUTH, and answers the next AUTH with
  `454 4.7.0 Temporary authentication failure: ...` (its reply when the SASL backend is gone).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import smtplib
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.servers.certs import CertBundle
from tests.servers.dovecot import ALICE, BOB, DovecotServer, crash_dovecot, running_dovecot
from tests.servers.ports import LOOPBACK, ServerUnavailable, free_ports, wait_for_port

POSTFIX_USER = "postfix"  # Postfix's mail_owner: its daemons run as this user and connect to Dovecot's socket
HOSTNAME = "postfix.example.test"
WRONG_PASSWORD_REPLY = "535 5.7.8 Error: authentication failed:"
BACKEND_DOWN_REPLY = "454 4.7.0 Temporary authentication failure"


@dataclass
class PostfixServer:
    host: str
    submission_port: int
    smtps_port: int
    backend_down_port: int
    ca_file: Path
    users: dict[str, str] = field(repr=False)  # the test Dovecot's users: address -> password
    log_file: Path = field(default=Path(), compare=False)
    config_dir: Path = field(default=Path(), compare=False)
    _take_down: Callable[[], None] | None = field(default=None, repr=False, compare=False)

    def take_auth_backend_down(self) -> None:
        """Make the next AUTH on `backend_down_port` meet a SASL backend that is gone (454 4.7.0). Call it again
        before each such AUTH: after one, Postfix's process notices and the port then closes connections."""
        assert self._take_down is not None
        self._take_down()


def postfix_binary() -> str:
    """Path of `postfix`; ServerUnavailable when it is missing, when we are not root, or without its user."""
    postfix = shutil.which("postfix") or ("/usr/sbin/postfix" if os.path.exists("/usr/sbin/postfix") else None)
    if not postfix:
        raise ServerUnavailable("postfix is not installed (apt-get install -y postfix)")
    if os.geteuid() != 0:
        raise ServerUnavailable("postfix's master process must start as root")
    try:
        pwd.getpwnam(POSTFIX_USER)
    except KeyError:
        raise ServerUnavailable(f"the {POSTFIX_USER} user is missing (reinstall postfix)") from None
    return postfix


def _main_cf(*, root: Path, certs: CertBundle, sasl_socket: Path) -> str:
    return f"""\
compatibility_level = 3.6
queue_directory = {root}/spool
data_directory = {root}/lib
maillog_file = {root}/postfix.log
maillog_file_prefixes = {root}
inet_interfaces = {LOOPBACK}
inet_protocols = ipv4
myhostname = {HOSTNAME}
mydomain = example.test
mydestination =
mynetworks =
alias_maps =
alias_database =
local_recipient_maps =
# Nothing leaves: no DNS, every transport discards.
disable_dns_lookups = yes
smtpd_peername_lookup = no
default_transport = discard
local_transport = discard
relay_transport = discard
smtpd_banner = $myhostname ESMTP Postfix (mailbind test)
smtpd_tls_cert_file = {certs.localhost.cert_chain_pem}
smtpd_tls_key_file = {certs.localhost.key_pem}
smtpd_tls_security_level = may
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = {sasl_socket}
smtpd_relay_restrictions = permit_sasl_authenticated, reject
smtpd_recipient_restrictions = permit_sasl_authenticated, reject
"""


def _master_cf(*, ports: dict[str, int], backend_link: Path) -> str:
    # Columns: service type private unpriv chroot wakeup maxproc command. No chroot: the SASL sockets live in /tmp.
    # The backend-down listener has one process that stays up (max_idle): it keeps what it learned from the
    # backend between take_auth_backend_down() and the AUTH that follows.
    return f"""\
{LOOPBACK}:{ports["submission"]} inet n - n - - smtpd
  -o smtpd_tls_security_level=encrypt
  -o smtpd_tls_auth_only=yes
{LOOPBACK}:{ports["smtps"]} inet n - n - - smtpd
  -o smtpd_tls_wrappermode=yes
{LOOPBACK}:{ports["backend_down"]} inet n - n - 1 smtpd
  -o smtpd_tls_wrappermode=yes
  -o smtpd_sasl_path={backend_link}
  -o max_idle=3600s
  -o max_use=100000
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
tlsmgr unix - - n 1000? 1 tlsmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
proxymap unix - - n - - proxymap
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
discard unix - - n - - discard
error unix - - n - - error
retry unix - - n - - error
postlog unix-dgram n - n - 1 postlogd
"""


def instance_pids(config_dir: Path) -> list[int]:
    """Processes of this Postfix instance: the master passes MAIL_CONFIG=<config_dir> to every daemon it starts."""
    marker = f"MAIL_CONFIG={config_dir}".encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if marker in (entry / "environ").read_bytes().split(b"\0"):
                pids.append(int(entry.name))
    return pids


def _stop(postfix: str, *, config_dir: Path) -> None:
    with (config_dir.parent / "stop.log").open("wb") as out:
        subprocess.run([postfix, "-c", str(config_dir), "stop"], stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                       timeout=30, check=False)
    deadline = time.monotonic() + 10
    while (pids := instance_pids(config_dir)) and time.monotonic() < deadline:
        time.sleep(0.05)
    for pid in pids:  # `postfix stop` failed: end the processes this instance started, by their pids
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _backend_down(*, certs: CertBundle, users: dict[str, str], link: Path, port: int) -> None:
    """Start a Dovecot, point the backend-down listener's SASL path at it, let Postfix connect, then end it as a
    crash would (a graceful stop takes seconds, and its auth process would wait for Postfix to hang up)."""
    with running_dovecot(certs=certs, users=users, sasl_user=POSTFIX_USER) as backend:
        assert backend.sasl_socket is not None
        staged = link.with_suffix(".new")
        staged.unlink(missing_ok=True)
        staged.symlink_to(backend.sasl_socket)
        staged.replace(link)
        with smtplib.SMTP_SSL(LOOPBACK, port, context=certs.client_context(), timeout=10) as client:
            client.ehlo()
            if not client.has_extn("auth"):
                raise RuntimeError("postfix did not learn the SASL mechanisms from the backend")
        crash_dovecot(backend)
    # The backend is gone now; Postfix still holds its connection to it and its mechanism list.


@contextlib.contextmanager
def running_postfix(*, certs: CertBundle, dovecot: DovecotServer) -> Iterator[PostfixServer]:
    """Start a Postfix instance on three free loopback ports, signing users in through `dovecot` (started with
    sasl_user=POSTFIX_USER); stop it and delete its files on exit. ServerUnavailable when it cannot run here."""
    postfix = postfix_binary()
    if dovecot.sasl_socket is None:
        raise ServerUnavailable("the test Dovecot has no SASL socket for postfix (no postfix user when it started)")
    ports = dict(zip(("submission", "smtps", "backend_down"), free_ports(3), strict=True))
    root = Path(tempfile.mkdtemp(prefix="pf", dir="/tmp"))
    root.chmod(0o755)  # Postfix's daemons (user postfix) read the certificate paths and sockets below it
    config_dir, spool, data = root / "etc", root / "spool", root / "lib"
    for folder in (config_dir, spool, data):
        folder.mkdir()
    os.chown(data, pwd.getpwnam(POSTFIX_USER).pw_uid, -1)
    backend_link = root / "backend-auth"
    (config_dir / "main.cf").write_text(_main_cf(root=root, certs=certs, sasl_socket=dovecot.sasl_socket))
    (config_dir / "master.cf").write_text(_master_cf(ports=ports, backend_link=backend_link))
    log_file = root / "postfix.log"
    try:
        startup_log = root / "startup.log"
        # The master keeps inherited descriptors open: give it files, not pipes.
        with startup_log.open("wb") as out:
            started = subprocess.run([postfix, "-c", str(config_dir), "start"], stdin=subprocess.DEVNULL, stdout=out,
                                     stderr=out, timeout=60, check=False)
        if started.returncode != 0:
            log = log_file.read_text(errors="replace") if log_file.exists() else ""
            raise RuntimeError(f"postfix did not start: {startup_log.read_text(errors='replace').strip()}\n{log}")
        for port in ports.values():
            wait_for_port(port)
        yield PostfixServer(
            host=LOOPBACK,
            submission_port=ports["submission"],
            smtps_port=ports["smtps"],
            backend_down_port=ports["backend_down"],
            ca_file=certs.ca_pem,
            users=dict(dovecot.users),
            log_file=log_file,
            config_dir=config_dir,
            _take_down=lambda: _backend_down(certs=certs, users={u: dovecot.users[u] for u in (ALICE, BOB)},
                                             link=backend_link, port=ports["backend_down"]),
        )
    finally:
        _stop(postfix, config_dir=config_dir)
        shutil.rmtree(root, ignore_errors=True)
