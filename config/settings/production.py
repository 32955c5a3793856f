"""Production: refuses to start without its secrets."""
from config.env import env_bool, env_list, require

require(["DJANGO_SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "ALLOWED_HOSTS"])

from config.settings.base import *  # noqa: E402,F403

DEBUG = False
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
