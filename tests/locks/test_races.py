"""Races on PostgreSQL: the database, not a read before the write, decides who wins.

N admins of one organization act at the same instant (threading.Barrier), each through the real API with their own
token and their own database connection: exactly one lock is taken (the rest 409 already_locked), exactly one
release succeeds (the rest 409 not_locked), and nothing is a 500.
"""
import threading
from collections import Counter

import pytest
from django.db import connection
from rest_framework.test import APIClient

from accounts.models import AuditEvent, User
from accounts.services import api_token_issue
from locks.models import SettingsLock
from locks.services import settings_lock_create

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only(db):
    if connection.vendor != "postgresql":
        pytest.skip("races are proven on PostgreSQL (set DATABASE_URL)")


def admins_of(org, count: int) -> list[APIClient]:
    clients = []
    for n in range(count):
        admin = User.objects.create_user(f"racer{n}@acme.test", "pw", organization=org, role="admin")
        _token, plain = api_token_issue(user=admin)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {plain}")
        clients.append(client)
    return clients


def all_at_once(clients, method: str, url: str) -> Counter:
    barrier = threading.Barrier(len(clients))
    results: list = []

    def run(client):
        try:
            barrier.wait(timeout=10)
            response = getattr(client, method)(url)
            results.append((response.status_code, response.json().get("error", {}).get("code")))
        except Exception as exc:  # a thread's failure must show in the assertion, not vanish
            results.append(("exception", repr(exc)))
        finally:
            connection.close()  # each thread's own connection, or the test database cannot be dropped

    threads = [threading.Thread(target=run, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return Counter(results)


@pytest.mark.parametrize("racers", [8, 16])
def test_simultaneous_locks_take_exactly_one(org1, user_s, racers):
    clients = admins_of(org1, racers)
    outcome = all_at_once(clients, "post", f"/api/v1/users/{user_s.pk}/settings-lock/")
    assert outcome == Counter({(201, None): 1, (409, "already_locked"): racers - 1})
    assert SettingsLock.objects.filter(user=user_s, released_at__isnull=True).count() == 1
    assert AuditEvent.objects.filter(action="settings_lock.created").count() == 1


@pytest.mark.parametrize("racers", [8, 16])
def test_simultaneous_unlocks_release_exactly_once(org1, admin_a, user_s, racers):
    settings_lock_create(actor=admin_a, user=user_s)
    clients = admins_of(org1, racers)
    outcome = all_at_once(clients, "delete", f"/api/v1/users/{user_s.pk}/settings-lock/")
    assert outcome == Counter({(200, None): 1, (409, "not_locked"): racers - 1})
    lock = SettingsLock.objects.get(user=user_s)
    assert lock.released_at is not None and lock.released_by.email.startswith("racer")
    assert AuditEvent.objects.filter(action="settings_lock.released").count() == 1


def test_two_admins_unlocking_at_once_one_wins_one_409(org1, admin_a, admin_b, user_s):
    settings_lock_create(actor=admin_a, user=user_s)
    clients = []
    for admin in (admin_a, admin_b):
        _token, plain = api_token_issue(user=admin)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {plain}")
        clients.append(client)
    outcome = all_at_once(clients, "delete", f"/api/v1/users/{user_s.pk}/settings-lock/")
    assert outcome == Counter({(200, None): 1, (409, "not_locked"): 1})
