"""`manage.py unlock_settings EMAIL [--reason TEXT] [--operator EMAIL]`: the operators' way out when an
organization's other admins are gone. Audited as the operator: with --operator, that superuser is the audit
event's actor and the lock's releaser; without it, no actor (a shell login is not a user of the service). The
details are {"via": "unlock_settings command", "operator": <the shell login>} either way. Exit code 2 on an
unknown email, a user who is not locked, or an --operator who is not an active superuser, like argparse's own
errors."""
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
        parser.add_argument(
            "--operator", metavar="EMAIL", default=None,
            help="your operator (superuser) account: the audit event's actor and who released the lock",
        )

    def handle(self, *args, email, reason, operator, **options):
        user = User.objects.filter(email__iexact=normalize_email(email)).select_related("organization").first()
        if user is None:
            raise CommandError(f"No user has the email {normalize_email(email)}.", returncode=2)
        operator_user = None
        if operator is not None:
            operator_user = User.objects.filter(email__iexact=normalize_email(operator)).first()
            if operator_user is None or not (operator_user.is_superuser and operator_user.is_active):
                raise CommandError(
                    f"--operator must be the email of an active superuser; {normalize_email(operator)} is not.",
                    returncode=2,
                )
        try:
            lock = settings_lock_release_by_operator(
                user=user, operator=_operator_login(), reason=reason, operator_user=operator_user
            )
        except MailbindError as error:
            raise command_error(error) from None
        locked_by = lock.locked_by.email if lock.locked_by else "a removed user"
        self.stdout.write(
            f"Unlocked the mail settings of {user.email} ({user.organization}), locked by {locked_by} "
            f"on {lock.locked_at:%Y-%m-%d %H:%M %Z}."
        )
