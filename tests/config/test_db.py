"""config.db.violated_constraint names the broken constraint on SQLite and on PostgreSQL alike."""
from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from accounts.models import Organization, User
from config.db import violated_constraint
from locks.models import SettingsLock

pytestmark = pytest.mark.django_db


def broken(create) -> IntegrityError:
    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        create()
    return caught.value


def test_it_names_a_partial_unique_constraint_from_its_columns(admin_a, user_s):
    SettingsLock.objects.create(user=user_s, organization=user_s.organization, locked_by=admin_a)
    error = broken(lambda: SettingsLock.objects.create(user=user_s, organization=user_s.organization))
    assert violated_constraint(error) == "one_unreleased_lock_per_user"


def test_it_names_a_unique_constraint_on_an_expression(org1):
    error = broken(lambda: Organization.objects.create(name="ACME"))
    assert violated_constraint(error) == "organization_name_unique_ci"


def test_it_names_a_check_constraint(db):
    error = broken(lambda: User.objects.bulk_create([User(email="nobody@acme.test", organization=None)]))
    assert violated_constraint(error) == "user_has_organization_unless_operator"


def test_an_error_it_cannot_read_is_none():
    assert violated_constraint(IntegrityError("something else went wrong")) is None
    assert violated_constraint(IntegrityError("UNIQUE constraint failed: a.x, b.y")) is None
