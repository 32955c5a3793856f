from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MailSettingsConfig(AppConfig):
    name = "mailsettings"
    verbose_name = _("Mail settings")

    def ready(self) -> None:
        # The "Security settings > Mail users" admin page (issue 4); importing registers it.
        from mailsettings import admin_mail_users  # noqa: F401
