"""The guarded connection every probe uses: resolve, check policy, connect to the checked IP, then read
with an absolute deadline and hard size limits.

Socket timeouts alone do not bound a step: a server that drips one byte a second resets a per-recv
timeout forever, and one that sends a 10 MB "banner" fills memory. Here every read is bounded by
the step's deadline (CPython's blocking recv/handshake with a timeout also use a deadline internally),
a maximum line length and a maximum number of bytes per step.

What a hostile server gets (decided here, relied on by the tests):
- a line longer than max_line (a 10 MB "banner") -> wrong_protocol, reason response_too_long: no mail
  server sends such a line, so it is not the protocol we expect; the read stops after ~max_line bytes;
- bytes that never make a line before the step deadline (a drip) -> timeout (transient);
- a TCP connect that gets no answer (black hole) -> port_filtered after connect_timeout.

Every limit is also cut by the run's deadline (ProbeOptions.deadline): past it, a step ends as timeout with
reason run_deadline, whatever it was doing (resolving, connecting, handshaking, reading).
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from diagnostics.policy import OutboundPolicy
from diagnostics.probes.deadline import RUN_DEADLINE, ends_at, run_deadline_error
from diagnostics.probes.dns import resolve_addresses, shown_addresses
from diagnostics.redact import redact_client_line, redact_head, redact_text
from diagnostics.results import Code, ProbeError, SessionResult, Step, StepResult

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class ProbeOptions:
    """Everything a probe needs besides the account: limits, policy, trust. Build it from settings once."""

    policy: OutboundPolicy = field(default_factory=OutboundPolicy)
    connect_timeout: float = 5.0  # whole connect phase of one host (all its addresses)
    step_timeout: float = 20.0  # absolute limit of one step (greeting, tls, login, folders...)
    ca_file: str | None = None  # extra trusted CAs, on top of the system store
    nameservers: tuple[str, ...] = ()  # empty: the system resolver
    max_line: int = 8192  # longest server line accepted
    max_bytes: int = 1 << 20  # bytes one step may read
    max_transcript_lines: int = 200
    max_addresses: int = 4  # addresses of one host tried when connecting
    helo_name: str | None = None  # SMTP EHLO name; None: the local address as a literal
    deadline: float | None = None  # the run's end (time.monotonic()); every operation stops by it
    # Silence before a greeting after which a plain session tries TLS on a new connection (wrong_security).
    implicit_tls_after: float = 2.0
    cert_expiry_warning_days: int = 14  # a valid certificate expiring within this many days is a warning

    @classmethod
    def build(cls, *, allowed_networks=(), allowed_ports=None, **kwargs) -> ProbeOptions:
        policy = OutboundPolicy.build(allowed_networks=allowed_networks, allowed_ports=allowed_ports)
        return cls(policy=policy, **kwargs)


# --- errors of the transport, turned into codes by the protocol that knows what it was doing -----------

class TransportError(Exception):
    pass


class ReadTimeout(TransportError):
    """The step's deadline passed while waiting for the server."""


class ConnectionClosed(TransportError):
    """The server closed or reset the connection."""


class LineTooLong(TransportError):
    """A server line went past max_line, or the step read more than max_bytes."""


HEAD_CHARS = 200  # what is kept of a line too long or never finished
MAX_ALERTS = 10  # server alerts kept per step


class Transcript:
    """Redacted, bounded record of an exchange. Secrets are masked before a line is stored."""

    def __init__(self, *, secrets: list[str], limit: int):
        self.secrets = secrets
        self.limit = limit
        self.lines: list[str] = []
        self.alerts: list[str] = []  # texts the server addresses to the person (diagnostics.alerts)

    def _add(self, line: str) -> None:
        if len(self.lines) < self.limit:
            self.lines.append(redact_text(line, self.secrets))
        elif len(self.lines) == self.limit:
            self.lines.append("… transcript truncated")

    def client(self, line: str) -> None:
        self._add(f"C: {redact_client_line(line)}")

    def server(self, line: str) -> None:
        self._add(f"S: {line}")

    def note(self, text: str) -> None:
        self._add(f"-- {text}")

    def alert(self, text: str) -> None:
        """Keep a server alert (redacted like every transcript line) for the step to show."""
        if len(self.alerts) < MAX_ALERTS:
            self.alerts.append(redact_text(text, self.secrets))

    def masked(self, line: str) -> str:
        return redact_text(line, self.secrets)

    def server_head(self, data: bytes, *, note: str) -> None:
        """The start of what the server sent that is no usable line (too long, unfinished), with `note`.
        All of `data` (bounded by the reads) is masked before its start is kept."""
        head = redact_head(data.decode("utf-8", errors="replace"), self.secrets, limit=HEAD_CHARS)
        self.server(f"{head}… [{note}]")


class Channel:
    """A connected socket (plain or TLS) with deadline-bounded line reads."""

    def __init__(self, sock: socket.socket, *, host: str, ip: str, port: int, options: ProbeOptions,
                 transcript: Transcript):
        self.sock = sock
        self.host, self.ip, self.port = host, ip, port
        self.options = options
        self.transcript = transcript
        self._buf = bytearray()
        self.deadline = time.monotonic() + options.step_timeout
        self.cut_by_run = False  # True when the run's deadline, not the step's, is self.deadline
        if options.deadline is not None and options.deadline < self.deadline:
            self.deadline, self.cut_by_run = options.deadline, True
        self.bytes_read = 0
        self.tls = False
        # (seconds, check): when the first read gets nothing for that long, check(self) runs once (it may raise a
        # ProbeError that ends the step), then the read goes on to the step's deadline.
        self.on_silence: tuple[float, Callable[[Channel], None]] | None = None

    def start_step(self, transcript: Transcript, *, timeout: float | None = None) -> None:
        """A fresh deadline (the step's limit, cut by the run's deadline) and byte budget.
        Raises ProbeError(timeout, run_deadline) when the run's deadline has passed."""
        self.transcript = transcript
        self.bytes_read = 0
        limit = timeout if timeout is not None else self.options.step_timeout
        self.deadline, self.cut_by_run = ends_at(limit, self.options.deadline)

    def remaining(self) -> float:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise ReadTimeout()
        return remaining

    def _record_partial(self, why: str) -> None:
        """Keep the start of what never became a full line, so the details show what the server sent."""
        if self._buf:
            self.transcript.server_head(bytes(self._buf), note=f"{why} after {len(self._buf)} bytes")

    def _recv(self) -> bytes:
        if self.on_silence is not None:
            wait, check = self.on_silence
            self.on_silence = None
            self.sock.settimeout(min(wait, self.remaining()))
            try:
                return self.sock.recv(4096)
            except TimeoutError:
                if time.monotonic() >= self.deadline:
                    raise
                check(self)
        self.sock.settimeout(self.remaining())
        return self.sock.recv(4096)

    def _fill(self) -> None:
        try:
            chunk = self._recv()
        except (TimeoutError, ssl.SSLWantReadError, ReadTimeout):
            self._record_partial("no line end before the deadline")
            raise ReadTimeout() from None
        except (ConnectionResetError, BrokenPipeError, ssl.SSLEOFError, ssl.SSLZeroReturnError):
            raise ConnectionClosed() from None
        except OSError as exc:
            raise ConnectionClosed(exc.errno) from None
        if not chunk:
            raise ConnectionClosed()
        self.bytes_read += len(chunk)
        self._buf += chunk
        if self.bytes_read > self.options.max_bytes:
            self._record_partial("step byte limit reached")
            raise LineTooLong("step byte limit")

    def read_raw_line(self) -> bytes:
        """One line without its CRLF. The buffer never holds more than max_line + one chunk."""
        while True:
            end = self._buf.find(b"\n")
            if end >= 0:
                line = bytes(self._buf[:end])
                del self._buf[: end + 1]
                if len(line) > self.options.max_line:
                    self.transcript.server_head(line, note=f"line too long: {len(line)} bytes")
                    raise LineTooLong("line")
                return line.rstrip(b"\r")
            if len(self._buf) > self.options.max_line:
                self._record_partial("line too long")
                raise LineTooLong("line")
            self._fill()

    def readline(self) -> str:
        line = self.read_raw_line().decode("utf-8", errors="replace")
        self.transcript.server(line)
        return line

    def read_exact(self, size: int) -> bytes:
        """An IMAP literal: `size` bytes, within the step's byte budget."""
        if size > self.options.max_bytes:
            raise LineTooLong("literal")
        while len(self._buf) < size:
            self._fill()
        data = bytes(self._buf[:size])
        del self._buf[:size]
        return data

    def send(self, data: bytes, *, shown: str | None = None) -> None:
        """Send raw bytes; `shown` is what the transcript records (None: the line itself, redacted)."""
        text = shown if shown is not None else data.decode("utf-8", errors="replace").rstrip("\r\n")
        self.transcript.client(text)
        self.sock.settimeout(self.remaining())
        try:
            self.sock.sendall(data)
        except TimeoutError:
            raise ReadTimeout() from None
        except OSError:
            raise ConnectionClosed() from None

    def send_line(self, line: str, *, shown: str | None = None) -> None:
        self.send(line.encode("utf-8") + b"\r\n", shown=shown if shown is not None else line)

    def start_tls(self, context: ssl.SSLContext, *, server_hostname: str) -> None:
        """Handshake over this socket. Bytes the server sent before the handshake are dropped: accepting them
        would let a man in the middle inject answers into the protected session (CVE-2011-0411 style)."""
        if self._buf:
            self.transcript.note(f"discarded {len(self._buf)} bytes received before TLS")
            self._buf.clear()
        tls_sock = context.wrap_socket(self.sock, server_hostname=server_hostname, do_handshake_on_connect=False)
        self.sock = tls_sock
        tls_sock.settimeout(self.remaining())
        try:
            tls_sock.do_handshake()
        except TimeoutError:
            raise ReadTimeout() from None
        self.tls = True

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


def _connect_one(ip: IPAddress, port: int, timeout: float) -> socket.socket:
    family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect((str(ip), port))
    except BaseException:
        sock.close()
        raise
    return sock


def connect_checked(host: str, port: int, *, options: ProbeOptions,
                    addresses: list[IPAddress] | None = None) -> tuple[socket.socket, str, dict]:
    """Resolve `host`, refuse any address the policy forbids, connect to a checked address.

    The whole phase (all addresses) is bounded by connect_timeout and the run's deadline. `addresses`, when
    given, are the already-resolved ones (still checked here). Returns (socket, ip, details).
    Raises ProbeError: dns_not_found, timeout (DNS, or run_deadline), target_not_allowed, port_closed,
    port_filtered.
    """
    options.policy.check_port(port)
    started = time.monotonic()
    deadline, cut_by_run = ends_at(options.connect_timeout, options.deadline)
    if addresses is None:
        addresses = resolve_addresses(host, timeout=options.connect_timeout, nameservers=options.nameservers,
                                      deadline=options.deadline)
    for addr in addresses:
        # Every answer is checked, not only the one used: a name that mixes public and private
        # answers is the DNS-rebinding shape this guard exists for.
        options.policy.check_address(addr)
    candidates = addresses[: options.max_addresses]
    attempts: list[dict] = []
    details: dict = {"host": host, "port": port, "addresses": [str(a) for a in addresses], "attempts": attempts}
    for index, addr in enumerate(candidates):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        # Share what is left between the addresses not tried yet, so one silent address cannot eat it all.
        budget = remaining / (len(candidates) - index)
        try:
            sock = _connect_one(addr, port, budget)
        except TimeoutError:
            attempts.append({"ip": str(addr), "result": "timeout"})
        except ConnectionRefusedError:
            attempts.append({"ip": str(addr), "result": "refused"})
        except OSError as exc:
            attempts.append({"ip": str(addr), "result": errno.errorcode.get(exc.errno or 0, "error")})
        else:
            attempts.append({"ip": str(addr), "result": "open"})
            details["ip"] = str(addr)
            details["connect_ms"] = int((time.monotonic() - started) * 1000)
            return sock, str(addr), details
    if attempts and all(a["result"] == "refused" for a in attempts):
        raise ProbeError(Code.PORT_CLOSED, reason="refused", details=details)
    reason = "timeout" if any(a["result"] == "timeout" for a in attempts) or not attempts else "unreachable"
    if reason == "timeout" and cut_by_run:
        # The run's time ran out, not the server's chance to answer: no verdict on the port.
        raise run_deadline_error(details)
    raise ProbeError(Code.PORT_FILTERED, transient=True, reason=reason, details=details)


# --- walking the steps of one session ------------------------------------------------------------------

class SessionStopped(Exception):
    """A step failed; the session ends and the walk decides what the remaining steps become."""


class SessionRecorder:
    """Runs the steps of one protocol session: times each, keeps its transcript, turns errors into codes,
    appends the StepResult and tells `on_step` (so the walk can write each row as it finishes)."""

    def __init__(self, result: SessionResult, *, options: ProbeOptions, secrets: list[str],
                 on_step: Callable[[StepResult], None] | None = None):
        self.result = result
        self.options = options
        self.secrets = secrets
        self.on_step = on_step
        self.channel: Channel | None = None

    def new_transcript(self) -> Transcript:
        return Transcript(secrets=self.secrets, limit=self.options.max_transcript_lines)

    @contextlib.contextmanager
    def step(self, name: Step, *, on_closed: tuple[Code, bool, str] = (Code.SERVER_BUSY, True, "closed"),
             on_timeout: tuple[Code, bool, str] = (Code.TIMEOUT, True, "deadline"),
             timeout: float | None = None) -> Iterator[StepResult]:
        started = time.monotonic()
        transcript = self.new_transcript()
        step = StepResult(step=name)
        failure: tuple[Code, bool, str, dict] | None = None
        unexpected = False
        try:
            if self.channel is not None:
                step.details.update(host=self.channel.host, ip=self.channel.ip, port=self.channel.port)
                self.channel.start_step(transcript, timeout=timeout)  # past the run's deadline: ProbeError
            yield step
        except ProbeError as exc:
            failure = (exc.code, exc.transient, exc.reason, exc.details)
        except ReadTimeout:
            cut_by_run = self.channel is not None and self.channel.cut_by_run
            failure = (Code.TIMEOUT, True, RUN_DEADLINE, {}) if cut_by_run else (*on_timeout, {})
        except ConnectionClosed:
            failure = (*on_closed, {})
        except LineTooLong as exc:
            # A line or answer far past any real server's: not the protocol we expect.
            failure = (Code.WRONG_PROTOCOL, False, "response_too_long", {"limit": str(exc)})
        except OSError as exc:
            failure = (on_closed[0], on_closed[1], errno.errorcode.get(exc.errno or 0, "network_error"), {})
        except BaseException:
            unexpected = True  # a bug, or SessionStopped from a nested step: not this step's outcome
            raise
        finally:
            if not unexpected:
                if failure is not None:
                    code, transient, reason, details = failure
                    step.code, step.transient = code, transient
                    step.details.update({k: v for k, v in details.items() if k not in step.details})
                    if reason:
                        step.details["reason"] = reason
                self._finish(step, transcript, started)
        if failure is not None or (not step.ok and not step.is_warning):
            raise SessionStopped()

    def _finish(self, step: StepResult, transcript: Transcript, started: float) -> None:
        if self.channel is not None:
            step.details.setdefault("bytes_read", self.channel.bytes_read)
        step.transcript = transcript.lines
        if transcript.alerts:
            # The server asked for these to be shown. A failure keeps its code; otherwise the step is a warning.
            step.details["server_alerts"] = list(transcript.alerts)
            if step.ok:
                step.code = Code.SERVER_ALERT
        step.duration_ms = int((time.monotonic() - started) * 1000)
        self.result.steps.append(step)
        if self.on_step is not None:
            self.on_step(step)


def open_channel(host: str, port: int, *, options: ProbeOptions, transcript: Transcript,
                 addresses: list[IPAddress] | None = None) -> Channel:
    """Connect (policy-checked) and wrap the socket in a Channel. Raises ProbeError like connect_checked."""
    sock, ip, _details = connect_checked(host, port, options=options, addresses=addresses)
    return Channel(sock, host=host, ip=ip, port=port, options=options, transcript=transcript)


def connect_steps(rec: SessionRecorder, *, host: str, port: int) -> tuple[Channel, list[IPAddress]]:
    """The "dns" and "port" steps every session starts with; the channel becomes the recorder's."""
    options = rec.options
    with rec.step(Step.DNS) as step:
        step.details["host"] = host
        addresses = resolve_addresses(host, timeout=options.connect_timeout, nameservers=options.nameservers,
                                      deadline=options.deadline)
        step.details.update(shown_addresses(addresses, options.policy))
    with rec.step(Step.PORT) as step:
        sock, ip, details = connect_checked(host, port, options=options, addresses=addresses)
        step.details.update(details)
    rec.channel = Channel(sock, host=host, ip=ip, port=port, options=options, transcript=rec.new_transcript())
    return rec.channel, addresses
