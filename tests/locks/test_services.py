"""locks.services: who may lock and unlock, what the history keeps, what the audit trail says."""
import pytest

from accounts.models import AuditEvent
from config.errors import NotFound, PermissionDenied
from locks.errors import (
    AlreadyLocked,
    CannotLockOwnSettings,
    CannotUnlockOwnSettings,
    LockedAdminRestricted,
    NotLocked,
    SettingsLocked,
)
from locks.models import SettingsLock
from locks.selectors import settings_lock_active
from locks.services import (
    settings_lock_create,
    settings_lock_release,
    settings_lock_release_by_operator,
)
from mailsettings.access import mail_settings_check_access
from tests.helpers import OWN_LOCK_MESSAGE

pytestmark = pytest.mark.django_db


def test_an_admin_locks_a_standard_user_of_the_same_organization(admin_a, user_s, org1):
    lock = settings_lock_create(actor=admin_a, user=user_s, reason="Leaving the company")
    assert lock.is_active
    assert (lock.user, lock.organization, lock.locked_by, lock.reason) == (user_s, org1, admin_a, "Leaving the company")
    assert settings_lock_active(user=user_s) == lock


def test_a_lock_is_an_audit_event_of_the_organization(admin_a, user_s, org1):
    lock = settings_lock_create(actor=admin_a, user=user_s, reason="why")
    event = AuditEvent.objects.get(action="settings_lock.created")
    assert (event.organization, event.actor, event.actor_email) == (org1, admin_a, "admin.a@acme.test")
    assert (event.target_type, event.target_id) == ("user", str(user_s.pk))
    assert event.details == {"lock_id": lock.pk, "reason": "why"}


def test_an_admin_locks_another_admin(admin_a, admin_b):
    lock = settings_lock_create(actor=admin_a, user=admin_b)
    assert lock.user == admin_b and lock.reason == ""


def test_locking_a_locked_user_is_already_locked_and_names_the_holder(admin_a, admin_b, user_s):
    first = settings_lock_create(actor=admin_a, user=user_s)
    with pytest.raises(AlreadyLocked) as caught:
        settings_lock_create(actor=admin_b, user=user_s)
    assert caught.value.code == "already_locked" and caught.value.status_code == 409
    assert caught.value.extra == {"locked_by": "Admin.A", "locked_at": first.locked_at.isoformat()}
    assert SettingsLock.objects.filter(user=user_s).count() == 1


def test_a_standard_user_may_not_lock_anyone(user_s, admin_a):
    with pytest.raises(PermissionDenied) as caught:
        settings_lock_create(actor=user_s, user=admin_a)
    assert caught.value.code == "permission_denied" and caught.value.status_code == 403
    assert not SettingsLock.objects.exists()


def test_a_standard_user_may_not_unlock_anyone(admin_a, admin_b, user_s):
    settings_lock_create(actor=admin_a, user=admin_b)
    with pytest.raises(PermissionDenied):
        settings_lock_release(actor=user_s, user=admin_b)
    assert settings_lock_active(user=admin_b) is not None


def test_an_admin_of_another_organization_finds_nobody_to_lock(admin_x, user_s):
    with pytest.raises(NotFound):
        settings_lock_create(actor=admin_x, user=user_s)
    assert not SettingsLock.objects.exists()


def test_an_admin_of_another_organization_finds_nobody_to_unlock(admin_a, admin_x, user_s):
    settings_lock_create(actor=admin_a, user=user_s)
    with pytest.raises(NotFound):
        settings_lock_release(actor=admin_x, user=user_s)
    assert settings_lock_active(user=user_s) is not None


def test_an_admin_cannot_lock_their_own_settings(admin_a):
    with pytest.raises(CannotLockOwnSettings) as caught:
        settings_lock_create(actor=admin_a, user=admin_a)
    assert (caught.value.code, caught.value.status_code) == ("cannot_lock_own_settings", 403)
    assert not SettingsLock.objects.exists()


def test_another_admin_unlocks_and_the_lock_stays_as_history(admin_a, admin_b, user_s):
    lock = settings_lock_create(actor=admin_a, user=user_s, reason="audit")
    released = settings_lock_release(actor=admin_b, user=user_s, reason="done")
    assert released.pk == lock.pk
    assert not released.is_active
    assert (released.released_by, released.release_reason) == (admin_b, "done")
    assert released.released_at >= released.locked_at
    assert settings_lock_active(user=user_s) is None
    assert list(SettingsLock.objects.filter(organization=user_s.organization)) == [released]


def test_an_unlock_is_an_audit_event(admin_a, admin_b, user_s):
    lock = settings_lock_create(actor=admin_a, user=user_s)
    settings_lock_release(actor=admin_b, user=user_s, reason="back")
    event = AuditEvent.objects.get(action="settings_lock.released")
    assert (event.actor, event.target_id) == (admin_b, str(user_s.pk))
    assert event.details == {"lock_id": lock.pk, "reason": "back"}


def test_unlocking_a_user_who_is_not_locked_is_not_locked(admin_a, user_s):
    with pytest.raises(NotLocked) as caught:
        settings_lock_release(actor=admin_a, user=user_s)
    assert caught.value.code == "not_locked" and caught.value.status_code == 409


def test_unlocking_twice_is_not_locked_the_second_time(admin_a, admin_b, user_s):
    settings_lock_create(actor=admin_a, user=user_s)
    settings_lock_release(actor=admin_b, user=user_s)
    with pytest.raises(NotLocked):
        settings_lock_release(actor=admin_a, user=user_s)
    assert AuditEvent.objects.filter(action="settings_lock.released").count() == 1


def test_a_locked_admin_cannot_unlock_their_own_settings(admin_a, admin_b):
    settings_lock_create(actor=admin_a, user=admin_b)
    with pytest.raises(CannotUnlockOwnSettings) as caught:
        settings_lock_release(actor=admin_b, user=admin_b)
    assert caught.value.code == "cannot_unlock_own_settings" and caught.value.status_code == 403
    assert str(caught.value) == OWN_LOCK_MESSAGE
    assert settings_lock_active(user=admin_b) is not None


def test_an_admin_who_is_not_locked_unlocking_themselves_is_told_nothing_is_locked(admin_b):
    with pytest.raises(NotLocked):
        settings_lock_release(actor=admin_b, user=admin_b)


def test_a_locked_admin_cannot_lock_others_but_still_unlocks_them(admin_a, admin_b, user_s):
    settings_lock_create(actor=admin_a, user=user_s)
    settings_lock_create(actor=admin_a, user=admin_b)
    with pytest.raises(LockedAdminRestricted) as caught:
        settings_lock_create(actor=admin_b, user=admin_a)
    assert (caught.value.code, caught.value.status_code) == ("locked_admin_restricted", 403)
    assert settings_lock_active(user=admin_a) is None
    assert settings_lock_release(actor=admin_b, user=user_s).released_by == admin_b


def test_a_user_can_be_locked_again_after_a_release(admin_a, admin_b, user_s):
    settings_lock_create(actor=admin_a, user=user_s)
    settings_lock_release(actor=admin_b, user=user_s)
    again = settings_lock_create(actor=admin_b, user=user_s)
    assert settings_lock_active(user=user_s) == again
    assert SettingsLock.objects.filter(user=user_s).count() == 2


def test_the_lock_is_what_the_mail_settings_check_refuses(admin_a, admin_b, user_s):
    settings_lock_create(actor=admin_a, user=user_s)
    with pytest.raises(SettingsLocked):
        mail_settings_check_access(actor=user_s, owner=user_s)
    mail_settings_check_access(actor=admin_a, owner=user_s)  # the admin still manages the locked user's account
    settings_lock_release(actor=admin_b, user=user_s)
    mail_settings_check_access(actor=user_s, owner=user_s)


def test_an_operator_may_lock_and_unlock_anyone(operator, user_s, admin_x):
    settings_lock_create(actor=operator, user=user_s)
    settings_lock_create(actor=operator, user=admin_x)
    assert settings_lock_release(actor=operator, user=admin_x).released_by == operator


def test_an_operator_cannot_be_locked(admin_a, operator):
    with pytest.raises(NotFound):
        settings_lock_create(actor=admin_a, user=operator)


def test_the_operators_release_is_audited_as_the_command_without_an_actor(admin_a, user_s, org1):
    settings_lock_create(actor=admin_a, user=user_s)
    lock = settings_lock_release_by_operator(user=user_s, operator="root", reason="no admin left")
    assert lock.released_by is None and lock.release_reason == "no admin left"
    event = AuditEvent.objects.get(action="settings_lock.released")
    assert (event.actor, event.actor_email, event.organization) == (None, "", org1)
    assert event.details == {
        "lock_id": lock.pk, "reason": "no admin left", "via": "unlock_settings command", "operator": "root",
    }


def test_a_long_reason_is_cut_to_what_the_history_holds(admin_a, user_s):
    lock = settings_lock_create(actor=admin_a, user=user_s, reason="  " + "x" * 600)
    assert lock.reason == "x" * 500


def test_only_an_active_superuser_can_be_named_as_the_releasing_operator(admin_a, admin_b, user_s):
    settings_lock_create(actor=admin_a, user=user_s)
    with pytest.raises(PermissionDenied):
        settings_lock_release_by_operator(user=user_s, operator="root", operator_user=admin_b)
    assert settings_lock_active(user=user_s) is not None
