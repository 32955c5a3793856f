"""Secrets at rest: MultiFernet over FIELD_ENCRYPTION_KEYS (the first key encrypts, every key decrypts).

Rotation: put a new key first, keep the old ones after it, run `manage.py rotate_encryption_keys`, then drop the
old keys.
"""
from __future__ import annotations

from collections.abc import Callable
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


# Other apps' encrypted columns (diagnostics: webhook signing secrets), re-encrypted by `rotate_encryption_keys`
# after the mail passwords. Registered from their AppConfig.ready(); mailsettings never imports them.
SecretRotator = Callable[[], dict[str, int]]
secret_rotators: dict[str, SecretRotator] = {}


def secret_rotator_register(label: str, rotate: SecretRotator) -> None:
    secret_rotators[label] = rotate


def _decrypts(key: Fernet, token: str) -> bool:
    try:
        key.decrypt(token.encode())
    except InvalidToken:
        return False
    return True


def secret_column_rotate(model, field_name: str) -> dict[str, int]:
    """Re-encrypt one EncryptedTextField column of every row under the first key, on the ciphertext, writing a row
    only if it is unchanged since it was read. Returns {"touched", "current", "changed"} like the mail passwords'."""
    from django.db.models import TextField, Value
    from django.db.models.functions import Cast

    first = Fernet(settings.FIELD_ENCRYPTION_KEYS[0].encode())
    raw = Cast(field_name, output_field=TextField())
    counts = {"touched": 0, "current": 0, "changed": 0}
    for pk, token in model.objects.annotate(raw_secret=raw).values_list("pk", "raw_secret").order_by("pk"):
        if not token or _decrypts(first, token):
            counts["current"] += 1
            continue
        new = Value(secret_rotate(token), output_field=TextField())  # an expression: written as it is
        updated = model.objects.annotate(raw_secret=raw).filter(pk=pk, raw_secret=token).update(**{field_name: new})
        counts["touched" if updated else "changed"] += 1
    return counts


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
