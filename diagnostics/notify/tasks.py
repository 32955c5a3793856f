"""Celery entry points of the notifier: thin, ids only, idempotent (a claimed or finished delivery is left alone)."""
from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from diagnostics.notify import delivery as lifecycle
from diagnostics.notify.emails import digests_create, email_send, email_still_wanted
from diagnostics.notify.models import EmailDelivery, WebhookDelivery
from diagnostics.notify.outbox import outbox_dispatch
from diagnostics.notify.queue import enqueue_email, enqueue_webhook
from diagnostics.notify.webhooks import webhook_attempt

logger = logging.getLogger(__name__)
_LIMITS = {"soft_time_limit": 4 * settings.WEBHOOKS_TIMEOUT + 10, "time_limit": 4 * settings.WEBHOOKS_TIMEOUT + 30}


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True, soft_time_limit=60, time_limit=90)
def notify_dispatch() -> int:
    return outbox_dispatch()


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True, **_LIMITS)
def deliver_email(delivery_id: int) -> str:
    delivery = lifecycle.delivery_claim(EmailDelivery, delivery_id)
    if delivery is None:
        return "not_due"
    reason = email_still_wanted(delivery)
    if reason:
        lifecycle.delivery_skipped(delivery, reason=reason)
        return "skipped"
    try:
        email_send(delivery)
    except Exception as exc:  # SMTP refusals, timeouts, a server that is down: tried again later
        logger.warning("email %s not sent (attempt %s): %s", delivery.pk, delivery.attempts, exc.__class__.__name__)
        delay = lifecycle.delivery_failed(delivery, error=exc.__class__.__name__)
        if delay is not None:
            enqueue_email(delivery.pk, countdown=delay)
        return "failed"
    lifecycle.delivery_succeeded(delivery)
    return "delivered"


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True, **_LIMITS)
def deliver_webhook(delivery_id: int) -> str:
    delivery = lifecycle.delivery_claim(WebhookDelivery, delivery_id)
    if delivery is None:
        return "not_due"
    if not delivery.endpoint.active and delivery.event_id is not None:
        lifecycle.delivery_skipped(delivery, reason="endpoint_inactive")
        return "skipped"
    result = webhook_attempt(delivery)
    if result.ok:
        lifecycle.delivery_succeeded(delivery)
        return "delivered"
    error = result.error or f"http_{result.status_code}"
    delay = lifecycle.delivery_failed(delivery, error=error, permanent=result.permanent)
    if delay is not None:
        enqueue_webhook(delivery.pk, countdown=delay)
    return "failed"


@shared_task(ignore_result=True)
def notify_resume() -> int:
    """Beat: re-publish deliveries whose message was lost, and free attempts whose worker died."""
    now = timezone.now()
    resumed = 0
    for model, enqueue in ((EmailDelivery, enqueue_email), (WebhookDelivery, enqueue_webhook)):
        lifecycle.deliveries_stale(model, now=now)
        for pk in lifecycle.deliveries_due(model, now=now):
            enqueue(pk)
            resumed += 1
    outbox_dispatch()  # and events no trigger reached
    return resumed


@shared_task(ignore_result=True)
def send_daily_digests() -> int:
    created = digests_create()
    for pk in created:
        enqueue_email(pk)
    return len(created)
