"""The outbox: every change already writes an AuditEvent in its own transaction. The dispatcher reads the events it
has not handled yet (after they are committed: it only sees committed rows) and turns each into deliveries (emails,
webhooks), writing an EventDispatch receipt in the same transaction. So:

- a worker that dies before that transaction commits leaves the event without a receipt: the next pass (beat's,
  or the one the next event triggers) handles it again;
- two dispatchers on the same event: the receipt's primary key lets one win, the other skips it;
- each delivery is then a row of its own, with its attempts and retries (delivery.py).

Events are read by "no receipt yet", not by a cursor on their id: on PostgreSQL a transaction that started earlier
may commit a smaller id after a later one, and a cursor would step over it."""
from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from accounts.models import AuditEvent
from diagnostics.notify.emails import transition_emails_for
from diagnostics.notify.events import ACTION_EVENTS, event_payload, event_uid
from diagnostics.notify.models import EventDispatch, WebhookDelivery
from diagnostics.notify.queue import enqueue_email, enqueue_webhook
from diagnostics.notify.subscriptions import endpoints_listening

logger = logging.getLogger(__name__)
NOTIFIABLE_ACTIONS = frozenset(ACTION_EVENTS)


def outbox_pending(*, limit: int = 500) -> list[AuditEvent]:
    """Notifiable events of the last NOTIFY_OUTBOX_HORIZON seconds without a receipt, oldest first. Older ones
    are history: a notifier switched on late does not mail about last month."""
    horizon = timezone.now() - datetime.timedelta(seconds=settings.NOTIFY_OUTBOX_HORIZON)
    handled = EventDispatch.objects.filter(event_id=OuterRef("pk"))
    return list(
        AuditEvent.objects.filter(action__in=NOTIFIABLE_ACTIONS, created_at__gte=horizon)
        .exclude(Exists(handled)).select_related("organization").order_by("id")[:limit]
    )


def outbox_dispatch(*, limit: int = 500) -> int:
    """Handle pending events; returns how many this call handled."""
    handled = 0
    for event in outbox_pending(limit=limit):
        try:
            with transaction.atomic():
                EventDispatch.objects.create(event=event)
                _deliveries_for(event)
        except IntegrityError:
            continue  # another dispatcher handled it meanwhile
        handled += 1
    return handled


def _deliveries_for(event: AuditEvent) -> None:
    for email in transition_emails_for(event):
        enqueue_email(email.pk)
    event_type = ACTION_EVENTS.get(event.action)
    if event_type is None or event.organization_id is None:
        return
    endpoints = endpoints_listening(organization_id=event.organization_id, event_type=event_type)
    if not endpoints:
        return
    payload = event_payload(event, event_type)
    for endpoint in endpoints:
        delivery = WebhookDelivery.objects.create(
            endpoint=endpoint, organization_id=event.organization_id, event=event, event_uid=event_uid(event),
            event_type=event_type, payload=payload,
        )
        enqueue_webhook(delivery.pk)
