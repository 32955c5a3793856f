import getpass

from django.core.management.base import BaseCommand, CommandError

from accounts.management.commands._errors import command_error
from accounts.models import User
from accounts.services import organization_by_name, user_create
from config.errors import MailbindError


class Command(BaseCommand):
    help = "Add a user to an organization."

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="the organization's name")
        parser.add_argument("--email", required=True)
        parser.add_argument("--role", required=True, choices=User.Role.values)
        parser.add_argument("--password", help="prompted when omitted")

    def handle(self, *args, org, email, role, password, **options):
        try:
            organization = organization_by_name(name=org)
        except MailbindError as error:
            raise command_error(error) from None
        if password is None:
            password = getpass.getpass(f"Password for {email}: ")
        if not password:
            raise CommandError("A password is required.", returncode=2)
        try:
            user = user_create(organization=organization, email=email, password=password, role=role, actor=None)
        except MailbindError as error:
            raise command_error(error) from None
        self.stdout.write(f"Added {user.email} ({user.role}) to {organization.name}.")
