"""The guarded HTTPS fetch: the one way the service reads a web resource (autoconfig files, an ISPDB mirror).

Same guard as every probe (probes.net.connect_checked): resolve, refuse any address the policy forbids (private,
loopback, metadata...), connect to the checked address; then TLS verified against the host name, HTTP/1.1 parsed by
h11, every read bounded by the deadline and the body by `max_bytes`. Redirects are followed only to https (or http
when allowed), each target resolved and checked again, at most `max_redirects` times. Plain http only when the
caller allows it.
"""

from __future__ import annotations

import contextlib
import re
import socket
import ssl
import time
from dataclasses import dataclass, replace
from urllib.parse import urljoin, urlsplit

import h11

from diagnostics.probes import tls
from diagnostics.probes.deadline import ends_at
from diagnostics.probes.net import ProbeOptions, connect_checked
from diagnostics.results import Code, ProbeError

USER_AGENT = "mailbind-discovery/1"
_REDIRECTS = {301, 302, 303, 307, 308}
_MAX_AGE = re.compile(r"max-age\s*=\s*(\d+)", re.I)


class FetchError(Exception):
    """A fetch that gave no usable body. `reason`: target_not_allowed, dns, timeout, refused, tls, too_large,
    http_status, redirect_refused, too_many_redirects, bad_response, bad_url."""

    def __init__(self, reason: str, *, url: str, details: dict | None = None) -> None:
        self.reason = reason
        self.url = url
        self.details = dict(details or {})
        super().__init__(f"{reason}: {url}")


@dataclass(frozen=True)
class FetchResult:
    url: str  # the final URL, after redirects
    status: int
    body: bytes
    max_age: int | None  # Cache-Control max-age, when the server gave one
    scheme: str


def _max_age(headers: list[tuple[bytes, bytes]]) -> int | None:
    for name, value in headers:
        if name.lower() == b"cache-control":
            match = _MAX_AGE.search(value.decode("latin-1"))
            if match:
                return int(match.group(1))
    return None


def fetch(url: str, *, options: ProbeOptions, max_bytes: int, timeout: float, allow_http: bool = False,
          max_redirects: int = 3) -> FetchResult:
    """GET `url` and return a 200's body. Raises FetchError. `timeout` bounds the whole fetch (redirects included),
    cut by options.deadline."""
    ends, _cut = ends_at(timeout, options.deadline)
    bounded = replace(options, deadline=ends)
    current = url
    for _hop in range(max_redirects + 1):
        status, headers, body = _get_once(current, options=bounded, max_bytes=max_bytes, allow_http=allow_http)
        if status in _REDIRECTS:
            location = next((v.decode("latin-1") for n, v in headers if n.lower() == b"location"), "")
            if not location:
                raise FetchError("bad_response", url=current)
            target = urljoin(current, location)
            if urlsplit(target).scheme not in (("https", "http") if allow_http else ("https",)):
                raise FetchError("redirect_refused", url=current, details={"location": target})
            current = target
            continue
        if status != 200:
            raise FetchError("http_status", url=current, details={"status": status})
        return FetchResult(url=current, status=status, body=body, max_age=_max_age(headers),
                           scheme=urlsplit(current).scheme)
    raise FetchError("too_many_redirects", url=current)


def _get_once(url: str, *, options: ProbeOptions, max_bytes: int,
              allow_http: bool) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    parts = urlsplit(url)
    if parts.scheme not in (("https", "http") if allow_http else ("https",)) or not parts.hostname:
        raise FetchError("bad_url", url=url)
    host = parts.hostname
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        sock, ip, _details = connect_checked(host, port, options=options)
    except ProbeError as error:
        reason = {Code.TARGET_NOT_ALLOWED: "target_not_allowed", Code.DNS_NOT_FOUND: "dns",
                  Code.PORT_CLOSED: "refused", Code.PORT_FILTERED: "timeout", Code.TIMEOUT: "timeout"}
        raise FetchError(reason.get(error.code, "refused"), url=url,
                         details={"host": host, **error.details}) from None
    try:
        if parts.scheme == "https":
            sock = _wrap(sock, host=host, options=options, url=url)
        return _exchange(sock, parts=parts, host=host, options=options, max_bytes=max_bytes, url=url)
    finally:
        with contextlib.suppress(OSError):
            sock.close()


def _remaining(options: ProbeOptions, url: str) -> float:
    left = (options.deadline or time.monotonic()) - time.monotonic()
    if left <= 0:
        raise FetchError("timeout", url=url)
    return left


def _wrap(sock: socket.socket, *, host: str, options: ProbeOptions, url: str) -> ssl.SSLSocket:
    context = tls.make_context(ca_file=options.ca_file)
    wrapped = context.wrap_socket(sock, server_hostname=tls.server_hostname(host), do_handshake_on_connect=False)
    try:
        wrapped.settimeout(_remaining(options, url))
        wrapped.do_handshake()
    except TimeoutError:
        raise FetchError("timeout", url=url) from None
    except (ssl.SSLError, OSError) as error:
        raise FetchError("tls", url=url, details={"error": type(error).__name__}) from None
    return wrapped


def _exchange(sock: socket.socket, *, parts, host: str, options: ProbeOptions, max_bytes: int,
              url: str) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    conn = h11.Connection(our_role=h11.CLIENT, max_incomplete_event_size=16 * 1024)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    request = h11.Request(method="GET", target=target, headers=[
        ("Host", host if parts.port is None else f"{host}:{parts.port}"), ("User-Agent", USER_AGENT),
        ("Accept", "application/xml, text/xml"), ("Connection", "close")])
    try:
        sock.settimeout(_remaining(options, url))
        sock.sendall(conn.send(request) + conn.send(h11.EndOfMessage()))
        status, headers, body = 0, [], bytearray()
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                sock.settimeout(_remaining(options, url))
                conn.receive_data(sock.recv(16 * 1024))
                continue
            if isinstance(event, h11.Response):
                status, headers = event.status_code, list(event.headers)
                length = next((v for n, v in headers if n.lower() == b"content-length"), None)
                if length is not None and length.isdigit() and int(length) > max_bytes:
                    raise FetchError("too_large", url=url, details={"content_length": int(length)})
                if status in _REDIRECTS:
                    return status, headers, b""
            elif isinstance(event, h11.Data):
                body += event.data
                if len(body) > max_bytes:
                    raise FetchError("too_large", url=url, details={"max_bytes": max_bytes})
            elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
                return status, headers, bytes(body)
    except TimeoutError:
        raise FetchError("timeout", url=url) from None
    except h11.RemoteProtocolError:
        raise FetchError("bad_response", url=url) from None
    except (ssl.SSLError, OSError):
        raise FetchError("bad_response", url=url) from None
