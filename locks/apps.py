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

        from accounts.audit_labels import audit_action_register
        from locks.services import ACTION_LOCKED, ACTION_RELEASED

        audit_action_register({ACTION_LOCKED: _("Mail settings locked"), ACTION_RELEASED: _("Mail settings unlocked")})
