"""Sixteen simultaneous registrations of one address on PostgreSQL: one 201, fifteen 409, one row."""
from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from accounts.models import User
from mailsettings.models import MailAccount
from tests.factories import account_data

THREADS = 16


@pytest.fixture
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: run with DATABASE_URL=postgres://...")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_simultaneous_registrations_of_one_address_give_one_201_and_fifteen_409(postgres_only, org1, api_as):
    users = [
        User.objects.create_user(f"racer{i}@acme.test", "pw", organization=org1, role="standard")
        for i in range(THREADS)
    ]
    clients = [api_as(user) for user in users]
    barrier = threading.Barrier(THREADS)
    results: list[tuple[int, str | None]] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def register(client) -> None:
        try:
            barrier.wait(timeout=30)
            # Differently written, one address after normalization.
            response = client.post("/api/v1/mail-accounts/", account_data(" Race@Example.COM"), format="json")
            code = response.json().get("error", {}).get("code") if response.status_code != 201 else None
            with lock:
                results.append((response.status_code, code))
        except BaseException as exc:  # noqa: BLE001 - reported below, in the main thread
            with lock:
                failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=register, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not failures, failures
    assert sorted(status for status, _ in results) == [201] + [409] * (THREADS - 1)
    assert {code for status, code in results if status == 409} == {"address_in_use"}
    assert MailAccount.objects.filter(address_normalized="race@example.com").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_simultaneous_registrations_by_one_user_give_one_account(postgres_only, user_s, api_as):
    client_count = 8
    clients = [api_as(user_s) for _ in range(client_count)]
    barrier = threading.Barrier(client_count)
    statuses: list[tuple[int, str | None]] = []
    lock = threading.Lock()

    def register(client, index) -> None:
        try:
            barrier.wait(timeout=30)
            response = client.post("/api/v1/mail-accounts/", account_data(f"me{index}@example.com"), format="json")
            code = response.json().get("error", {}).get("code") if response.status_code != 201 else None
            with lock:
                statuses.append((response.status_code, code))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=register, args=(c, i)) for i, c in enumerate(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(statuses, key=lambda s: s[0]) == [(201, None)] + [(409, "account_exists")] * (client_count - 1)
    assert MailAccount.objects.filter(owner=user_s).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_row_the_precheck_cannot_see_yet_is_refused_by_the_constraint_as_409(
    postgres_only, user_s, admin_b, api_as
):
    """Another transaction inserts the address and commits only after our pre-check ran: the database decides."""
    import time

    from django.db import IntegrityError, transaction

    inserted = threading.Event()

    def hold_uncommitted_row() -> None:
        try:
            with transaction.atomic():
                MailAccount.objects.create(
                    owner=admin_b, organization_id=admin_b.organization_id, address="late@example.com",
                    address_normalized="late@example.com", incoming_host="imap.example.com", incoming_port=993,
                    incoming_security="ssl", incoming_username="late@example.com", smtp_host="smtp.example.com",
                    smtp_port=587, smtp_security="starttls",
                )
                inserted.set()
                time.sleep(0.7)  # our request's pre-check runs now and sees nothing committed
        finally:
            connections.close_all()

    failed_inserts: list[str] = []

    def watch(execute, sql, params, many, context):
        try:
            return execute(sql, params, many, context)
        except IntegrityError:
            if sql.startswith('INSERT INTO "mailsettings_mailaccount"'):
                failed_inserts.append(sql)
            raise

    holder = threading.Thread(target=hold_uncommitted_row)
    holder.start()
    assert inserted.wait(timeout=10)
    with connection.execute_wrapper(watch):
        response = api_as(user_s).post("/api/v1/mail-accounts/", account_data("LATE@example.com"), format="json")
    holder.join(timeout=10)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "address_in_use"
    assert len(failed_inserts) == 1, "the INSERT itself must have been refused by the unique index"
    assert MailAccount.objects.filter(address_normalized="late@example.com").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_incoming_and_an_outgoing_password_change_at_the_same_moment_both_survive(postgres_only, user_s):
    """The outgoing change holds the row (not yet committed) while the incoming one starts from its own copy of a
    same-credentials account: the second must wait for the row and compute from it, not split the login again
    with the old password (which would undo the outgoing change)."""
    import time

    from django.db import transaction

    from mailsettings.services import mail_account_password_change
    from tests.factories import account_create

    account = account_create(user_s)
    incoming_copy = MailAccount.objects.get(pk=account.pk)
    changed = threading.Event()
    failures: list[BaseException] = []

    def change_outgoing_and_hold() -> None:
        try:
            with transaction.atomic():
                mail_account_password_change(actor=user_s, account=account, password="smtp-new", apply_to="outgoing")
                changed.set()
                time.sleep(0.7)  # the incoming change starts now, from a copy that predates this one
        except BaseException as exc:  # noqa: BLE001 - reported below, in the main thread
            failures.append(exc)
            changed.set()
        finally:
            connections.close_all()

    holder = threading.Thread(target=change_outgoing_and_hold)
    holder.start()
    assert changed.wait(timeout=10)
    mail_account_password_change(actor=user_s, account=incoming_copy, password="imap-new", apply_to="incoming")
    holder.join(timeout=10)

    assert not failures, failures
    row = MailAccount.objects.get(pk=account.pk)
    assert (row.incoming_password, row.effective_smtp_password) == ("imap-new", "smtp-new")
    assert row.smtp_same_credentials is False
