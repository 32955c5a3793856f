import getpass

from django.core.management.base import BaseCommand, CommandError

from accounts.management.commands._errors import command_error
from accounts.services import organization_create
from config.errors import MailbindError


class Command(BaseCommand):
    help = "Create an organization and its first administrator."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="the organization's name")
        parser.add_argument("--admin-email", required=True, help="the first administrator's email")
        parser.add_argument("--admin-password", help="the administrator's password (prompted when omitted)")

    def handle(self, *args, name, admin_email, admin_password, **options):
        if admin_password is None:
            admin_password = getpass.getpass(f"Password for {admin_email}: ")
        if not admin_password:
            raise CommandError("A password is required.", returncode=2)
        try:
            organization, admin = organization_create(
                name=name, admin_email=admin_email, admin_password=admin_password
            )
        except MailbindError as error:
            raise command_error(error) from None
        self.stdout.write(f"Created organization {organization.name!r} with administrator {admin.email}.")
