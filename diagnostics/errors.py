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


class SentTestNeedsImap(Conflict):
    code = "sent_test_needs_imap"
    default_message = _("POP3 has no Sent folder: it only downloads the Inbox. Sent mail can be measured only for "
                        "accounts that use IMAP.")


class SentTestNeedsPassword(Conflict):
    code = "sent_test_needs_password"
    default_message = _("The test message can be sent only for accounts that sign in with a password, not for "
                        "accounts connected with a provider sign-in.")


class PasswordNeededFirst(Conflict):
    """The password rule removed this account's password (its server was moved): nothing signs in until the owner
    enters it again."""

    code = "password_needed"  # noqa: S105 - a code, not a password
    default_message = _("Enter your password for the new server first: it was removed when the account's server "
                        "settings were changed.")


class RunInFlight(Conflict):
    code = "run_in_flight"
    default_message = _("A check of this account is running. Wait until it has finished, then try again.")
