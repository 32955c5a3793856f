"""The guarded HTTPS POST of webhooks: the same outbound policy as the probes (every resolved address checked,
private and reserved ranges refused unless WEBHOOKS_ALLOWED_NETWORKS opens them, the socket connected to the
checked address, TLS verified against the URL's host name), a time limit, and a bounded read of the answer."""
from __future__ import annotations

import contextlib
import http.client
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from diagnostics.probes.net import ProbeOptions, connect_checked
from diagnostics.probes.tls import make_context, server_hostname
from diagnostics.results import Code, ProbeError

MAX_ANSWER_BYTES = 16 * 1024


@dataclass(frozen=True)
class PostResult:
    status_code: int | None = None
    error: str = ""  # a stable code when nothing usable came back
    permanent: bool = False  # trying again cannot help (a refused address)
    duration_ms: int = 0

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def webhook_options() -> ProbeOptions:
    timeout = float(settings.WEBHOOKS_TIMEOUT)
    return ProbeOptions.build(
        allowed_networks=settings.WEBHOOKS_ALLOWED_NETWORKS, allowed_ports=None, connect_timeout=timeout,
        step_timeout=timeout, nameservers=tuple(settings.DNS_NAMESERVERS),
        deadline=time.monotonic() + 3 * timeout,
    )


def https_post(url: str, *, body: bytes, headers: dict[str, str]) -> PostResult:
    started = time.monotonic()
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        return PostResult(error="invalid_url", permanent=True)
    host, port = parts.hostname, parts.port or 443
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    options = webhook_options()
    timeout = float(settings.WEBHOOKS_TIMEOUT)
    try:
        sock, _ip, _details = connect_checked(host, port, options=options)
    except ProbeError as exc:
        return PostResult(error=str(exc.code), permanent=exc.code == Code.TARGET_NOT_ALLOWED,
                          duration_ms=_ms(started))
    connection = http.client.HTTPSConnection(host, port, timeout=timeout)
    try:
        context = make_context(ca_file=settings.WEBHOOKS_CA_FILE or None)
        sock.settimeout(timeout)
        connection.sock = context.wrap_socket(sock, server_hostname=server_hostname(host))
        connection.request("POST", path, body=body, headers=headers)
        answer = connection.getresponse()
        answer.read(MAX_ANSWER_BYTES)  # never stored: only the status code is
        return PostResult(status_code=answer.status, duration_ms=_ms(started))
    except TimeoutError:
        return PostResult(error="timeout", duration_ms=_ms(started))
    except OSError as exc:  # ssl.SSLError (a bad certificate), resets, refusals
        name = "tls_error" if exc.__class__.__module__ == "ssl" else "connection_error"
        return PostResult(error=name, duration_ms=_ms(started))
    except http.client.HTTPException:
        return PostResult(error="bad_answer", duration_ms=_ms(started))
    finally:
        with contextlib.suppress(OSError):
            connection.close()
        with contextlib.suppress(OSError):
            sock.close()


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
