"""Settings shared by every environment. Each group reads its environment variables (see README's table)."""
from __future__ import annotations

from pathlib import Path

import environ
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

# django-environ reads and casts every variable (a missing required one is Django's ImproperlyConfigured).
env = environ.Env()

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(env.str("MAILBIND_VAR_DIR", default=str(BASE_DIR / "var")))

# --- Core -------------------------------------------------------------------------------------------
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "config",
    "accounts",
    "locks",
    "mailsettings",
    "diagnostics",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Before anything reads a body (CSRF does): oversized, overfull and NUL-carrying requests answer 4xx.
    "config.request_guards.RequestGuardMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "config" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database: DATABASE_URL, else a SQLite file in the project folder ----------------------------------
DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=0)
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Web, worker and beat share the file: wait for the lock instead of failing, and take it up front.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"timeout": 20, "transaction_mode": "IMMEDIATE"})

# --- Cache (login throttling, MX answers): CACHE_URL (redis://...), else in-process memory ------------------
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://mailbind")}

# --- Users and sign-in ---------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "email-settings"
LOGOUT_REDIRECT_URL = "login"
CSRF_FAILURE_VIEW = "accounts.views.csrf_failure"  # a sentence ("the form expired"), not Django's technical page
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# Failed sign-ins allowed per email and per client address in SIGNIN_FAILURE_WINDOW seconds, then 429.
SIGNIN_FAILURES_PER_EMAIL = env.int("SIGNIN_FAILURES_PER_EMAIL", default=5)
SIGNIN_FAILURES_PER_ADDRESS = env.int("SIGNIN_FAILURES_PER_ADDRESS", default=20)
SIGNIN_FAILURE_WINDOW = env.int("SIGNIN_FAILURE_WINDOW", default=900)
# Reverse proxies in front of the app that append to X-Forwarded-For. 0: the client is REMOTE_ADDR (the header is
# ignored, anyone can send it); N: the N-th address from its right. DRF's NUM_PROXIES, which the sign-in throttle
# reads too (accounts.services.client_address).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# --- Languages -----------------------------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("ja", _("Japanese"))]
LOCALE_PATHS = [BASE_DIR / "config" / "locale"]
# Dates read the same everywhere, in both languages: 2026-11-29 14:05 (config/formats/).
FORMAT_MODULE_PATH = ["config.formats"]
USE_I18N = True
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_TZ = True

# --- Static files (served by the app through WhiteNoise; no CDN) -----------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- Secrets at rest: comma-separated Fernet keys, the first encrypts, all decrypt ----------------------------
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[])

# --- API --------------------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.HashedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "config.pagination.StandardPagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PARSER_CLASSES": [
        "config.parsers.GuardedJSONParser",  # size, nesting and NUL guarded
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "config.schema.MailbindAutoSchema",  # documents each operation's error answers
    "EXCEPTION_HANDLER": "config.exception_handler.handle_exception",
    "DEFAULT_THROTTLE_RATES": {
        "diagnostics": env.str("DIAGNOSTICS_RUN_RATE", default="20/hour"),
        "tools": env.str("DIAGNOSTICS_TOOLS_RATE", default="30/hour"),
        "lookups": env.str("LOOKUPS_RATE", default="600/hour"),
        "sent_test": env.str("DIAGNOSTICS_SENT_TEST_RATE", default="5/hour"),
    },
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "mailbind API",
    "DESCRIPTION": "IMAP/POP3 mail-account settings, locks and diagnostics.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Request bodies get their own components: required strings say minLength 1 (blank is refused).
    "COMPONENT_SPLIT_REQUEST": True,
    # The docs page's assets are bundled (drf-spectacular-sidecar): no CDN at run time.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Celery: CELERY_BROKER_URL, else kombu's filesystem transport (no server needed) ----------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="") or "filesystem://"
_broker_dir = Path(env.str("CELERY_FILESYSTEM_BROKER_DIR", default=str(VAR_DIR / "broker")))
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),  # default is "control" in the working directory
        "store_processed": False,
    }
    if CELERY_BROKER_URL.startswith("filesystem://")
    else {}
)
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=3.0)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=120)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=150)
# Publishing must not hang a web request when the broker is down: a few quick tries, then an error.
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    "diagnostics-sweep-stale-runs": {"task": "diagnostics.tasks.sweep_stale_runs", "schedule": 60.0},
    "diagnostics-recheck-accounts": {
        "task": "diagnostics.tasks.recheck_accounts",
        "schedule": env.float("DIAGNOSTICS_RECHECK_TICK", default=300.0),
    },
}
CELERY_BEAT_SCHEDULE.update({
    # The health page's daily snapshot: today's rows are rewritten each hour, so the day's last count stands.
    "diagnostics-health-snapshot": {"task": "diagnostics.health.tasks.take_status_snapshot", "schedule": 3600.0},
    "diagnostics-metrics-roll-up": {"task": "diagnostics.health.tasks.roll_up_run_stats", "schedule": 600.0},
    # The notifier's safety net: events no trigger reached, deliveries whose message or worker was lost.
    "diagnostics-notify-resume": {"task": "diagnostics.notify.tasks.notify_resume", "schedule": 60.0},
    "diagnostics-notify-digests": {
        "task": "diagnostics.notify.tasks.send_daily_digests",
        "schedule": crontab(minute=0, hour=env.int("NOTIFY_DIGEST_HOUR", default=7)),
    },
})
CELERY_TIMEZONE = TIME_ZONE

# --- Diagnostics ------------------------------------------------------------------------------------------------
DIAGNOSTICS_CONNECT_TIMEOUT = env.float("DIAGNOSTICS_CONNECT_TIMEOUT", default=5.0)
DIAGNOSTICS_STEP_TIMEOUT = env.float("DIAGNOSTICS_STEP_TIMEOUT", default=20.0)
DIAGNOSTICS_RUN_TIMEOUT = env.float("DIAGNOSTICS_RUN_TIMEOUT", default=90.0)
# The run task's Celery limits follow the run's budget: the soft limit leaves time to write the verdict, the hard
# limit kills a worker stuck past it. diagnostics.lifecycle.longest_run_seconds() reads the same value.
DIAGNOSTICS_TASK_SOFT_TIME_LIMIT = DIAGNOSTICS_RUN_TIMEOUT + 10
DIAGNOSTICS_TASK_TIME_LIMIT = DIAGNOSTICS_RUN_TIMEOUT + 30
DIAGNOSTICS_ALLOWED_NETWORKS = env.list("DIAGNOSTICS_ALLOWED_NETWORKS", default=[])
DIAGNOSTICS_CA_FILE = env.str("DIAGNOSTICS_CA_FILE", default="")
# Ports runs may reach beyond the standard mail ports (2525: a common alternative submission port).
DIAGNOSTICS_EXTRA_PORTS = env.list("DIAGNOSTICS_EXTRA_PORTS", cast=int, default=[2525])
# A server certificate expiring within this many days is a warning (tls_certificate_expiring).
DIAGNOSTICS_CERT_EXPIRY_WARNING_DAYS = env.int("DIAGNOSTICS_CERT_EXPIRY_WARNING_DAYS", default=14)
# The port an MTA-STS policy is fetched from (RFC 8461: HTTPS, 443); only tests change it.
DIAGNOSTICS_MTA_STS_PORT = env.int("DIAGNOSTICS_MTA_STS_PORT", default=443)
# "Send a test message": how long (seconds) the Sent folder is watched for the provider's copy.
DIAGNOSTICS_SENT_TEST_WAIT = env.float("DIAGNOSTICS_SENT_TEST_WAIT", default=15.0)
DIAGNOSTICS_RECHECK_INTERVAL = env.int("DIAGNOSTICS_RECHECK_INTERVAL", default=6 * 3600)
DIAGNOSTICS_STALE_AFTER = env.int("DIAGNOSTICS_STALE_AFTER", default=300)
# A run queued this long without a worker taking it is published again, once (its message may have been lost with
# a broker restarted without persistence); still queued this long after that, a new request replaces it.
DIAGNOSTICS_QUEUED_REPUBLISH_AFTER = env.int("DIAGNOSTICS_QUEUED_REPUBLISH_AFTER", default=90)
# Queued this long, a run is given up as worker_lost even if nobody asks again (a busy queue may hold many runs).
DIAGNOSTICS_QUEUED_STALE_AFTER = env.int("DIAGNOSTICS_QUEUED_STALE_AFTER", default=3600)
DIAGNOSTICS_RECHECK_BATCH = env.int("DIAGNOSTICS_RECHECK_BATCH", default=1000)
# Failed sign-ins against one server from one organization: after SLOW, one run per BACKOFF seconds; after STOP,
# none until the WINDOW (seconds) has passed. Keeps the service from being a password-guessing machine.
DIAGNOSTICS_AUTH_FAILURES_SLOW = env.int("DIAGNOSTICS_AUTH_FAILURES_SLOW", default=3)
DIAGNOSTICS_AUTH_FAILURES_STOP = env.int("DIAGNOSTICS_AUTH_FAILURES_STOP", default=10)
DIAGNOSTICS_AUTH_BACKOFF = env.int("DIAGNOSTICS_AUTH_BACKOFF", default=300)
DIAGNOSTICS_AUTH_FAILURE_WINDOW = env.int("DIAGNOSTICS_AUTH_FAILURE_WINDOW", default=3600)
# Addresses under reserved test domains (.test, .example, .invalid, .localhost): accepted in tests and demos only.
MAILSETTINGS_ALLOW_TEST_DOMAINS = env.bool("MAILSETTINGS_ALLOW_TEST_DOMAINS", default=False)
DNS_TIMEOUT = env.float("DNS_TIMEOUT", default=2.0)

# --- Settings discovery (docs/DISCOVERY.md) ---------------------------------------------------------------------
# The bundled ISPDB (mailsettings/data/ispdb) unless a refreshed copy lives elsewhere.
MAILSETTINGS_ISPDB_DIR = env.str("MAILSETTINGS_ISPDB_DIR", default="")
# One deadline for every network method of a detection (autoconfig, SRV, MX, online ISPDB, probing), seconds.
DISCOVERY_DEADLINE = env.float("DISCOVERY_DEADLINE", default=8.0)
# One autoconfig/ISPDB fetch, redirects included.
DISCOVERY_FETCH_TIMEOUT = env.float("DISCOVERY_FETCH_TIMEOUT", default=3.0)
# An autoconfig file larger than this is ignored.
DISCOVERY_MAX_BYTES = env.int("DISCOVERY_MAX_BYTES", default=64 * 1024)
DISCOVERY_ALLOW_HTTP = env.bool("DISCOVERY_ALLOW_HTTP", default=False)  # also ask over plain http (answers are marked)
DISCOVERY_ISPDB_URL = env.str("DISCOVERY_ISPDB_URL", default="")  # an online ISPDB mirror, "<url><domain>"; empty: off
DISCOVERY_CACHE_TTL = env.int("DISCOVERY_CACHE_TTL", default=3600)  # longest a domain's network answer is kept
DISCOVERY_PROBE_TIMEOUT = env.float("DISCOVERY_PROBE_TIMEOUT", default=4.0)  # one probe of a guessed server
DISCOVERY_PROBE_RATE_USER = env.str("DISCOVERY_PROBE_RATE_USER", default="10/hour")  # verified guesses per user
DISCOVERY_PROBE_RATE_DOMAIN = env.str("DISCOVERY_PROBE_RATE_DOMAIN", default="30/hour")  # and per target domain
# Nameservers for MX lookups and diagnostics ("10.0.0.53", "127.0.0.1:5353", "[::1]:53"); empty: the system's.
DNS_NAMESERVERS = env.list("DNS_NAMESERVERS", default=[])

# --- Email: SMTP from the environment (`make run` prints mail to the console instead) ------------------------------
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="mailbind <noreply@localhost>")
# The service's public address, for links in emails (their settings page, the health page).
MAILBIND_BASE_URL = env.str("MAILBIND_BASE_URL", default="http://127.0.0.1:8000")

# --- Notifications: emails and webhooks, each delivery retried with exponential backoff ------------------------
NOTIFY_RETRY_BASE = env.float("NOTIFY_RETRY_BASE", default=30.0)  # seconds before the 2nd try; doubled each time
NOTIFY_RETRY_MAX = env.float("NOTIFY_RETRY_MAX", default=3600.0)  # longest wait between two tries
NOTIFY_GIVE_UP_AFTER = env.int("NOTIFY_GIVE_UP_AFTER", default=86400)  # seconds after which a delivery gives up
NOTIFY_OUTBOX_HORIZON = env.int("NOTIFY_OUTBOX_HORIZON", default=86400)  # audit events older than this are not notified
NOTIFY_SENDING_STALE_AFTER = env.int("NOTIFY_SENDING_STALE_AFTER", default=300)  # an attempt this old lost its worker
NOTIFY_RESUME_GRACE = env.int("NOTIFY_RESUME_GRACE", default=30)  # a due delivery this late had its message lost
# Webhook endpoints go through the outbound policy: private and reserved addresses are refused unless opened here.
WEBHOOKS_ALLOWED_NETWORKS = env.list("WEBHOOKS_ALLOWED_NETWORKS", default=[])
WEBHOOKS_CA_FILE = env.str("WEBHOOKS_CA_FILE", default="")  # extra trusted CA certificates (PEM) for endpoints
WEBHOOKS_TIMEOUT = env.float("WEBHOOKS_TIMEOUT", default=10.0)  # seconds per attempt (connect, send, answer)

# --- Metrics: /metrics answers only with this bearer token (off when empty) ----------------------------------
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_MAX_ORGANIZATIONS = env.int("METRICS_MAX_ORGANIZATIONS", default=200)  # more are summed as organization="other"

# --- Logging: to the console; nothing here ever formats a secret ------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# --- OAuth2 sign-in (Google, Microsoft, an operator's OpenID provider) ------------------------------------------
# The callback is OAUTH_REDIRECT_BASE_URL + /settings/email/oauth/callback/ (register it at the provider); empty:
# the URL of the request that starts the sign-in.
OAUTH_REDIRECT_BASE_URL = env.str("OAUTH_REDIRECT_BASE_URL", default="").rstrip("/")
OAUTH_GOOGLE_CLIENT_ID = env.str("OAUTH_GOOGLE_CLIENT_ID", default="")
OAUTH_GOOGLE_CLIENT_SECRET = env.str("OAUTH_GOOGLE_CLIENT_SECRET", default="")
OAUTH_MICROSOFT_CLIENT_ID = env.str("OAUTH_MICROSOFT_CLIENT_ID", default="")
OAUTH_MICROSOFT_CLIENT_SECRET = env.str("OAUTH_MICROSOFT_CLIENT_SECRET", default="")
OAUTH_MICROSOFT_TENANT = env.str("OAUTH_MICROSOFT_TENANT", default="common")
# A generic OpenID provider: endpoints from its discovery document; the address domains it serves.
OAUTH_GENERIC_NAME = env.str("OAUTH_GENERIC_NAME", default="")
OAUTH_GENERIC_DISCOVERY_URL = env.str("OAUTH_GENERIC_DISCOVERY_URL", default="")
OAUTH_GENERIC_CLIENT_ID = env.str("OAUTH_GENERIC_CLIENT_ID", default="")
OAUTH_GENERIC_CLIENT_SECRET = env.str("OAUTH_GENERIC_CLIENT_SECRET", default="")
OAUTH_GENERIC_SCOPES = env.list("OAUTH_GENERIC_SCOPES", default=["openid", "email", "offline_access"])
OAUTH_GENERIC_DOMAINS = env.list("OAUTH_GENERIC_DOMAINS", default=[])
OAUTH_GENERIC_PASSWORDS_ALLOWED = env.bool("OAUTH_GENERIC_PASSWORDS_ALLOWED", default=True)
OAUTH_CA_FILE = env.str("OAUTH_CA_FILE", default="")  # extra trusted CAs (PEM) for the providers' HTTPS endpoints
OAUTH_HTTP_TIMEOUT = env.float("OAUTH_HTTP_TIMEOUT", default=10.0)
OAUTH_FLOW_TTL = env.int("OAUTH_FLOW_TTL", default=600)  # seconds a started sign-in may take
OAUTH_REFRESH_MARGIN = env.int("OAUTH_REFRESH_MARGIN", default=300)  # refresh this many seconds before expiry
CELERY_BEAT_SCHEDULE["diagnostics-oauth-refresh-due"] = {
    "task": "diagnostics.tasks_oauth.refresh_due_tokens", "schedule": float(env.int("OAUTH_REFRESH_TICK", default=300)),
}
