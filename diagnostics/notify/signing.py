"""Webhook signatures: X-Mailbind-Signature = "v1=" + hex HMAC-SHA256(secret, timestamp + "." + body), with the
Unix timestamp in X-Mailbind-Timestamp. A receiver recomputes it over the raw body and refuses old timestamps
(README: "Verifying webhooks")."""
from __future__ import annotations

import hashlib
import hmac
import secrets

SIGNATURE_HEADER = "X-Mailbind-Signature"
TIMESTAMP_HEADER = "X-Mailbind-Timestamp"
SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret


def secret_generate() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature(*, secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"v1={digest}"


def signature_valid(*, secret: str, timestamp: str, body: bytes, header: str, now: float,
                    tolerance: int = 300) -> bool:
    """What a receiver does (the tests use it as one): the timestamp is recent and the signature matches."""
    try:
        stamp = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs(now - stamp) > tolerance:
        return False
    return hmac.compare_digest(signature(secret=secret, timestamp=stamp, body=body), header or "")
