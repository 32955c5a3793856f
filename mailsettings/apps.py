from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MailSettingsConfig(AppConfig):
    name = "mailsettings"
    verbose_name = _("Mail settings")

    def ready(self) -> None:
        from accounts.audit_labels import audit_action_register

        audit_action_register({
            "mail_account.registered": _("Mail account added"),
            "mail_account.updated": _("Mail account settings changed"),
            "mail_account.password_changed": _("Mail account password changed"),
            "mail_account.disabled": _("Mail account turned off"),
            "mail_account.enabled": _("Mail account turned on"),
        })
