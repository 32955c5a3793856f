"""The Celery app. It reads every CELERY_* Django setting; JSON is the only serializer it accepts."""
import logging
import os
from pathlib import Path

from celery import Celery
from celery.signals import beat_init, worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("mailbind")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _make_filesystem_broker_folders(sender: Celery, **kwargs) -> None:
    # kombu's filesystem transport does not create its folders, and fails obscurely when they are missing.
    options = sender.conf.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        if options.get(key):
            Path(options[key]).mkdir(parents=True, exist_ok=True)


class _NoDefaultHostnameWarning(logging.Filter):
    """The filesystem broker has no host by design; kombu would warn on every connection that it assumes one."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("No hostname was supplied")


logging.getLogger("kombu.connection").addFilter(_NoDefaultHostnameWarning())


def _announce_ready(name: str) -> None:
    # `make run`'s supervisor (config/run_local.py) waits for these files before it prints where to go.
    folder = os.environ.get("MAILBIND_READY_DIR")
    if folder:
        Path(folder, name).touch()


@worker_ready.connect
def _worker_ready(**kwargs) -> None:
    _announce_ready("worker")


@beat_init.connect
def _beat_ready(**kwargs) -> None:
    _announce_ready("beat")
