"""Publishing the notifier's tasks after commit. A broker that is down loses nothing: the rows are pending and the
sweep (beat, every minute) publishes them again; the request or task that wrote them is never failed by it.

The tasks are published by name through the Celery app: the tasks import this module, never the reverse."""
from __future__ import annotations

import logging

from django.db import transaction

from config.celery import app

logger = logging.getLogger(__name__)

DISPATCH_TASK = "diagnostics.notify.tasks.notify_dispatch"
EMAIL_TASK = "diagnostics.notify.tasks.deliver_email"
WEBHOOK_TASK = "diagnostics.notify.tasks.deliver_webhook"


def _publish(task_name: str, *args, countdown: float | None = None) -> None:
    def send() -> None:
        try:
            app.send_task(task_name, args=list(args), countdown=countdown)
        except Exception:  # kombu's OperationalError, or OSError from the socket
            logger.warning("broker unreachable: %s%s left for the sweep", task_name, args, exc_info=True)

    transaction.on_commit(send)


def enqueue_dispatch() -> None:
    _publish(DISPATCH_TASK)


def enqueue_email(delivery_id: int, *, countdown: float | None = None) -> None:
    _publish(EMAIL_TASK, delivery_id, countdown=countdown)


def enqueue_webhook(delivery_id: int, *, countdown: float | None = None) -> None:
    _publish(WEBHOOK_TASK, delivery_id, countdown=countdown)
