"""accounts.services: users are created, changed and given passwords only within the actor's organization, each
change audited with field names (never a value), in the same transaction as the change."""
from __future__ import annotations

import pytest

from accounts import services
from accounts.errors import EmailTaken
from accounts.models import AuditEvent, User
from config.errors import InvalidInput, NotFound, PermissionDenied
from tests.helpers import PERSONA_PASSWORD

pytestmark = pytest.mark.django_db

PASSWORD = "a long enough new password 42"


def test_an_admin_changes_a_users_role_and_the_audit_names_the_field_only(admin_a, user_s):
    services.user_update(actor=admin_a, user=user_s, changes={"role": "admin", "full_name": user_s.full_name})
    assert User.objects.get(pk=user_s.pk).role == "admin"
    event = AuditEvent.objects.get(action="user.updated")
    assert (event.actor, event.target_id, event.details) == (admin_a, str(user_s.pk), {"fields": ["role"]})


def test_nothing_changed_is_no_write_and_no_audit(admin_a, user_s):
    services.user_update(actor=admin_a, user=user_s, changes={"role": "standard", "email": "USER.S@acme.test"})
    assert not AuditEvent.objects.filter(action="user.updated").exists()


def test_an_email_taken_by_another_user_is_email_taken_and_the_object_keeps_its_values(admin_a, user_s):
    with pytest.raises(EmailTaken):
        services.user_update(actor=admin_a, user=user_s, changes={"email": "Admin.A@acme.test"})
    assert user_s.email == "user.s@acme.test"
    assert User.objects.get(pk=user_s.pk).email == "user.s@acme.test"


def test_bad_values_are_invalid_on_their_field(admin_a, user_s):
    for changes, field in (({"role": "owner"}, "role"), ({"email": "not an email"}, "email"),
                           ({"language": "fr"}, "language"), ({"is_active": "yes"}, "is_active")):
        with pytest.raises(InvalidInput) as caught:
            services.user_update(actor=admin_a, user=user_s, changes=changes)
        assert field in caught.value.fields


def test_another_organizations_admin_finds_nobody_and_a_standard_user_may_not(admin_x, user_s, admin_a):
    with pytest.raises(NotFound):
        services.user_update(actor=admin_x, user=user_s, changes={"role": "admin"})
    with pytest.raises(NotFound):
        services.user_set_password(actor=admin_x, user=user_s, password=PASSWORD)
    with pytest.raises(PermissionDenied):
        services.user_update(actor=user_s, user=admin_a, changes={"role": "standard"})
    assert User.objects.get(pk=user_s.pk).role == "standard"


def test_an_organization_admin_may_not_touch_the_organization_field(admin_a, user_s, org2):
    with pytest.raises(PermissionDenied):
        services.user_update(actor=admin_a, user=user_s, changes={"organization": org2})


def test_an_operator_without_an_organization_cannot_become_an_organization_user(operator):
    with pytest.raises(InvalidInput) as caught:
        services.user_update(actor=operator, user=operator, changes={"is_superuser": False})
    assert "organization" in caught.value.fields
    assert User.objects.get(pk=operator.pk).is_superuser


def test_setting_a_password_is_audited_without_the_value(admin_a, user_s):
    services.user_set_password(actor=admin_a, user=user_s, password=PASSWORD)
    assert User.objects.get(pk=user_s.pk).check_password(PASSWORD)
    event = AuditEvent.objects.get(action="user.password_set")
    assert event.actor == admin_a and PASSWORD not in str(event.details)


def test_a_weak_password_is_refused_on_the_password_field(admin_a, user_s):
    with pytest.raises(InvalidInput) as caught:
        services.user_set_password(actor=admin_a, user=user_s, password="short")
    assert "password" in caught.value.fields
    assert User.objects.get(pk=user_s.pk).check_password(PERSONA_PASSWORD)


def test_an_admin_creates_users_only_in_their_organization(admin_a, org1, org2):
    user = services.user_create(organization=org1, email="New@Acme.test", password=PASSWORD, role="standard",
                                actor=admin_a, full_name="New Person", language="ja")
    assert (user.email, user.full_name, user.language) == ("new@acme.test", "New Person", "ja")
    assert AuditEvent.objects.get(action="user.created").actor == admin_a
    with pytest.raises(NotFound):
        services.user_create(organization=org2, email="x2@globex.test", password=PASSWORD, role="admin", actor=admin_a)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_organization_created_meanwhile_under_the_same_name_is_a_conflict_not_a_500():
    """Another transaction inserts "Initech" and commits only after our pre-check ran: the unique index decides."""
    import threading
    import time

    from django.db import connection, connections, transaction

    from accounts.models import Organization
    from config.errors import Conflict

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: run with DATABASE_URL=postgres://...")
    inserted = threading.Event()

    def hold_uncommitted_row() -> None:
        try:
            with transaction.atomic():
                Organization.objects.create(name="INITECH")
                inserted.set()
                time.sleep(0.7)  # our pre-check runs now and sees nothing committed
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_uncommitted_row)
    holder.start()
    assert inserted.wait(timeout=10)
    with pytest.raises(Conflict):
        services.organization_create(name="Initech", admin_email="boss@initech.test", admin_password=PASSWORD)
    holder.join(timeout=10)
    assert Organization.objects.filter(name__iexact="initech").count() == 1
    assert not User.objects.filter(email="boss@initech.test").exists()


def test_not_even_an_operator_moves_a_user_to_another_organization(operator, user_s, org2):
    with pytest.raises(InvalidInput) as exc:
        services.user_update(actor=operator, user=user_s, changes={"organization": org2})
    assert "organization" in exc.value.fields
    user_s.refresh_from_db()
    assert user_s.organization.name == "Acme"
