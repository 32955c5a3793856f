"""Which audit actions become which webhook events, and the JSON body of each: an event id, its type, its time,
the organization and the objects it is about. Never a secret: accounts are described by their address, servers
and state, changes by the names of the fields that changed."""
from __future__ import annotations

import uuid
from typing import Any

from django.utils import timezone
from django.utils.translation import override

from accounts.models import AuditEvent, User
from diagnostics.labels import outcome_title
from diagnostics.models import DiagnosticRun
from diagnostics.notify.models import WebhookEvent
from mailsettings.models import MailAccount

STATUS_CHANGED = "mail_account.status_changed"
ACTION_EVENTS: dict[str, str] = {
    STATUS_CHANGED: WebhookEvent.ACCOUNT_STATUS_CHANGED,
    "mail_account.disabled": WebhookEvent.ACCOUNT_STATUS_CHANGED,
    "mail_account.enabled": WebhookEvent.ACCOUNT_STATUS_CHANGED,
    "mail_account.registered": WebhookEvent.ACCOUNT_SETTINGS_CHANGED,
    "mail_account.updated": WebhookEvent.ACCOUNT_SETTINGS_CHANGED,
    "mail_account.password_changed": WebhookEvent.ACCOUNT_SETTINGS_CHANGED,
    "settings_lock.created": WebhookEvent.ACCOUNT_LOCKED,
    "settings_lock.released": WebhookEvent.ACCOUNT_UNLOCKED,
    "diagnostic.finished": WebhookEvent.RUN_FINISHED,
}
# The namespace of event ids: the same audit event always has the same id, whichever endpoint and attempt.
EVENT_NAMESPACE = uuid.UUID("6f1d3c52-0d7e-4f9e-9a53-3a2f8f0b7d21")


def event_uid(event: AuditEvent) -> uuid.UUID:
    return uuid.uuid5(EVENT_NAMESPACE, f"audit-event:{event.pk}")


def _iso(value) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def account_body(account: MailAccount) -> dict[str, Any]:
    return {
        "id": account.pk,
        "address": account.address,
        "owner": {"id": account.owner_id, "email": account.owner.email},
        "protocol": account.protocol,
        "incoming_server": {"host": account.incoming_host, "port": account.incoming_port,
                            "security": account.incoming_security},
        "outgoing_server": {"host": account.smtp_host, "port": account.smtp_port, "security": account.smtp_security},
        "status": account.status,
        "outcome": account.last_error_code,
        "last_checked_at": _iso(account.last_checked_at),
        "active": account.is_active,
    }


def _user_body(user: User | None, fallback_id: str) -> dict[str, Any]:
    if user is None:
        return {"id": int(fallback_id) if fallback_id.isdigit() else fallback_id}
    return {"id": user.pk, "email": user.email}


def _run_body(run: DiagnosticRun | None, details: dict) -> dict[str, Any]:
    if run is None:
        return {"id": details.get("run"), "kind": details.get("kind"), "status": details.get("status"),
                "outcome": details.get("outcome")}
    return {"id": run.pk, "kind": run.kind, "trigger": run.trigger, "status": run.status, "outcome": run.outcome,
            "account_id": run.account_id, "created_at": _iso(run.created_at), "started_at": _iso(run.started_at),
            "finished_at": _iso(run.finished_at)}


def event_payload(event: AuditEvent, event_type: str) -> dict[str, Any]:
    """The body sent for `event` (read once, when the delivery is made)."""
    details = dict(event.details or {})
    data: dict[str, Any] = {}
    if event.target_type == "mailaccount":
        account = MailAccount.objects.select_related("owner").filter(pk=event.target_id or 0).first()
        data["account"] = account_body(account) if account is not None else {"id": event.target_id}
    if event_type == WebhookEvent.ACCOUNT_STATUS_CHANGED:
        if event.action == STATUS_CHANGED:
            outcome = details.get("outcome", "")
            with override("en"):
                title = str(outcome_title(outcome)) if outcome else ""
            data.update(previous_status=details.get("from") or None, status=details.get("to"), outcome=outcome,
                        outcome_title=title, run_id=details.get("run"))
        else:  # turned off or on by a person
            data.update(previous_status=None, status="disabled" if event.action.endswith("disabled") else "pending",
                        outcome="", outcome_title="", run_id=None)
    elif event_type == WebhookEvent.ACCOUNT_SETTINGS_CHANGED:
        data.update(change=event.action.rpartition(".")[2], fields=list(details.get("fields", [])))
    elif event_type in (WebhookEvent.ACCOUNT_LOCKED, WebhookEvent.ACCOUNT_UNLOCKED):
        data["user"] = _user_body(User.objects.filter(pk=event.target_id or 0).first(), event.target_id)
    elif event_type == WebhookEvent.RUN_FINISHED:
        run = DiagnosticRun.objects.filter(pk=details.get("run") or 0).first()
        data["run"] = _run_body(run, details)
    return {
        "id": str(event_uid(event)),
        "type": event_type,
        "created": _iso(event.created_at),
        "organization": {"id": event.organization_id,
                         "name": event.organization.name if event.organization_id else None},
        "actor": {"email": event.actor_email} if event.actor_email else None,
        "data": data,
    }


def test_payload(*, organization, actor_email: str) -> dict[str, Any]:
    """The body of "Send test event": the same envelope, no object."""
    return {
        "id": str(uuid.uuid4()),
        "type": "webhook.test",
        "created": _iso(timezone.now()),
        "organization": {"id": organization.pk, "name": organization.name},
        "actor": {"email": actor_email} if actor_email else None,
        "data": {"message": "This is a test event from mailbind."},
    }
