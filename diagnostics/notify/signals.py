"""The trigger: when a notifiable audit event is saved, the dispatcher is asked to run once its transaction
commits. Only a trigger: the event itself is the outbox, and beat's notify_resume runs the dispatcher anyway."""
from __future__ import annotations

from django.db.models.signals import post_save

from accounts.models import AuditEvent


def _audit_event_saved(sender, instance: AuditEvent, created: bool, **kwargs) -> None:
    from diagnostics.notify.outbox import NOTIFIABLE_ACTIONS
    from diagnostics.notify.queue import enqueue_dispatch

    if created and instance.action in NOTIFIABLE_ACTIONS:
        enqueue_dispatch()


def connect() -> None:
    post_save.connect(_audit_event_saved, sender=AuditEvent, dispatch_uid="mailbind-notify-dispatch")
