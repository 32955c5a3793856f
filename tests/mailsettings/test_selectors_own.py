"""mailsettings.selectors.mail_account_own_get: the one way pages find the signed-in person's own account."""
import pytest

from locks.errors import SettingsLocked
from locks.models import SettingsLock
from mailsettings.errors import NoOwnMailSettings
from mailsettings.selectors import mail_account_own_get
from tests.factories import account_create

pytestmark = pytest.mark.django_db


def test_it_returns_the_active_account_or_none(user_s):
    assert mail_account_own_get(actor=user_s) is None
    account = account_create(owner=user_s)
    assert mail_account_own_get(actor=user_s) == account


def test_a_locked_user_admin_or_not_is_refused(admin_a, admin_b):
    SettingsLock.objects.create(user=admin_b, organization=admin_b.organization, locked_by=admin_a)
    with pytest.raises(SettingsLocked):
        mail_account_own_get(actor=admin_b)


def test_an_operator_has_no_mail_settings(operator):
    with pytest.raises(NoOwnMailSettings):
        mail_account_own_get(actor=operator)
