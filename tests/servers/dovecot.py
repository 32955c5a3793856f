"""Debian's Dovecot 2.3 as a real IMAP + POP3 server on loopback (recipe: shared/recipes/TESTING.md).

alice@example.test has INBOX (with messages) and Sent (special-use \\Sent); bob@example.test has only INBOX.
Sent is declared with special_use but without `auto = create`, so it exists only where its folder does.

With `oauth2=OAuth2Passdb(...)` the same server also signs in with XOAUTH2 and OAUTHBEARER, asking an authorization
server's introspection endpoint (recipe: shared/recipes/OAUTH2.md), next to the password users; carol@example.test
(INBOX and Sent) exists only for OAuth2 sign-in.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.servers.certs import CertBundle, LeafCert
from tests.servers.ports import LOOPBACK, ServerUnavailable, free_ports, wait_for_port

ALICE = "alice@example.test"
BOB = "bob@example.test"
CAROL = "carol@example.test"  # no password: OAuth2 only
ALICE_INBOX_MESSAGES = 2
ALICE_SENT_MESSAGES = 1
SASL_SOCKET_NAME = "auth-mta"
# Users of this domain meet a password database that is down (a checkpassword program that always reports a
# temporary problem): Dovecot answers their sign-ins with IMAP `NO [UNAVAILABLE] Temporary authentication failure.`
UNAVAILABLE_DOMAIN = "unavailable.example.test"
# Has an empty INBOX and Sent; Dovecot's IMAP sends it an alert right after LOGIN (the way Courier does when a
# helper is missing), through a post-login script: the one way found to make Dovecot send an [ALERT].
ALERTED = "alert-dave@example.test"
ALERT_TEXT = "Your mailbox is 95% full: delete or archive mail to keep receiving messages."


@dataclass(frozen=True)
class DovecotServer:
    host: str
    imap_port: int  # plain, STARTTLS offered
    imaps_port: int  # implicit TLS
    pop3_port: int  # plain, STLS offered
    pop3s_port: int  # implicit TLS
    ca_file: Path
    users: dict[str, str] = field(repr=False)  # address -> password
    log_file: Path = field(default=Path(), compare=False)
    # Dovecot's SASL socket for an MTA (Postfix's smtpd_sasl_path); None unless asked for at start.
    sasl_socket: Path | None = None
    base_dir: Path = field(default=Path(), compare=False)  # sockets and master.pid
    oauth2: OAuth2Passdb | None = None
    config: Path = field(default=Path(), compare=False)  # for doveadm -c (save, search)


@dataclass(frozen=True)
class OAuth2Passdb:
    """Dovecot's oauth2 passdb: every XOAUTH2/OAUTHBEARER login asks `introspection_url` (RFC 7662) with these
    client credentials; `scope`, when set, must be among the token's scopes."""

    introspection_url: str
    client_id: str
    client_secret: str = field(repr=False)
    ca_file: Path | None = None
    scope: str = ""


def dovecot_binaries() -> tuple[str, str]:
    """Paths of `dovecot` and `doveadm`; ServerUnavailable when missing or when not root."""
    dovecot = shutil.which("dovecot") or ("/usr/sbin/dovecot" if os.path.exists("/usr/sbin/dovecot") else None)
    doveadm = shutil.which("doveadm") or ("/usr/bin/doveadm" if os.path.exists("/usr/bin/doveadm") else None)
    if not dovecot or not doveadm:
        raise ServerUnavailable("dovecot is not installed (apt-get install -y dovecot-imapd dovecot-pop3d)")
    if os.geteuid() != 0:
        raise ServerUnavailable("dovecot's master process must start as root")
    return dovecot, doveadm


def _message(*, subject: str, sender: str, to: str, number: int) -> bytes:
    return (
        f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\n"
        f"Date: Mon, 1 Jan 2024 10:0{number}:00 +0000\r\n"
        f"Message-ID: <test-{number}-{secrets.token_hex(4)}@example.test>\r\n\r\n"
        f"Test message {number}.\r\n"
    ).encode()


def _make_maildir(root: Path, *, folders: dict[str, list[bytes]]) -> None:
    """Maildir++ layout: INBOX is the root, other folders are `.Name` beside cur/new/tmp."""
    for folder, messages in folders.items():
        base = root if folder == "INBOX" else root / f".{folder}"
        for sub in ("cur", "new", "tmp"):
            (base / sub).mkdir(parents=True, exist_ok=True)
        for index, blob in enumerate(messages):
            (base / "cur" / f"{1700000000 + index}.M{index}P1.test:2,S").write_bytes(blob)
    (root / "subscriptions").write_text("".join(f"{f}\n" for f in folders if f != "INBOX"))


def _sasl_listener(user: str | None) -> str:
    """An auth-client socket only `user` (an MTA's unprivileged user, such as postfix) may connect to."""
    if user is None:
        return ""
    return f"""\
service auth {{
  unix_listener {SASL_SOCKET_NAME} {{
    mode = 0600
    user = {user}
  }}
}}
"""


def _oauth2_config(tmp: Path, oauth2: OAuth2Passdb | None) -> tuple[str, str, str, str]:
    """(auth mechanisms, oauth2 passdb, password passdb mechanisms line, static userdb) for OAuth2 sign-in."""
    if oauth2 is None:
        return "plain login", "", "", ""
    ext = tmp / "dovecot-oauth2.conf.ext"
    lines = [
        "introspection_mode = post", f"introspection_url = {oauth2.introspection_url}",
        f"client_id = {oauth2.client_id}", f"client_secret = {oauth2.client_secret}",
        "username_attribute = username", "active_attribute = active", "active_value = true",
        "force_introspection = yes", "timeout_msecs = 5000",
    ]
    if oauth2.ca_file is not None:
        # A copy the auth process can read: the original usually sits in a folder only root may enter.
        ca_copy = tmp / "oauth2-ca.pem"
        shutil.copyfile(oauth2.ca_file, ca_copy)
        ca_copy.chmod(0o644)
        lines.append(f"tls_ca_cert_file = {ca_copy}")
    if oauth2.scope:
        lines.append(f"scope = {oauth2.scope}")
    ext.write_text("\n".join(lines) + "\n")
    ext.chmod(0o644)  # read by the auth process, which does not run as root
    passdb = f"""passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {ext}
}}
"""
    # Password users keep their own passdb; OAuth users that are not in the users file get a static home.
    static_userdb = f"""userdb {{
  driver = static
  args = uid=dovecot gid=dovecot home={tmp}/mail/%n
}}
"""
    return "plain login xoauth2 oauthbearer", passdb, "  mechanisms = plain login\n", static_userdb


def _config(*, tmp: Path, ports: dict[str, int], cert_chain: Path, key: Path, host: str = LOOPBACK,
            sasl_user: str | None = None, oauth2: OAuth2Passdb | None = None,
            max_userip_connections: int | None = None) -> str:
    # Each "{" must end its line: Dovecot 2.3 rejects one-line blocks. anvil-auth-penalty mode 0 turns off
    # the per-IP penalty that would otherwise delay every login after a failed one by up to 15 s.
    mechanisms, oauth2_passdb, password_mechanisms, oauth2_userdb = _oauth2_config(tmp, oauth2)
    return f"""\
protocols = imap pop3
listen = {host}
base_dir = {tmp}/run
state_dir = {tmp}/run
log_path = {tmp}/dovecot.log
ssl = yes
ssl_cert = <{cert_chain}
ssl_key = <{key}
auth_mechanisms = {mechanisms}
disable_plaintext_auth = no
auth_failure_delay = 0
mail_location = maildir:~/Maildir
default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = 1
mail_privileged_group =
{f"mail_max_userip_connections = {max_userip_connections}" if max_userip_connections else ""}
namespace inbox {{
  inbox = yes
  mailbox Sent {{
    special_use = \\Sent
  }}
}}
{oauth2_passdb}passdb {{
  driver = passwd-file
{password_mechanisms}  args = scheme=PLAIN username_format=%u {tmp}/users
}}
passdb {{
  driver = checkpassword
{password_mechanisms}  args = {tmp}/unavailable-passdb
  username_filter = *@{UNAVAILABLE_DOMAIN}
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {tmp}/users
}}
{oauth2_userdb}service imap-login {{
  chroot =
  inet_listener imap {{
    port = {ports.get("imap", 0)}
  }}
  inet_listener imaps {{
    port = {ports.get("imaps", 0)}
    ssl = yes
  }}
}}
service pop3-login {{
  chroot =
  inet_listener pop3 {{
    port = {ports.get("pop3", 0)}
  }}
  inet_listener pop3s {{
    port = {ports.get("pop3s", 0)}
    ssl = yes
  }}
}}
service imap {{
  executable = imap imap-postlogin
}}
service imap-postlogin {{
  executable = script-login {tmp}/postlogin.sh
  user = $default_internal_user
  unix_listener imap-postlogin {{
  }}
}}
service anvil {{
  chroot =
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
{_sasl_listener(sasl_user)}"""


def _prepare(tmp: Path, *, users: dict[str, str], certs: CertBundle, ports: dict[str, int], host: str = LOOPBACK,
             leaf: LeafCert | None = None, sasl_user: str | None = None,
             oauth2: OAuth2Passdb | None = None, max_userip_connections: int | None = None) -> Path:
    tmp.chmod(0o755)  # mail processes run as the dovecot user and must traverse it
    (tmp / "run").mkdir()
    mail_user = pwd.getpwnam("dovecot")
    lines = []
    for address, password in users.items():
        if ":" in password or "\n" in password:
            raise ValueError("passwd-file passwords cannot contain ':' or newlines")
        home = tmp / "mail" / address.split("@")[0]
        home.mkdir(parents=True)
        lines.append(f"{address}:{{PLAIN}}{password}:{mail_user.pw_uid}:{mail_user.pw_gid}::{home}\n")
    _make_maildir(
        tmp / "mail" / "alice" / "Maildir",
        folders={
            "INBOX": [
                _message(subject=f"Hello {n}", sender=BOB, to=ALICE, number=n) for n in range(ALICE_INBOX_MESSAGES)
            ],
            "Sent": [_message(subject="Sent by alice", sender=ALICE, to=BOB, number=9)],
        },
    )
    _make_maildir(tmp / "mail" / "bob" / "Maildir", folders={"INBOX": []})
    _make_maildir(tmp / "mail" / ALERTED.split("@")[0] / "Maildir", folders={"INBOX": [], "Sent": []})
    if oauth2 is not None:
        _make_maildir(tmp / "mail" / "carol" / "Maildir", folders={
            "INBOX": [_message(subject="Hello carol", sender=BOB, to=CAROL, number=5)], "Sent": [],
        })
    for path in [tmp / "mail", *(tmp / "mail").rglob("*")]:
        os.chown(path, mail_user.pw_uid, mail_user.pw_gid)
    postlogin = tmp / "postlogin.sh"  # its stdout is the client's connection: what it prints, the client reads
    postlogin.write_text(f'#!/bin/sh\ncase "$USER" in\n  alert-*) printf \'* OK [ALERT] %s\\r\\n\' "{ALERT_TEXT}" ;;\n'
                         'esac\nexec "$@"\n')
    postlogin.chmod(0o755)
    down = tmp / "unavailable-passdb"  # exit 111 is checkpassword's "temporary problem": the backend is down
    down.write_text("#!/bin/sh\ncat <&3 >/dev/null\nexit 111\n")
    down.chmod(0o755)
    users_file = tmp / "users"
    users_file.write_text("".join(lines))
    users_file.chmod(0o644)
    config = tmp / "dovecot.conf"
    leaf = leaf or certs.localhost
    config.write_text(_config(tmp=tmp, ports=ports, cert_chain=leaf.cert_chain_pem, key=leaf.key_pem, host=host,
                              sasl_user=sasl_user, oauth2=oauth2, max_userip_connections=max_userip_connections))
    return config


def _master_pid(tmp: Path) -> int | None:
    return _pid_in(tmp / "run")


def _pid_in(base_dir: Path) -> int | None:
    try:
        return int((base_dir / "master.pid").read_text().strip())
    except (OSError, ValueError):
        return None


def _pid_alive(pid: int) -> bool:
    """False once the process has ended, zombie included (the daemon is not our child: we cannot reap it)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def _children(pid: int) -> list[int]:
    """Processes whose parent is `pid` (from /proc/<pid>/stat: the field after the state is the parent pid)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):
                if int((entry / "stat").read_text().rpartition(")")[2].split()[1]) == pid:
                    found.append(int(entry.name))
    return found


def _wait_gone(pids: list[int], *, seconds: float) -> list[int]:
    deadline = time.monotonic() + seconds
    while (alive := [pid for pid in pids if _pid_alive(pid)]) and time.monotonic() < deadline:
        time.sleep(0.05)
    return alive


def _stop(doveadm: str, *, config: Path, tmp: Path) -> None:
    pid = _master_pid(tmp)
    if pid is None:  # no pid file: let doveadm find what there is to stop
        subprocess.run([doveadm, "-c", str(config), "stop"], capture_output=True, timeout=15, check=False)
        return
    if not _pid_alive(pid):
        return  # crashed (crash_dovecot) or already stopped
    children = _children(pid)
    # SIGTERM is what `doveadm stop` sends; it then waits until the master's pid disappears, which for a daemon
    # reparented to init includes the wait for init to reap the zombie (seconds here). We wait for the exit.
    os.kill(pid, signal.SIGTERM)
    if _wait_gone([pid], seconds=10):  # it did not stop: end the master we started, by its pid
        os.kill(pid, signal.SIGKILL)
    # A service with a client still connected (auth, while Postfix holds its SASL connection) outlives the master
    # until that client leaves: end the master's children too, so a stopped Dovecot is really gone.
    for sig, seconds in ((signal.SIGTERM, 0.5), (signal.SIGKILL, 2.0)):
        for child in _wait_gone(children, seconds=seconds):
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, sig)


def crash_dovecot(server: DovecotServer) -> None:
    """End a running Dovecot at once, as a crash would: SIGKILL to its master and the master's children (their
    sockets stop answering; a client holding a connection sees it closed). running_dovecot still cleans up."""
    pid = _pid_in(server.base_dir)
    if pid is None or not _pid_alive(pid):
        return
    for victim in [pid, *_children(pid)]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(victim, signal.SIGKILL)
    if _wait_gone([pid], seconds=5):
        raise RuntimeError(f"dovecot master {pid} survived SIGKILL")


@contextlib.contextmanager
def running_dovecot(*, certs: CertBundle, users: dict[str, str] | None = None, host: str = LOOPBACK,
                    ports: dict[str, int] | None = None, leaf: LeafCert | None = None,
                    sasl_user: str | None = None, oauth2: OAuth2Passdb | None = None,
                    max_userip_connections: int | None = None) -> Iterator[DovecotServer]:
    """Start Dovecot on four free loopback ports; stop it and delete its files on exit.

    `users` maps ALICE and BOB to passwords (random ones when omitted). `host`, `ports` (some of imap, imaps, pop3,
    pop3s: the others are off, port 0 in the dataclass) and `leaf` serve other needs: the discovery tests listen on
    standard ports of an address of their own, with a certificate for their zone's names. `sasl_user`: the system
    user of an MTA (postfix) that may use Dovecot's SASL socket (`sasl_socket`); None: no such socket. `oauth2`
    adds XOAUTH2/OAUTHBEARER sign-in through an introspection endpoint (and CAROL). `max_userip_connections` sets
    Dovecot's real per-user-and-IP limit (default 10). Raises ServerUnavailable when dovecot is not installed or we
    are not root.
    """
    dovecot, doveadm = dovecot_binaries()
    users = users or {ALICE: f"alice-{secrets.token_urlsafe(9)}", BOB: f"bob-{secrets.token_urlsafe(9)}"}
    if set(users) != {ALICE, BOB}:
        raise ValueError(f"users must be exactly {ALICE} and {BOB}")
    users = {**users, ALERTED: f"alert-{secrets.token_urlsafe(9)}"}
    ports = ports or dict(zip(("imap", "imaps", "pop3", "pop3s"), free_ports(4), strict=True))
    # Short path: Dovecot's unix sockets live in base_dir and paths are limited to 108 bytes.
    tmp = Path(tempfile.mkdtemp(prefix="dc", dir="/tmp"))
    config = _prepare(tmp, users=users, certs=certs, ports=ports, host=host, leaf=leaf, sasl_user=sasl_user,
                      oauth2=oauth2, max_userip_connections=max_userip_connections)
    log_file = tmp / "dovecot.log"
    try:
        # The daemon keeps inherited descriptors open: give it files, not pipes, or run() waits forever.
        startup_log = tmp / "startup.log"
        with startup_log.open("wb") as out:
            started = subprocess.run(
                [dovecot, "-c", str(config)], stdin=subprocess.DEVNULL, stdout=out, stderr=out, timeout=30, check=False
            )
        if started.returncode != 0:
            raise RuntimeError(f"dovecot did not start: {startup_log.read_text(errors='replace').strip()}")

        def alive() -> None:
            pid = _master_pid(tmp)
            if pid is not None and not _pid_alive(pid):
                log = log_file.read_text(errors="replace") if log_file.exists() else ""
                raise RuntimeError(f"dovecot exited during startup; log:\n{log[-2000:]}")

        for port in ports.values():
            wait_for_port(port, host=host, alive=alive)
        # The master may write its pid file after its listeners are up; stopping needs it.
        deadline = time.monotonic() + 10
        while _master_pid(tmp) is None and time.monotonic() < deadline:
            time.sleep(0.02)
        yield DovecotServer(
            host=host,
            imap_port=ports.get("imap", 0),
            imaps_port=ports.get("imaps", 0),
            pop3_port=ports.get("pop3", 0),
            pop3s_port=ports.get("pop3s", 0),
            ca_file=certs.ca_pem,
            users=dict(users),
            log_file=log_file,
            sasl_socket=tmp / "run" / SASL_SOCKET_NAME if sasl_user else None,
            base_dir=tmp / "run",
            oauth2=oauth2,
            config=config,
        )
    finally:
        _stop(doveadm, config=config, tmp=tmp)
        shutil.rmtree(tmp, ignore_errors=True)
