"""manage.py rotate_encryption_keys: every secret under the first key, the rows counted, the old key droppable."""
from __future__ import annotations

from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.db import connection

from mailsettings.models import MailAccount
from tests.factories import account_create
from tests.helpers import SENTINEL

pytestmark = pytest.mark.django_db


def raw_secrets(pk) -> tuple[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT incoming_password, smtp_password FROM mailsettings_mailaccount WHERE id = %s", [pk])
        return cursor.fetchone()


def run() -> str:
    out = StringIO()
    call_command("rotate_encryption_keys", stdout=out)
    return out.getvalue()


def test_it_reencrypts_every_row_reports_the_count_and_the_old_key_can_go(settings, user_s, admin_a, admin_b):
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    same = account_create(user_s, address="one@example.com")
    separate = account_create(admin_a, address="two@example.com", smtp_same_credentials=False,
                              smtp_username="out", smtp_password="smtp secret")
    before = {a.pk: raw_secrets(a.pk) for a in (same, separate)}

    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    account_create(admin_b, address="three@example.com")  # written under the new key already

    output = run()
    assert "Re-encrypted 2 mail account row(s)" in output
    assert "1 already used it" in output
    for account in (same, separate):
        incoming, smtp = raw_secrets(account.pk)
        assert incoming != before[account.pk][0]
        Fernet(new_key.encode()).decrypt(incoming.encode())  # under the new key alone
    assert raw_secrets(same.pk)[1] == ""  # no secret stays no secret

    settings.FIELD_ENCRYPTION_KEYS = [new_key]
    assert MailAccount.objects.get(pk=same.pk).incoming_password == SENTINEL
    assert MailAccount.objects.get(pk=separate.pk).smtp_password == "smtp secret"
    assert "Re-encrypted 0 mail account row(s)" in run()  # a second run has nothing to do


def test_it_never_prints_a_secret(settings, user_s):
    account_create(user_s)
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), settings.FIELD_ENCRYPTION_KEYS[0]]
    output = run()
    assert SENTINEL not in output and "gAAAA" not in output


def test_a_row_no_key_decrypts_stops_the_command_without_showing_the_ciphertext(settings, user_s):
    account = account_create(user_s)
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(CommandError) as exc:
        run()
    assert str(account.pk) in str(exc.value)
    assert "gAAAA" not in str(exc.value)
