import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_celery_reads_its_time_limits_and_accepts_only_json():
    from django.conf import settings

    from config.celery import app

    # A misspelt setting (CELERT_...) would silently leave these at Celery's defaults (None).
    assert app.conf.task_soft_time_limit == settings.CELERY_TASK_SOFT_TIME_LIMIT > 0
    assert app.conf.task_time_limit == settings.CELERY_TASK_TIME_LIMIT > app.conf.task_soft_time_limit
    assert app.conf.accept_content == ["json"]
    assert app.conf.task_serializer == "json"
    assert app.conf.task_acks_late is True
    assert app.conf.broker_url == settings.CELERY_BROKER_URL


def _production(env_overrides: dict[str, str]) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items()
           if k not in {"DJANGO_SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "ALLOWED_HOSTS"}}
    env.update(DJANGO_SETTINGS_MODULE="config.settings.production", **env_overrides)
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=60,
    )


@pytest.mark.parametrize("missing", ["DJANGO_SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "ALLOWED_HOSTS"])
def test_production_refuses_to_start_naming_the_missing_variable(missing):
    complete = {"DJANGO_SECRET_KEY": "x" * 50, "FIELD_ENCRYPTION_KEYS": "k", "ALLOWED_HOSTS": "mail.example"}
    del complete[missing]
    result = _production(complete)
    assert result.returncode != 0
    assert f"without {missing}" in result.stderr


def test_production_starts_with_its_secrets():
    from cryptography.fernet import Fernet

    result = _production({"DJANGO_SECRET_KEY": "x" * 50, "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
                          "ALLOWED_HOSTS": "mail.example"})
    assert result.returncode == 0, result.stderr


def test_local_settings_generate_keys_once_and_keep_them(tmp_path):
    from config.local_keys import ensure_local_keys

    dotenv = tmp_path / ".env"
    saved = {k: os.environ.pop(k, None) for k in ("DJANGO_SECRET_KEY", "FIELD_ENCRYPTION_KEYS")}
    try:
        ensure_local_keys(dotenv)
        first = dotenv.read_text()
        for key in ("DJANGO_SECRET_KEY", "FIELD_ENCRYPTION_KEYS"):
            os.environ.pop(key)
        ensure_local_keys(dotenv)
        assert dotenv.read_text() == first
        assert "FIELD_ENCRYPTION_KEYS=" in first
        assert oct(dotenv.stat().st_mode & 0o777) == "0o600"
    finally:
        for key, value in saved.items():
            os.environ.pop(key, None)
            if value is not None:
                os.environ[key] = value


def test_the_serverless_broker_connects_without_a_warning_about_its_hostname(caplog):
    import logging

    from config.celery import app

    caplog.set_level(logging.WARNING)
    with app.connection_for_write() as connection:
        connection.clone()  # kombu reads the connection's details, and warned when no host was given
    assert "No hostname was supplied" not in caplog.text
