"""Local development: `make run`. Keys are generated once into `.env` and kept."""
from config.local_keys import ensure_local_keys
from config.settings import base as _base

ensure_local_keys(_base.BASE_DIR / ".env")

from config.settings.base import *  # noqa: E402,F403
from config.settings.base import env  # noqa: E402

SECRET_KEY = env.str("DJANGO_SECRET_KEY")
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS")
DEBUG = env.bool("DJANGO_DEBUG", default=True)

# The demo organization uses demo.test addresses.
MAILSETTINGS_ALLOW_TEST_DOMAINS = env.bool("MAILSETTINGS_ALLOW_TEST_DOMAINS", default=True)

# Notification emails are printed by the web and worker processes instead of being sent.
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
