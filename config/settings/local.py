"""Local development: `make run`. Keys are generated once into `.env` and kept."""
import os

from config.env import ensure_local_keys
from config.settings import base as _base

ensure_local_keys(_base.BASE_DIR / ".env")

from config.settings.base import *  # noqa: E402,F403

SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
FIELD_ENCRYPTION_KEYS = [k.strip() for k in os.environ["FIELD_ENCRYPTION_KEYS"].split(",") if k.strip()]
DEBUG = os.environ.get("DJANGO_DEBUG", "1").lower() in {"1", "true", "yes"}

# The demo organization uses demo.test addresses.
MAILSETTINGS_ALLOW_TEST_DOMAINS = os.environ.get("MAILSETTINGS_ALLOW_TEST_DOMAINS", "1").lower() in {"1", "true", "yes"}

# Notification emails are printed by the web and worker processes instead of being sent.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
