"""How the admin shows an audit event: who did it, what happened (a sentence, the code as a tooltip), what it was
about (the kind of object and its name), and the details as a list instead of JSON."""
from __future__ import annotations

from functools import cache

from django.apps import apps
from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from accounts.audit_labels import audit_action_choices, audit_action_label
from accounts.models import AuditEvent


@cache
def _model_names() -> dict[str, object]:
    return {model._meta.model_name: model._meta.verbose_name for model in apps.get_models()}


class ActionFilter(admin.SimpleListFilter):
    title = _("what happened")
    parameter_name = "action"

    def lookups(self, request, model_admin):
        return audit_action_choices()

    def queryset(self, request, queryset):
        return queryset.filter(action=self.value()) if self.value() else queryset


@admin.display(description=_("by"), ordering="actor_email")
def actor(event: AuditEvent):
    return event.actor_email or _("the service")


@admin.display(description=_("what happened"), ordering="action")
def what(event: AuditEvent):
    return format_html('<span title="{}">{}</span>', event.action, audit_action_label(event.action))


@admin.display(description=_("about"))
def about(event: AuditEvent):
    if not event.target_type:
        return "—"
    kind = _model_names().get(event.target_type, event.target_type)
    return format_html("{}: {}", str(kind).capitalize(), event.target_repr or event.target_id)


@admin.display(description=_("details"))
def details_list(event: AuditEvent):
    items = []
    for key, value in (event.details or {}).items():
        shown = ", ".join(str(v) for v in value) if isinstance(value, list) else ("—" if value in ("", None) else value)
        items.append((key, shown))
    if not items:
        return "—"
    return format_html('<dl class="audit-details">{}</dl>',
                       format_html_join("", "<dt><code>{}</code></dt><dd>{}</dd>", items))
