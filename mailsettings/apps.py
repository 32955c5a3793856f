from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MailSettingsConfig(AppConfig):
    name = "mailsettings"
    verbose_name = _("Mail settings")
