"""The admin of notifications: an organization's webhook endpoints (the signing secret shown once, "Send test
event", "Replace signing secret"), the webhook delivery log with each attempt, and the email log.

Stable admin URL names (namespace "admin"):
- diagnostics_webhookendpoint_test    /admin/diagnostics/webhookendpoint/<id>/test/    POST: send a test event
- diagnostics_webhookendpoint_rotate  /admin/diagnostics/webhookendpoint/<id>/rotate/  POST: a new secret, shown once
"""
from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from accounts.admin_scoping import OrganizationScopedAdmin, ReadOnlyAdminMixin, organization_of
from config.errors import InvalidInput, MailbindError
from config.form_errors import form_add_product_error
from diagnostics.labels import outcome_title
from diagnostics.notify import webhooks
from diagnostics.notify.models import (
    TEST_EVENT,
    EmailDelivery,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)

SECRET_TEMPLATE = "admin/diagnostics/webhook_secret.html"  # noqa: S105 - a template name


def event_label(event_type: str):
    if event_type == TEST_EVENT:
        return _("Test event")
    return dict(WebhookEvent.choices).get(event_type, event_type)


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https",
                         help_text=_("An https:// address that can be reached from the internet."))
    events = forms.MultipleChoiceField(
        label=_("events"), choices=WebhookEvent.choices, widget=forms.CheckboxSelectMultiple,
        help_text=_("The endpoint receives only the events chosen here."),
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["organization", "url", "description", "events", "active"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["events"] = list(self.instance.events or [])

    def clean_url(self):
        try:
            return webhooks.webhook_url_clean(self.cleaned_data.get("url", ""))
        except InvalidInput as exc:
            form_add_product_error(self, exc)
            return self.cleaned_data.get("url", "")


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(OrganizationScopedAdmin):
    form = WebhookEndpointForm
    list_display = ["url", "description", "event_list", "active", "created_at"]
    list_filter = ["active"]
    search_fields = ["url", "description"]
    actions = ["send_test_selected"]
    readonly_fields = ["tools", "created_at"]

    def get_fields(self, request, obj=None):
        fields = ["url", "description", "events", "active"]
        if request.user.is_superuser and obj is None:
            fields = ["organization", *fields]
        return [*fields, "tools", "created_at"] if obj is not None else fields

    def get_list_display(self, request):
        return ["organization", *self.list_display] if request.user.is_superuser else self.list_display

    @admin.display(description=_("events"))
    def event_list(self, endpoint: WebhookEndpoint) -> str:
        return format_html_join("", "<div>{}</div>", ((event_label(e),) for e in endpoint.events or []))

    @admin.display(description=_("tools"))
    def tools(self, endpoint: WebhookEndpoint) -> str:
        # Buttons inside the change form post it (with its CSRF token) to their own URL: no JavaScript needed.
        log = reverse("admin:diagnostics_webhookdelivery_changelist") + f"?endpoint__id__exact={endpoint.pk}"
        return format_html(
            '<button type="submit" class="button" formaction="{}" formnovalidate>{}</button> '
            '<button type="submit" class="button" formaction="{}" formnovalidate>{}</button> '
            '<a href="{}">{}</a><p class="help">{}</p>',
            reverse("admin:diagnostics_webhookendpoint_test", args=[endpoint.pk]), _("Send test event"),
            reverse("admin:diagnostics_webhookendpoint_rotate", args=[endpoint.pk]), _("Replace signing secret"),
            log, _("Delivery log"),
            _("The signing secret is stored encrypted and never shown again after it is made. Replacing it stops "
              "the old one at once."),
        )

    # --- saving through the services (scoped, audited) -------------------------------------------------------
    def save_model(self, request, obj: WebhookEndpoint, form, change: bool) -> None:
        data = form.cleaned_data
        if change:
            fresh = WebhookEndpoint.objects.get(pk=obj.pk)
            changes = {name: data[name] for name in form.changed_data if name in ("url", "events", "description",
                                                                                  "active")}
            webhooks.webhook_endpoint_update(actor=request.user, endpoint=fresh, changes=changes)
            return
        organization = organization_of(request) or data["organization"]
        endpoint, secret = webhooks.webhook_endpoint_create(
            actor=request.user, organization=organization, url=data["url"], events=data["events"],
            description=data.get("description", ""), active=data.get("active", True),
        )
        obj.pk = endpoint.pk
        obj._new_secret = secret  # shown once by response_add, never stored in clear

    def save_related(self, request, form, formsets, change) -> None:
        return None

    def response_add(self, request, obj, post_url_continue=None):
        secret = getattr(obj, "_new_secret", None)
        if secret is None:
            return super().response_add(request, obj, post_url_continue)
        return self._show_secret(request, obj, secret, _("Webhook endpoint added"))

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except MailbindError as exc:
            self.message_user(request, str(exc.message), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def _show_secret(self, request, endpoint, secret: str, title):
        context = {**self.admin_site.each_context(request), "opts": self.opts, "title": title,
                   "endpoint": endpoint, "secret": secret,
                   "change_url": reverse("admin:diagnostics_webhookendpoint_change", args=[endpoint.pk])}
        response = TemplateResponse(request, SECRET_TEMPLATE, context)
        response["Cache-Control"] = "no-store"  # the secret must not be kept by the browser or a proxy
        return response

    # --- buttons --------------------------------------------------------------------------------------------
    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:object_id>/test/", wrap(self.test_view), name="diagnostics_webhookendpoint_test"),
            path("<int:object_id>/rotate/", wrap(self.rotate_view), name="diagnostics_webhookendpoint_rotate"),
            *super().get_urls(),
        ]

    def _endpoint(self, request, object_id):
        endpoint = self.get_object(request, str(object_id))
        if endpoint is None or not self.has_change_permission(request, endpoint):
            return None
        return endpoint

    def test_view(self, request, object_id: int):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        endpoint = self._endpoint(request, object_id)
        if endpoint is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, str(object_id))
        self._send_test(request, endpoint)
        return HttpResponseRedirect(
            reverse("admin:diagnostics_webhookdelivery_changelist") + f"?endpoint__id__exact={endpoint.pk}")

    def rotate_view(self, request, object_id: int):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        endpoint = self._endpoint(request, object_id)
        if endpoint is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, str(object_id))
        try:
            secret = webhooks.webhook_endpoint_rotate_secret(actor=request.user, endpoint=endpoint)
        except MailbindError as exc:
            self.message_user(request, str(exc.message), messages.ERROR)
            return HttpResponseRedirect(reverse("admin:diagnostics_webhookendpoint_change", args=[endpoint.pk]))
        return self._show_secret(request, endpoint, secret, _("New signing secret"))

    def _send_test(self, request, endpoint) -> None:
        try:
            webhooks.webhook_test_send(actor=request.user, endpoint=endpoint)
        except MailbindError as exc:
            self.message_user(request, f"{endpoint.url}: {exc.message}", messages.ERROR)
        else:
            self.message_user(request, _("A test event is on its way to %(url)s. Its result appears in the delivery "
                                         "log.") % {"url": endpoint.url}, messages.SUCCESS)

    @admin.action(description=_("Send a test event to the selected endpoints"))
    def send_test_selected(self, request, queryset) -> None:
        for endpoint in queryset:
            self._send_test(request, endpoint)


class EventTypeFilter(admin.SimpleListFilter):
    title = _("event")
    parameter_name = "event_type"

    def lookups(self, request, model_admin):
        return [*WebhookEvent.choices, (TEST_EVENT, event_label(TEST_EVENT))]

    def queryset(self, request, queryset):
        return queryset.filter(event_type=self.value()) if self.value() else queryset


class _DeliveryAdmin(ReadOnlyAdminMixin, OrganizationScopedAdmin):
    def has_view_permission(self, request, obj=None) -> bool:
        return self._in_scope(request, obj)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(_DeliveryAdmin):
    list_display = ["created_at", "endpoint", "event_kind", "status", "attempts", "last_status_code",
                    "next_attempt_at", "error"]
    list_filter = ["status", EventTypeFilter, "endpoint"]
    list_select_related = ["endpoint"]
    search_fields = ["endpoint__url", "event_type"]
    fields = ["endpoint", "event_kind", "event_uid", "status", "attempts", "last_status_code", "next_attempt_at",
              "error", "created_at", "finished_at", "attempt_table", "body"]
    readonly_fields = fields

    @admin.display(description=_("event"), ordering="event_type")
    def event_kind(self, delivery: WebhookDelivery):
        return format_html('<span title="{}">{}</span>', delivery.event_type, event_label(delivery.event_type))

    @admin.display(description=_("last error"))
    def error(self, delivery: WebhookDelivery) -> str:
        return delivery.last_error or "—"

    @admin.display(description=_("attempts"))
    def attempt_table(self, delivery: WebhookDelivery):
        attempts = WebhookAttempt.objects.filter(delivery=delivery).order_by("number")
        rows = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", (
            (a.number, a.started_at.strftime("%Y-%m-%d %H:%M:%S"), a.status_code or a.error or "—", a.duration_ms)
            for a in attempts
        ))
        return format_html(
            '<table><thead><tr><th scope="col">{}</th><th scope="col">{}</th><th scope="col">{}</th>'
            '<th scope="col">{}</th></tr></thead><tbody>{}</tbody></table>',
            _("Attempt"), _("Sent"), _("Answer"), _("Duration (ms)"), rows,
        )

    @admin.display(description=_("body"))
    def body(self, delivery: WebhookDelivery):
        return format_html("<details><summary>{}</summary><pre>{}</pre></details>", _("Show the JSON sent"),
                           json.dumps(delivery.payload, indent=2, ensure_ascii=False))


@admin.register(EmailDelivery)
class EmailDeliveryAdmin(_DeliveryAdmin):
    list_display = ["created_at", "kind", "recipient", "account", "problem", "status", "attempts", "next_attempt_at"]
    list_filter = ["status", "kind"]
    list_select_related = ["recipient", "account"]
    search_fields = ["recipient__email", "account__address"]
    fields = ["kind", "recipient", "account", "problem", "status", "attempts", "next_attempt_at", "last_error",
              "created_at", "finished_at"]
    readonly_fields = fields

    @admin.display(description=_("problem"))
    def problem(self, delivery: EmailDelivery):
        if not delivery.outcome:
            return "—"
        return format_html('{} <code class="code-secondary">{}</code>', outcome_title(delivery.outcome),
                           delivery.outcome)
