"""The test suite. Same code paths as production; DATABASE_URL / CELERY_BROKER_URL pick PostgreSQL and Redis."""
import os
import tempfile

from cryptography.fernet import Fernet

from config.settings.base import *  # noqa: F403
from config.settings.base import DATABASES, REST_FRAMEWORK

SECRET_KEY = "test-secret-key-not-for-production"  # noqa: S105
FIELD_ENCRYPTION_KEYS = [os.environ.get("TEST_FIELD_ENCRYPTION_KEY") or Fernet.generate_key().decode()]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed; real hashing is Django's business
ALLOWED_HOSTS = ["*"]
# Concurrent test runs on one PostgreSQL server must not share a test database.
# SQLite: a file, as `make run` uses, not the in-memory default. Threads (the worker, live_server) share an
# in-memory database through SQLite's shared cache, whose table locks fail at once ("database table is locked")
# instead of waiting like file locks do.
DATABASES["default"].setdefault("TEST", {})["NAME"] = (
    os.path.join(tempfile.mkdtemp(prefix="mailbind-testdb-"), "test.sqlite3")
    if DATABASES["default"]["ENGINE"].endswith("sqlite3")
    else f"test_mailbind{os.environ.get('MAILBIND_TEST_DB_SUFFIX', '')}"
)
REST_FRAMEWORK = {**REST_FRAMEWORK}
STATIC_ROOT = tempfile.mkdtemp(prefix="mailbind-static-")
WHITENOISE_USE_FINDERS = True
# Each test session gets its own folder for the serverless broker, so runs never see each other's messages.
# MAILBIND_TEST_BROKER_DIR names one folder shared by several processes (the benchmarks' worker and publisher).
if CELERY_BROKER_URL.startswith("filesystem://"):  # noqa: F405
    _broker_dir = os.environ.get("MAILBIND_TEST_BROKER_DIR") or tempfile.mkdtemp(prefix="mailbind-broker-")
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": f"{_broker_dir}/queue",
        "data_folder_out": f"{_broker_dir}/queue",
        "processed_folder": f"{_broker_dir}/processed",
        "control_folder": f"{_broker_dir}/control",
        "store_processed": False,
        "polling_interval": 0.1,
    }
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# pytest-xdist runs the suite in several processes (gw0, gw1...): each gets its own test database (pytest-django
# suffixes its name) and, on Redis, its own two databases for the broker and the cache, counted down two at a time
# from the ones given (14/13 → gw1 12/11, gw2 10/9...). A shared broker would let one process's worker take
# another's runs, and every test clears the cache.
_XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if _XDIST_WORKER.startswith("gw") and _XDIST_WORKER[2:].isdigit():
    _offset = 2 * int(_XDIST_WORKER[2:])

    def _own_redis_database(url: str) -> str:
        scheme, _, rest = url.partition("://")
        if scheme not in ("redis", "rediss"):
            return url
        address, _, database = rest.partition("/")
        number = int(database.split("?")[0] or 0)
        query = database.partition("?")[2]
        return f"{scheme}://{address}/{(number - _offset) % 16}" + (f"?{query}" if query else "")

    CELERY_BROKER_URL = _own_redis_database(CELERY_BROKER_URL)  # noqa: F405
    # Celery reads the environment variable before Django's setting: both must name this process's database.
    if os.environ.get("CELERY_BROKER_URL"):
        os.environ["CELERY_BROKER_URL"] = CELERY_BROKER_URL
    CACHES = {**CACHES, "default": {**CACHES["default"]}}  # noqa: F405
    if isinstance(CACHES["default"].get("LOCATION"), str):
        CACHES["default"]["LOCATION"] = _own_redis_database(CACHES["default"]["LOCATION"])

# No test may ask the machine's resolver (it is not on loopback): a closed loopback port fails at once instead.
# Tests that need DNS start tests/servers/dns_server.py and point DNS_NAMESERVERS at it.
# MAILBIND_TEST_DNS_NAMESERVERS: a loopback DNS server shared by several processes (the benchmarks).
DNS_NAMESERVERS = [ns for ns in os.environ.get("MAILBIND_TEST_DNS_NAMESERVERS", "").split(",") if ns] or ["127.0.0.1:9"]

MAILSETTINGS_ALLOW_TEST_DOMAINS = True
