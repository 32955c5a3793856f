"""manage.py rotate_encryption_keys: re-encrypt every stored mail password under the first key.

Rotation: put the new key first in FIELD_ENCRYPTION_KEYS (keep the old ones after it), run this command, then
remove the old keys.
"""
from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from mailsettings.secrets import secret_rotators
from mailsettings.services import mail_account_secrets_rotate


class Command(BaseCommand):
    help = "Re-encrypt every stored mail password under the first key of FIELD_ENCRYPTION_KEYS."

    def handle(self, *args, **options) -> None:
        try:
            counts = mail_account_secrets_rotate()
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"Re-encrypted {counts['touched']} mail account row(s) under the first key; "
            f"{counts['current']} already used it; {counts['changed']} changed meanwhile and were left as written."
        )
        for label, rotate in secret_rotators.items():
            try:
                counts = rotate()
            except ImproperlyConfigured as exc:
                raise CommandError(str(exc)) from None
            self.stdout.write(f"Re-encrypted {counts['touched']} {label} row(s); {counts['current']} already used the "
                              f"first key; {counts['changed']} changed meanwhile.")
        self.stdout.write("The other keys can now be removed from FIELD_ENCRYPTION_KEYS.")
