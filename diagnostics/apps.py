from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DiagnosticsConfig(AppConfig):
    name = "diagnostics"
    verbose_name = _("Diagnostics and notifications")

    def ready(self) -> None:
        # Lower apps show codes as sentences through hooks they expose; they never import diagnostics.
        from accounts.audit_labels import audit_action_register
        from diagnostics.discovery.discover import discover
        from diagnostics.labels import known_outcomes, outcome_title
        from diagnostics.notify import signals
        from diagnostics.notify.models import WebhookEndpoint
        from mailsettings.discovery import network_discoverer_register
        from mailsettings.outcomes import outcome_describer_register
        from mailsettings.secrets import secret_column_rotate, secret_rotator_register

        # mailsettings answers from local knowledge; the network methods of settings discovery are ours.
        network_discoverer_register(discover)
        outcome_describer_register(outcome_title, known_outcomes)
        secret_rotator_register("webhook endpoint", lambda: secret_column_rotate(WebhookEndpoint, "secret"))
        audit_action_register(AUDIT_ACTIONS)
        signals.connect()
        # Celery finds diagnostics/tasks.py by itself; the health page's and the notifier's tasks live beside
        # their code.
        from diagnostics import tasks_oauth as _oauth_tasks  # noqa: F401 - OAuth2 token refresh
        from diagnostics.health import tasks as _health_tasks  # noqa: F401
        from diagnostics.notify import tasks as _notify_tasks  # noqa: F401

        # Turning an OAuth2 binding off revokes its refresh token at the provider (mailsettings never imports us).
        from diagnostics.oauth.revoke import revoke_refresh_token
        from mailsettings.oauth_tokens import oauth_revoker_register

        oauth_revoker_register(revoke_refresh_token)


AUDIT_ACTIONS = {
    "diagnostic.started": _("Check started"),
    "diagnostic.finished": _("Check finished"),
    "mail_account.status_changed": _("Mail account status changed"),
    "webhook_endpoint.created": _("Webhook endpoint added"),
    "webhook_endpoint.updated": _("Webhook endpoint changed"),
    "webhook_endpoint.secret_rotated": _("Webhook signing secret replaced"),
}
