"""`manage.py unlock_settings EMAIL [--reason TEXT]`: the operators' way out when an organization's other admins
are gone. Audited as the operator: no actor (an operator at a shell is not a user of the service), with
details {"via": "unlock_settings command", "operator": <the shell login>}. Exit code 2 on an unknown email or a
user who is not locked, like argparse's own errors."""
import getpass

from django.core.management.base import BaseCommand, CommandError

from accounts.management.commands._errors import command_error
from accounts.models import User, normalize_email
from config.errors import MailbindError
from locks.services import settings_lock_release_by_operator


def _operator_login() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name in some containers
        return "unknown"


class Command(BaseCommand):
    help = "Release the settings lock of a user (for operators, when no other admin of the organization can)."

    def add_arguments(self, parser):
        parser.add_argument("email", help="the locked user's email")
        parser.add_argument("--reason", default="", help="why the lock is released (kept in the lock's history)")

    def handle(self, *args, email, reason, **options):
        user = User.objects.filter(email__iexact=normalize_email(email)).select_related("organization").first()
        if user is None:
            raise CommandError(f"No user has the email {normalize_email(email)}.", returncode=2)
        try:
            lock = settings_lock_release_by_operator(user=user, operator=_operator_login(), reason=reason)
        except MailbindError as error:
            raise command_error(error) from None
        locked_by = lock.locked_by.email if lock.locked_by else "a removed user"
        self.stdout.write(
            f"Unlocked the mail settings of {user.email} ({user.organization}), locked by {locked_by} "
            f"on {lock.locked_at:%Y-%m-%d %H:%M %Z}."
        )
