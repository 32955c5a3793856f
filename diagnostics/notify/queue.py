"""Publishing the notifier's tasks after commit. A broker that is down loses nothing: the rows are pending and the
sweep (beat, every minute) publishes them again; the request or task that wrote them is never failed by it."""
from __future__ import annotations

import logging

from django.db import transaction

logger = logging.getLogger(__name__)


def _publish(task, *args, countdown: float | None = None) -> None:
    def send() -> None:
        try:
            task.apply_async(args=list(args), countdown=countdown)
        except Exception:  # kombu's OperationalError, or OSError from the socket
            logger.warning("broker unreachable: %s%s left for the sweep", task.name, args, exc_info=True)

    transaction.on_commit(send)


def enqueue_dispatch() -> None:
    from diagnostics.notify.tasks import notify_dispatch

    _publish(notify_dispatch)


def enqueue_email(delivery_id: int, *, countdown: float | None = None) -> None:
    from diagnostics.notify.tasks import deliver_email

    _publish(deliver_email, delivery_id, countdown=countdown)


def enqueue_webhook(delivery_id: int, *, countdown: float | None = None) -> None:
    from diagnostics.notify.tasks import deliver_webhook

    _publish(deliver_webhook, delivery_id, countdown=countdown)
