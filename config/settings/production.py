"""Production: refuses to start without its secrets."""
from django.core.exceptions import ImproperlyConfigured

from config.settings.base import *  # noqa: F403
from config.settings.base import env

_REQUIRED = ("DJANGO_SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "ALLOWED_HOSTS")
_missing = [name for name in _REQUIRED if not env.str(name, default="").strip()]
if _missing:
    # All of them at once, blank counting as missing: one restart fixes the configuration.
    raise ImproperlyConfigured(
        f"mailbind refuses to start in production without {', '.join(_missing)}: set "
        f"{'it' if len(_missing) == 1 else 'them'} in the environment."
    )

DEBUG = False
SECRET_KEY = env.str("DJANGO_SECRET_KEY")
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
