from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LocksConfig(AppConfig):
    name = "locks"
    verbose_name = _("Security settings")

    def ready(self) -> None:
        # A locked admin manages no users (accounts.services asks its registered guards; it never imports locks).
        from accounts.services import user_management_guard_register
        from locks.services import locked_admin_check

        user_management_guard_register(locked_admin_check)
