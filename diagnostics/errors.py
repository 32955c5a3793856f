"""Product errors of diagnostics (the family is config.errors)."""
from django.utils.translation import gettext_lazy as _

from config.errors import Conflict, ServiceUnavailable, Throttled


class QueueUnavailable(ServiceUnavailable):
    code = "queue_unavailable"
    default_message = _("Diagnostics cannot be started right now because the task queue is unreachable. "
                        "Try again in a few minutes.")


class AccountDisabled(Conflict):
    code = "account_disabled"
    default_message = _("This mail account is turned off. Turn it on again before checking it.")


class TooManyFailedSignIns(Throttled):
    code = "throttled"
    default_message = _("Signing in to this server failed too many times. Fix the password first, then wait "
                        "before checking again.")
