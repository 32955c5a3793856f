"""Webhook endpoints (registered by an organization's admins) and sending one delivery.

Writes go through these services, scoped to the actor's organization and audited (never the secret)."""
from __future__ import annotations

import ipaddress
import json
import time
from collections.abc import Iterable
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.services import audit_record
from config.errors import InvalidInput, NotFound, PermissionDenied
from diagnostics.notify.http import https_post
from diagnostics.notify.models import TEST_EVENT, WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent
from diagnostics.notify.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, secret_generate, signature
from diagnostics.policy import is_address_allowed

USER_AGENT = "mailbind-webhooks/1"
_URL_REFUSED = _("Use an https:// address that can be reached from the internet: local and private addresses "
                 "are refused.")


def webhook_url_clean(url: str) -> str:
    """An https URL with a host and no user name or password in it. A host given as an address must be one the
    outbound policy allows; a name is checked again at each delivery (where it resolves then)."""
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        parts, port = None, None
    if parts is None or parts.scheme != "https" or not parts.hostname:
        raise InvalidInput(fields={"url": [_("Enter an address starting with https://.")]})
    if parts.username or parts.password:
        raise InvalidInput(fields={"url": [_("Leave user names and passwords out of the address.")]})
    if port is not None and not 0 < port < 65536:
        raise InvalidInput(fields={"url": [_("The port must be between 1 and 65535.")]})
    host = parts.hostname.rstrip(".").lower()
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if host == "localhost" or host.endswith(".localhost"):
        address = ipaddress.ip_address("127.0.0.1")
    if address is not None and not is_address_allowed(address, allowed_networks=settings.WEBHOOKS_ALLOWED_NETWORKS):
        raise InvalidInput(fields={"url": [_URL_REFUSED]})
    if len(url) > WebhookEndpoint._meta.get_field("url").max_length:
        raise InvalidInput(fields={"url": [_("The address is too long.")]})
    return url


def webhook_events_clean(events: Iterable[str]) -> list[str]:
    chosen = [event for event in WebhookEvent.values if event in set(events or [])]
    if not chosen or len(chosen) != len(set(events or [])):
        raise InvalidInput(fields={"events": [_("Choose at least one of the listed events.")]})
    return chosen


def _check_manages(*, actor: User, organization_id: int) -> None:
    if actor.is_superuser and actor.is_active:
        return
    if actor.organization_id != organization_id:
        raise NotFound()
    if not actor.is_org_admin:
        raise PermissionDenied()


def webhook_endpoint_create(*, actor: User, organization, url: str, events: Iterable[str],
                            description: str = "", active: bool = True) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint. Returns it and its signing secret, which is shown this once and stored encrypted."""
    _check_manages(actor=actor, organization_id=organization.pk)
    secret = secret_generate()
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.create(
            organization=organization, url=webhook_url_clean(url), events=webhook_events_clean(events),
            description=(description or "").strip()[:200], active=active, secret=secret, created_by=actor,
        )
        audit_record(action="webhook_endpoint.created", actor=actor, organization=organization, target=endpoint,
                     details={"events": endpoint.events})
    return endpoint, secret


def webhook_endpoint_update(*, actor: User, endpoint: WebhookEndpoint, changes: dict) -> WebhookEndpoint:
    _check_manages(actor=actor, organization_id=endpoint.organization_id)
    cleaners = {"url": webhook_url_clean, "events": webhook_events_clean,
                "description": lambda v: (v or "").strip()[:200], "active": bool}
    changed = []
    for name, value in changes.items():
        value = cleaners[name](value)
        if getattr(endpoint, name) != value:
            setattr(endpoint, name, value)
            changed.append(name)
    if changed:
        with transaction.atomic():
            endpoint.save(update_fields=changed)
            audit_record(action="webhook_endpoint.updated", actor=actor, organization=endpoint.organization,
                         target=endpoint, details={"fields": sorted(changed)})
    return endpoint


def webhook_endpoint_rotate_secret(*, actor: User, endpoint: WebhookEndpoint) -> str:
    """A new signing secret (shown once); the old one stops working at once."""
    _check_manages(actor=actor, organization_id=endpoint.organization_id)
    secret = secret_generate()
    with transaction.atomic():
        endpoint.secret = secret
        endpoint.save(update_fields=["secret"])
        audit_record(action="webhook_endpoint.secret_rotated", actor=actor, organization=endpoint.organization,
                     target=endpoint)
    return secret


def webhook_test_send(*, actor: User, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """Queue a test event to one endpoint (whatever events it listens for); it shows in the delivery log."""
    from diagnostics.notify.events import test_payload
    from diagnostics.notify.queue import enqueue_webhook

    _check_manages(actor=actor, organization_id=endpoint.organization_id)
    payload = test_payload(organization=endpoint.organization, actor_email=actor.email)
    with transaction.atomic():
        delivery = WebhookDelivery.objects.create(
            endpoint=endpoint, organization_id=endpoint.organization_id, event_type=TEST_EVENT,
            event_uid=payload["id"], payload=payload,
        )
        enqueue_webhook(delivery.pk)
    return delivery


def webhook_body(delivery: WebhookDelivery) -> bytes:
    return json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()


def webhook_attempt(delivery: WebhookDelivery):
    """Send one attempt of a claimed delivery and log it. Returns the PostResult."""
    endpoint = delivery.endpoint
    body = webhook_body(delivery)
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Mailbind-Event": delivery.event_type,
        "X-Mailbind-Delivery": str(delivery.event_uid),
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(secret=endpoint.secret, timestamp=timestamp, body=body),
    }
    sent_at = timezone.now()
    result = https_post(endpoint.url, body=body, headers=headers)
    WebhookAttempt.objects.create(delivery=delivery, number=delivery.attempts, started_at=sent_at,
                                  duration_ms=result.duration_ms, status_code=result.status_code, error=result.error)
    delivery.last_status_code = result.status_code
    return result
