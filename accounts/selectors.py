"""Reads of the accounts app. Everything that reads tenant data takes the organization and filters by it."""
from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import AuditEvent, Organization, User
from config.errors import NotFound


def user_get(*, organization: Organization, user_id: int) -> User:
    """A user of this organization, or 404: another tenant's user is indistinguishable from none."""
    user = User.objects.filter(organization=organization, pk=user_id).first()
    if user is None:
        raise NotFound()
    return user


def audit_event_list(*, organization: Organization) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(organization=organization).order_by("-created_at", "-id")
