"""Who listens: the active webhook endpoints of an organization that want an event type."""
from __future__ import annotations

from diagnostics.notify.models import WebhookEndpoint


def endpoints_listening(*, organization_id: int, event_type: str) -> list[WebhookEndpoint]:
    # Events are a small JSON list per endpoint (JSON containment is not portable to SQLite): filtered here.
    endpoints = WebhookEndpoint.objects.filter(organization_id=organization_id, active=True).defer("secret")
    return [endpoint for endpoint in endpoints if endpoint.wants(event_type)]


def organization_listens(*, organization_id: int, event_type: str) -> bool:
    return bool(endpoints_listening(organization_id=organization_id, event_type=event_type))
