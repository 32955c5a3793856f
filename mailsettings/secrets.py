"""Secrets at rest: MultiFernet over FIELD_ENCRYPTION_KEYS (the first key encrypts, every key decrypts).

Rotation: put a new key first, keep the old ones after it, run `manage.py rotate_encryption_keys`, then drop the
old keys.
"""
from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


@lru_cache(maxsize=8)
def _fernet_for(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty: mail passwords cannot be stored.")
    return MultiFernet([Fernet(key.encode() if isinstance(key, str) else key) for key in keys])


def fernet() -> MultiFernet:
    return _fernet_for(tuple(settings.FIELD_ENCRYPTION_KEYS))


def secret_encrypt(plaintext: str) -> str:
    return fernet().encrypt(plaintext.encode()).decode()


def secret_decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        # Never include the token: it is the ciphertext of a password.
        raise ImproperlyConfigured(
            "A stored secret cannot be decrypted with FIELD_ENCRYPTION_KEYS: was a key removed before rotation?"
        ) from None


def secret_rotate(token: str) -> str:
    """Re-encrypt under the first key (MultiFernet.rotate keeps the original timestamp)."""
    return fernet().rotate(token.encode()).decode()


# Serialized values (dumpdata, fixtures) are ciphertext behind this marker, never the plaintext.
SERIALIZED_MARKER = "mailbind-fernet:"


class EncryptedTextField(models.TextField):
    """Stores Fernet tokens; Python code sees the plaintext. Empty string stays empty (no secret).

    Serialization (dumpdata) writes "mailbind-fernet:<token>" and to_python (loaddata) turns it back, so a dump
    holds no password and loads into a database with the same keys.
    """

    def value_to_string(self, obj):
        value = self.value_from_object(obj)
        if value in (None, ""):
            return value
        return SERIALIZED_MARKER + secret_encrypt(value)

    def to_python(self, value):
        if isinstance(value, str) and value.startswith(SERIALIZED_MARKER):
            try:
                return fernet().decrypt(value[len(SERIALIZED_MARKER):].encode()).decode()
            except InvalidToken:
                return value  # a password that merely starts with the marker stays as typed
        return super().to_python(value)

    def from_db_value(self, value, expression, connection):
        if value in (None, ""):
            return value
        return secret_decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value in (None, ""):
            return value
        return secret_encrypt(value)
