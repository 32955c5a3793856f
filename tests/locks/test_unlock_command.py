"""`manage.py unlock_settings EMAIL [--reason TEXT]`: the operators' way out, audited as the command."""
import getpass

import pytest
from django.core.management import ManagementUtility, call_command
from django.core.management.base import CommandError

from accounts.models import AuditEvent
from locks.models import SettingsLock
from locks.services import settings_lock_create

pytestmark = pytest.mark.django_db


def test_it_releases_the_lock_and_says_whose_it_was(admin_a, admin_b, capsys):
    settings_lock_create(actor=admin_a, user=admin_b)
    call_command("unlock_settings", "Admin.B@acme.test", "--reason", "admin A left the company")
    out = capsys.readouterr().out
    assert "Unlocked the mail settings of admin.b@acme.test (Acme), locked by admin.a@acme.test" in out
    lock = SettingsLock.objects.get(user=admin_b)
    assert lock.released_at is not None and lock.released_by is None
    assert lock.release_reason == "admin A left the company"


def test_it_is_audited_as_the_operator_running_the_command(admin_a, admin_b, org1):
    settings_lock_create(actor=admin_a, user=admin_b)
    call_command("unlock_settings", "admin.b@acme.test")
    event = AuditEvent.objects.get(action="settings_lock.released")
    assert event.organization == org1 and event.actor is None
    assert event.details["via"] == "unlock_settings command"
    assert event.details["operator"] == getpass.getuser()


def test_an_unknown_email_exits_2(db):
    with pytest.raises(CommandError) as caught:
        call_command("unlock_settings", "nobody@acme.test")
    assert caught.value.returncode == 2
    assert "nobody@acme.test" in str(caught.value)


def test_a_user_who_is_not_locked_exits_2(user_s):
    with pytest.raises(CommandError) as caught:
        call_command("unlock_settings", "user.s@acme.test")
    assert caught.value.returncode == 2
    assert "not locked" in str(caught.value)
    assert not AuditEvent.objects.filter(action="settings_lock.released").exists()


@pytest.mark.parametrize("argv", [[], ["a@acme.test", "b@acme.test"], ["a@acme.test", "--colour", "red"]])
def test_bad_arguments_exit_2_from_the_command_line(db, argv, capsys):
    with pytest.raises(SystemExit) as caught:
        ManagementUtility(["manage.py", "unlock_settings", *argv]).execute()
    assert caught.value.code == 2


def test_the_exit_code_from_the_command_line_is_2_for_an_unknown_email(db, capsys):
    with pytest.raises(SystemExit) as caught:
        ManagementUtility(["manage.py", "unlock_settings", "nobody@acme.test"]).execute()
    assert caught.value.code == 2
    assert "No user has the email nobody@acme.test." in capsys.readouterr().err


def test_with_operator_the_superuser_is_the_audit_actor_and_the_releaser(admin_a, admin_b, operator, org1):
    settings_lock_create(actor=admin_a, user=admin_b)
    call_command("unlock_settings", "admin.b@acme.test", "--operator", "Operator@mailbind.test", "--reason", "left")
    lock = SettingsLock.objects.get(user=admin_b)
    assert lock.released_by == operator and lock.release_reason == "left"
    event = AuditEvent.objects.get(action="settings_lock.released")
    assert (event.actor, event.actor_email, event.organization) == (operator, "operator@mailbind.test", org1)
    assert event.details["via"] == "unlock_settings command" and event.details["operator"] == getpass.getuser()


@pytest.mark.parametrize("who", ["admin.a@acme.test", "nobody@mailbind.test"])
def test_an_operator_who_is_not_a_superuser_exits_2_and_unlocks_nothing(admin_a, admin_b, who):
    settings_lock_create(actor=admin_a, user=admin_b)
    with pytest.raises(CommandError) as caught:
        call_command("unlock_settings", "admin.b@acme.test", "--operator", who)
    assert caught.value.returncode == 2 and "superuser" in str(caught.value)
    assert SettingsLock.objects.get(user=admin_b).is_active
    assert not AuditEvent.objects.filter(action="settings_lock.released").exists()
