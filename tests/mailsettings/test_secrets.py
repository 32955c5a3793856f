"""Mail passwords are encrypted at rest with MultiFernet; rotation keeps old rows readable."""
import pytest
from cryptography.fernet import Fernet
from django.db import connection

from mailsettings.models import MailAccount
from tests.factories import account_make
from tests.helpers import SENTINEL

pytestmark = pytest.mark.django_db



def make_account(owner):
    return account_make(owner, "s@acme.test", incoming_password=SENTINEL)


def raw_row(pk):
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM mailsettings_mailaccount WHERE id = %s", [pk])
        return " ".join(str(v) for v in cursor.fetchone())


def test_a_password_round_trips_but_a_raw_sql_read_shows_no_plaintext(user_s):
    account = make_account(user_s)
    assert MailAccount.objects.get(pk=account.pk).incoming_password == SENTINEL
    assert SENTINEL not in raw_row(account.pk)


def test_rotation_to_a_new_key_keeps_old_rows_readable_and_reencrypts_them(user_s, settings):
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    account = make_account(user_s)
    before = raw_row(account.pk)
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    reread = MailAccount.objects.get(pk=account.pk)
    assert reread.incoming_password == SENTINEL
    reread.save()
    settings.FIELD_ENCRYPTION_KEYS = [new_key]
    assert MailAccount.objects.get(pk=account.pk).incoming_password == SENTINEL
    assert raw_row(account.pk) != before


def test_a_row_encrypted_under_a_removed_key_fails_without_showing_the_ciphertext(user_s, settings):
    from django.core.exceptions import ImproperlyConfigured

    account = make_account(user_s)
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(ImproperlyConfigured) as exc:
        MailAccount.objects.get(pk=account.pk)
    assert "gAAAA" not in str(exc.value)


def test_dumpdata_writes_no_plaintext_and_loaddata_restores_the_password(user_s, tmp_path):
    from django.core.management import call_command

    from mailsettings.secrets import SERIALIZED_MARKER

    account = make_account(user_s)
    dump = tmp_path / "accounts.json"
    call_command("dumpdata", "mailsettings.MailAccount", output=str(dump), verbosity=0)
    text = dump.read_text()
    assert SENTINEL not in text and SERIALIZED_MARKER in text
    MailAccount.objects.filter(pk=account.pk).delete()
    call_command("loaddata", str(dump), verbosity=0)
    restored = MailAccount.objects.get(pk=account.pk)
    assert restored.incoming_password == SENTINEL and restored.smtp_password == ""
    assert SENTINEL not in raw_row(account.pk)


def test_a_password_that_merely_starts_with_the_marker_stays_as_typed(user_s):
    from mailsettings.secrets import SERIALIZED_MARKER

    field = MailAccount._meta.get_field("incoming_password")
    typed = SERIALIZED_MARKER + "not-a-token"
    assert field.to_python(typed) == typed
    account = make_account(user_s)
    account.incoming_password = typed
    account.save()
    assert MailAccount.objects.get(pk=account.pk).incoming_password == typed
