"""mailsettings.services beyond the API: audit details, the constraint as last word, the status lifecycle."""
from __future__ import annotations

import datetime

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import AuditEvent
from config.db import violated_constraint
from mailsettings.errors import AccountChanged
from mailsettings.models import MailAccount
from mailsettings.selectors import mail_account_active_for_recheck, mail_account_get, mail_account_list
from mailsettings.services import (
    ADDRESS_CONSTRAINT,
    USER_CONSTRAINT,
    mail_account_disable,
    mail_account_enable,
    mail_account_password_change,
    mail_account_record_check,
    mail_account_update,
)
from tests.factories import account_create, account_make
from tests.helpers import SENTINEL

pytestmark = pytest.mark.django_db


def raw_account(owner, address="raw@example.com", **extra):
    """A row straight through the ORM, past the service's checks: the database is the last word."""
    return account_make(owner, address, **extra)


def test_the_database_refuses_a_second_active_binding_and_names_the_constraint(user_s, admin_b):
    raw_account(user_s)
    with pytest.raises(IntegrityError) as exc, transaction.atomic():
        raw_account(admin_b)
    assert violated_constraint(exc.value) == ADDRESS_CONSTRAINT


def test_the_database_refuses_a_second_active_account_of_one_user(user_s):
    raw_account(user_s)
    with pytest.raises(IntegrityError) as exc, transaction.atomic():
        raw_account(user_s, address="other@example.com")
    assert violated_constraint(exc.value) == USER_CONSTRAINT


def test_a_turned_off_binding_does_not_count(user_s, admin_b):
    raw_account(user_s, disabled_at=timezone.now(), status="disabled")
    raw_account(admin_b)  # no IntegrityError


def test_registration_is_audited_with_field_names_only(user_s, admin_a):
    account = account_create(user_s, actor=admin_a)
    event = AuditEvent.objects.get(action="mail_account.registered")
    assert event.actor == admin_a
    assert event.organization_id == user_s.organization_id
    assert event.target_id == str(account.pk)
    assert "incoming_password" in event.details["fields"]
    assert event.details["owner_id"] == user_s.pk


def test_an_update_that_changes_nothing_writes_nothing(user_s):
    account = account_create(user_s)
    before = account.updated_at
    mail_account_update(actor=user_s, account=account, data={"incoming_host": "IMAP.example.com"})
    assert not AuditEvent.objects.filter(action="mail_account.updated").exists()
    account.refresh_from_db()
    assert account.updated_at == before


def test_turning_off_and_on_is_audited_and_moves_the_status(user_s, admin_a):
    account = account_create(user_s)
    mail_account_disable(actor=admin_a, account=account)
    account.refresh_from_db()
    assert (account.status, account.is_active) == ("disabled", False)
    mail_account_enable(actor=admin_a, account=account)
    account.refresh_from_db()
    assert (account.status, account.is_active) == ("pending", True)
    actions = list(AuditEvent.objects.filter(action__startswith="mail_account.").values_list("action", flat=True))
    assert sorted(actions) == ["mail_account.disabled", "mail_account.enabled", "mail_account.registered"]


# --- writes compute from the row as it is now, not from the caller's copy ---------------------------------------


def test_a_change_through_a_copy_read_before_the_account_was_turned_off_is_account_changed(user_s, admin_a):
    account = account_create(user_s)
    stale = MailAccount.objects.get(pk=account.pk)
    mail_account_disable(actor=admin_a, account=account)
    with pytest.raises(AccountChanged) as caught:
        mail_account_update(actor=user_s, account=stale, data={"incoming_host": "imap2.example.com"})
    assert (caught.value.status_code, caught.value.code) == (409, "account_changed")
    assert str(caught.value) == "This mail account was changed meanwhile. Reload it and try again."
    with pytest.raises(AccountChanged):
        mail_account_password_change(actor=user_s, account=stale, password="new one", apply_to="both")
    row = MailAccount.objects.get(pk=account.pk)
    assert (row.status, row.incoming_host, row.incoming_password) == ("disabled", "imap.example.com", SENTINEL)
    assert not AuditEvent.objects.filter(action__in=["mail_account.updated", "mail_account.password_changed"])


def test_turning_off_through_a_stale_copy_is_a_no_op_that_leaves_the_copy_current(user_s, admin_a):
    account = account_create(user_s)
    stale = MailAccount.objects.get(pk=account.pk)
    mail_account_disable(actor=admin_a, account=account)
    result = mail_account_disable(actor=user_s, account=stale)
    assert (result.status, stale.status, stale.disabled_at) == ("disabled", "disabled", account.disabled_at)
    assert AuditEvent.objects.filter(action="mail_account.disabled").count() == 1


def test_a_password_change_through_a_stale_copy_keeps_the_change_made_meanwhile(user_s):
    account = account_create(user_s)
    stale = MailAccount.objects.get(pk=account.pk)  # still "same credentials"
    mail_account_password_change(actor=user_s, account=account, password="smtp only", apply_to="outgoing")
    mail_account_password_change(actor=user_s, account=stale, password="imap only", apply_to="incoming")
    row = MailAccount.objects.get(pk=account.pk)
    assert (row.incoming_password, row.effective_smtp_password) == ("imap only", "smtp only")
    assert (stale.incoming_password, stale.smtp_password) == ("imap only", "smtp only")


# --- the status a check records ------------------------------------------------------------------------------


def test_a_check_moves_the_status_and_keeps_when_and_why(user_s):
    account = account_create(user_s)
    checked = timezone.now()
    assert mail_account_record_check(account=account, status="auth_failed", error_code="auth_failed",
                                     checked_at=checked)
    account.refresh_from_db()
    assert (account.status, account.last_error_code, account.last_checked_at) == ("auth_failed", "auth_failed",
                                                                                  checked)


def test_a_check_of_settings_changed_since_is_dropped(user_s):
    account = account_create(user_s)
    started = timezone.now()
    mail_account_update(actor=user_s, account=account, data={"incoming_port": 143, "incoming_security": "starttls",
                                                              "incoming_password": "again"})
    assert not mail_account_record_check(account=account, status="connected", checked_at=started)
    account.refresh_from_db()
    assert account.status == "pending"


def test_an_older_check_does_not_overwrite_a_newer_one(user_s):
    account = account_create(user_s)
    now = timezone.now()
    mail_account_record_check(account=account, status="connected", checked_at=now + datetime.timedelta(seconds=5))
    assert not mail_account_record_check(account=account, status="connection_failed", checked_at=now)
    account.refresh_from_db()
    assert account.status == "connected"


def test_a_check_never_touches_a_turned_off_account(user_s):
    account = account_create(user_s)
    mail_account_disable(actor=user_s, account=account)
    assert not mail_account_record_check(account=account, status="connected")
    account.refresh_from_db()
    assert account.status == "disabled"


def test_a_check_cannot_set_disabled(user_s):
    account = account_create(user_s)
    with pytest.raises(ValueError):
        mail_account_record_check(account=account, status="disabled")


# --- selectors ------------------------------------------------------------------------------------------------


def test_the_recheck_list_holds_active_accounts_never_checked_first(user_s, admin_a, admin_b):
    checked = account_create(user_s, address="checked@example.com")
    mail_account_record_check(account=checked, status="connected")
    never = account_create(admin_a, address="never@example.com")
    off = account_create(admin_b, address="off@example.com")
    mail_account_disable(actor=admin_b, account=off)
    assert list(mail_account_active_for_recheck()) == [never, checked]


def test_an_operator_reaches_every_organization(operator, user_s, admin_x):
    ours = account_create(user_s, address="s@example.com")
    theirs = account_create(admin_x, address="x@example.com")
    assert set(mail_account_list(actor=operator)) == {ours, theirs}
    assert mail_account_get(actor=operator, account_id=theirs.pk) == theirs
