"""Token hashing: the token is shown once; the database keeps only its SHA-256."""
import hashlib
import secrets

TOKEN_BYTES = 32


def token_generate() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
