from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import Organization, User
from accounts.services import organization_create, user_create

DEMO_ORG = "Demo"
DEMO_ADMIN = ("admin@demo.test", "demo-admin-password")
DEMO_USER = ("user@demo.test", "demo-user-password")


class Command(BaseCommand):
    help = "Create the Demo organization with admin@demo.test and user@demo.test (idempotent)."

    def handle(self, *args, **options):
        with transaction.atomic():
            organization = Organization.objects.filter(name__iexact=DEMO_ORG).first()
            if organization is None:
                organization, _admin = organization_create(
                    name=DEMO_ORG, admin_email=DEMO_ADMIN[0], admin_password=DEMO_ADMIN[1]
                )
            if not User.objects.filter(email=DEMO_USER[0]).exists():
                user_create(
                    organization=organization, email=DEMO_USER[0], password=DEMO_USER[1],
                    role=User.Role.STANDARD, actor=None,
                )
        self.stdout.write(
            "Demo organization ready. Sign in with:\n"
            f"  admin: {DEMO_ADMIN[0]} / {DEMO_ADMIN[1]}  (also the Django admin at /admin/)\n"
            f"  user:  {DEMO_USER[0]} / {DEMO_USER[1]}"
        )
