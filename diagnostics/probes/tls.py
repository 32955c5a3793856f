"""TLS for probes: a verifying context (system CAs plus an optional CA file), the handshake on a Channel,
and the facts of the server certificate (subject, issuer, names, expiry, days left).

The host name checked is the configured host name (SNI + check_hostname), never the IP the socket
went to: the IP was chosen by our resolver, the name is what the user trusts.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import ipaddress
import os
import ssl
from collections.abc import Callable

from cryptography import x509
from cryptography.x509.oid import ExtensionOID

from diagnostics.classify import classify_certificate_error, classify_certificate_expiry, classify_tls_error
from diagnostics.probes.deadline import timeout_reason
from diagnostics.probes.net import Channel, ConnectionClosed, ReadTimeout, TransportError
from diagnostics.results import Code, ProbeError, StepResult


def make_context(*, ca_file: str | None = None, verify: bool = True) -> ssl.SSLContext:
    """System trust store plus `ca_file` (extra CAs, e.g. an on-premise server's). A missing ca_file raises:
    that is the operator's misconfiguration, not the user's server.

    Contexts are built once per process and shared (an SSLContext is safe to share once configured): loading the
    system trust store costs about 30 ms, most of a run's CPU when each of its sessions built its own. A changed
    ca_file (new modification time) gets a new context."""
    stamp = os.stat(ca_file).st_mtime_ns if ca_file else None
    return _cached_context(ca_file or None, stamp, verify)


@functools.lru_cache(maxsize=16)
def _cached_context(ca_file: str | None, stamp: int | None, verify: bool) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    if not verify:
        # Only used to read a certificate that already failed verification, to tell the user why.
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def server_hostname(host: str) -> str:
    host = host.strip().rstrip(".")
    with contextlib.suppress(ValueError):
        return str(ipaddress.ip_address(host.strip("[]")))
    return host


def certificate_details(der: bytes, *, now: dt.datetime | None = None) -> dict:
    """Plain facts of a DER certificate; days_left is negative once expired."""
    cert = x509.load_der_x509_certificate(der)
    now = now or dt.datetime.now(dt.UTC)
    names: list[str] = []
    with contextlib.suppress(x509.ExtensionNotFound):
        san = cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value
        names = [*san.get_values_for_type(x509.DNSName), *(str(ip) for ip in san.get_values_for_type(x509.IPAddress))]
    not_after = cert.not_valid_after_utc
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "names": names[:50],
        "not_before": cert.not_valid_before_utc.isoformat(),
        "not_after": not_after.isoformat(),
        "days_left": (not_after - now).days,
    }


def upgrade(channel: Channel, *, host: str, context: ssl.SSLContext) -> dict:
    """Handshake on `channel`, verifying the chain and `host`. Returns version, cipher and certificate.

    Raises ProbeError: tls_certificate_invalid (reason expired / wrong_name / untrusted / not_yet_valid),
    tls_handshake_failed (reason server_not_tls / protocol_version / no_shared_cipher / closed ...),
    timeout.
    """
    try:
        channel.start_tls(context, server_hostname=server_hostname(host))
    except ssl.SSLCertVerificationError as exc:
        verdict = classify_certificate_error(exc.verify_code, exc.verify_message or "")
        raise ProbeError(verdict.code, reason=verdict.reason,
                         details={"verify_code": exc.verify_code, "verify_message": exc.verify_message}) from None
    except ssl.SSLError as exc:
        verdict = classify_tls_error(exc.reason, str(exc))
        raise ProbeError(verdict.code, reason=verdict.reason, details={"ssl_error": exc.reason or ""}) from None
    except ReadTimeout:
        reason = timeout_reason(channel.cut_by_run, "tls_handshake_timeout")
        raise ProbeError(Code.TIMEOUT, transient=True, reason=reason) from None
    except (ConnectionClosed, ConnectionError):
        raise ProbeError(Code.TLS_HANDSHAKE_FAILED, reason="closed") from None
    sock = channel.sock
    assert isinstance(sock, ssl.SSLSocket)  # noqa: S101 - start_tls just made it one
    cipher = sock.cipher()
    details: dict = {"tls_version": sock.version(), "cipher": cipher[0] if cipher else None, "server_name": host}
    der = sock.getpeercert(binary_form=True)
    if der:
        details["certificate"] = certificate_details(der)
    return details


def unverified_certificate(open_channel: Callable[[], Channel], *, host: str) -> dict | None:
    """Connect again without verification only to read the certificate that failed, so the details can say
    what it is (expired on..., issued for...). Nothing is sent over this connection."""
    channel: Channel | None = None
    try:
        channel = open_channel()
        channel.start_tls(make_context(verify=False), server_hostname=server_hostname(host))
        der = channel.sock.getpeercert(binary_form=True)  # type: ignore[attr-defined]
        return certificate_details(der) if der else None
    except (ProbeError, TransportError, OSError, ValueError):  # ssl.SSLError is an OSError
        # Best effort: the failing verdict stands without these details. Nothing broader is caught: Celery's
        # SoftTimeLimitExceeded (an Exception) must reach the task so the run ends in time.
        return None
    finally:
        if channel is not None:
            channel.close()


def flag_expiring(step: StepResult, *, warning_days: int) -> None:
    """After a verified handshake: a certificate that expires within `warning_days` makes the step a warning
    (tls_certificate_expiring) with the date and the days left, so a periodic re-check sees it before it breaks."""
    certificate = step.details.get("certificate") or {}
    verdict = classify_certificate_expiry(certificate.get("days_left"), warning_days=warning_days)
    if verdict.code != Code.OK:
        step.code = verdict.code
        step.details["expiring"] = {"not_after": certificate["not_after"], "days_left": certificate["days_left"],
                                    "warning_days": warning_days}
