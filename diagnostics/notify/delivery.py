"""What emails and webhook deliveries share: claiming one attempt, recording its result, exponential backoff, and
the sweep that resumes what a dead worker or a lost message left behind.

A delivery is claimed by one conditional UPDATE (pending and due -> sending), so a message delivered twice, or
the sweep and a retry arriving together, make one attempt. The next try is both a Celery message with a
countdown and a row's `next_attempt_at`: if the message is lost, the sweep sends it."""
from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.db.models import F, Model
from django.utils import timezone

from diagnostics.notify.models import DeliveryStatus

logger = logging.getLogger(__name__)

# A message may arrive a little before its row's time (clocks of two machines): still claim it.
EARLY_TOLERANCE = datetime.timedelta(seconds=2)


def backoff_seconds(attempts: int) -> float:
    """Seconds before the next try after `attempts` failed ones: NOTIFY_RETRY_BASE doubled each time, at most
    NOTIFY_RETRY_MAX."""
    base, cap = float(settings.NOTIFY_RETRY_BASE), float(settings.NOTIFY_RETRY_MAX)
    return min(base * (2 ** max(attempts - 1, 0)), cap)


def delivery_claim(model: type[Model], pk: int):
    """Take one attempt of a due delivery, or None (done, not due yet, or someone else is trying it now)."""
    now = timezone.now()
    claimed = model.objects.filter(
        pk=pk, status=DeliveryStatus.PENDING, next_attempt_at__lte=now + EARLY_TOLERANCE,
    ).update(status=DeliveryStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    if not claimed:
        return None
    return model.objects.get(pk=pk)


def delivery_succeeded(delivery) -> None:
    now = timezone.now()
    delivery.status, delivery.finished_at, delivery.next_attempt_at, delivery.last_error = (
        DeliveryStatus.DELIVERED, now, None, "")
    delivery.save(update_fields=["status", "finished_at", "next_attempt_at", "last_error",
                                 *_extra_fields(delivery)])


def delivery_skipped(delivery, *, reason: str) -> None:
    delivery.status, delivery.finished_at, delivery.next_attempt_at, delivery.last_error = (
        DeliveryStatus.SKIPPED, timezone.now(), None, reason[:300])
    delivery.save(update_fields=["status", "finished_at", "next_attempt_at", "last_error"])


def delivery_failed(delivery, *, error: str, permanent: bool = False) -> float | None:
    """Record a failed attempt. Returns the seconds until the next try, or None when it gave up (a permanent
    failure, or NOTIFY_GIVE_UP_AFTER seconds since the delivery was made)."""
    now = timezone.now()
    delay = backoff_seconds(delivery.attempts)
    give_up_at = delivery.created_at + datetime.timedelta(seconds=settings.NOTIFY_GIVE_UP_AFTER)
    delivery.last_error = error[:300]
    if permanent or now + datetime.timedelta(seconds=delay) > give_up_at:
        delivery.status, delivery.finished_at, delivery.next_attempt_at = DeliveryStatus.FAILED, now, None
        delay = None
    else:
        delivery.status = DeliveryStatus.PENDING
        delivery.next_attempt_at = now + datetime.timedelta(seconds=delay)
    delivery.save(update_fields=["status", "finished_at", "next_attempt_at", "last_error",
                                 *_extra_fields(delivery)])
    return delay


def _extra_fields(delivery) -> list[str]:
    return ["last_status_code"] if hasattr(delivery, "last_status_code") else []


def deliveries_stale(model: type[Model], *, now: datetime.datetime) -> int:
    """Attempts whose worker died mid-way (sending for longer than any attempt can last) become pending again;
    the attempt counts."""
    cutoff = now - datetime.timedelta(seconds=settings.NOTIFY_SENDING_STALE_AFTER)
    return model.objects.filter(status=DeliveryStatus.SENDING, claimed_at__lt=cutoff).update(
        status=DeliveryStatus.PENDING, next_attempt_at=now, last_error="worker_lost")


def deliveries_due(model: type[Model], *, now: datetime.datetime, limit: int = 500) -> list[int]:
    """Pending deliveries whose time passed a while ago: their message was lost (or never published)."""
    grace = datetime.timedelta(seconds=settings.NOTIFY_RESUME_GRACE)
    return list(model.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now - grace)
                .order_by("next_attempt_at").values_list("pk", flat=True)[:limit])
