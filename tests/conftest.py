"""Shared fixtures: the personas every test uses, API clients, and the real servers (tests/servers).

Every test that needs no database, no test server, no worker and no browser is marked `unit` here, so the fast
layer runs alone with `pytest -m unit` (docs/DEVELOPING.md); `make test` runs everything."""
from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.helpers import PERSONA_PASSWORD

pytest_plugins = ["tests.servers.fixtures", "tests.celery_worker", "tests.oauth_helpers"]

# Fixtures that take a test beyond plain Python: pytest-django's database ones, and every fixture of these modules
# (loopback servers and their certificates, the Celery worker, the browser).
_DATABASE_FIXTURES = frozenset({"db", "transactional_db", "django_db_reset_sequences", "django_db_serialized_rollback",
                                "live_server"})
_SERVER_MODULES = frozenset({"tests.servers.fixtures", "tests.celery_worker", "tests.oauth_helpers",
                             "tests.browser.conftest"})


def _is_unit(item: pytest.Item) -> bool:
    if item.get_closest_marker("django_db") or item.get_closest_marker("integration"):
        return False
    if _DATABASE_FIXTURES & set(getattr(item, "fixturenames", ())):
        return False
    fixture_defs = getattr(item, "_fixtureinfo", None)
    modules = {d.func.__module__ for defs in (fixture_defs.name2fixturedefs.values() if fixture_defs else ())
               for d in defs}
    return not modules & _SERVER_MODULES


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if _is_unit(item):
            item.add_marker(pytest.mark.unit)


@pytest.fixture
def org1(db):
    from accounts.models import Organization

    return Organization.objects.create(name="Acme")


@pytest.fixture
def org2(db):
    from accounts.models import Organization

    return Organization.objects.create(name="Globex")


def _user(organization, email, role, password=PERSONA_PASSWORD):
    from accounts.models import User

    user = User(email=email, organization=organization, role=role, full_name=email.split("@")[0].title())
    user.set_password(password)
    user.save()
    return user


@pytest.fixture
def admin_a(org1):
    """Admin A of organization 1."""
    return _user(org1, "admin.a@acme.test", "admin")


@pytest.fixture
def user_s(org1):
    """Standard user S of organization 1."""
    return _user(org1, "user.s@acme.test", "standard")


@pytest.fixture
def admin_b(org1):
    """Admin B of organization 1."""
    return _user(org1, "admin.b@acme.test", "admin")


@pytest.fixture
def admin_x(org2):
    """Admin X of organization 2: must never see or change anything of organization 1."""
    return _user(org2, "admin.x@globex.test", "admin")


@pytest.fixture
def operator(db):
    """A platform operator (superuser), outside every organization."""
    from accounts.models import User

    return User.objects.create_superuser("operator@mailbind.test", "operator password")


@pytest.fixture
def api():
    """An unauthenticated API client."""
    return APIClient()


@pytest.fixture
def api_as():
    """api_as(user) → an API client authenticated as that user through a real token."""
    from accounts.services import api_token_issue

    def make(user):
        client = APIClient()
        _token, plain = api_token_issue(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {plain}")
        return client

    return make


@pytest.fixture(autouse=True)
def _clear_cache():
    # Sign-in throttles and MX answers live in the cache: no test inherits another's.
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def broker_unreachable():
    """Point the Celery app at a loopback port where nothing listens, then restore it (pools included)."""
    from config.celery import app

    def reset_pools():
        # Forget (not close) the pools: kombu keeps one per URL in a registry, and the original one is reused.
        app._pool = None
        app.amqp._producer_pool = None

    original = app.conf.broker_url, app.conf.broker_write_url
    app.conf.broker_url = app.conf.broker_write_url = "redis://127.0.0.1:9/0"
    reset_pools()
    yield
    app.conf.broker_url, app.conf.broker_write_url = original
    reset_pools()


@pytest.fixture
def throttle_rates(monkeypatch):
    """throttle_rates(scope="2/hour", ...): DRF reads its rates once at import; this sets them for one test."""
    from rest_framework.throttling import ScopedRateThrottle

    def set_rates(**rates):
        monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {**ScopedRateThrottle.THROTTLE_RATES, **rates})

    return set_rates


@pytest.fixture(scope="session", autouse=True)
def _compiled_translations(django_db_blocker):
    """Japanese pages need the .mo files; `make test` builds them, a bare `pytest` on a fresh checkout would not."""
    from django.core.management import call_command
    from django.utils.translation import trans_real

    with django_db_blocker.unblock():
        call_command("compilemessages_py", verbosity=0)
    trans_real._translations = {}
    trans_real._default = None
