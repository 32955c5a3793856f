"""`manage.py discovery_forget DOMAIN...`: drop the cached network answer of domains (a domain that just published
its autoconfig file or fixed its DNS would otherwise get the old answer for up to DISCOVERY_CACHE_TTL)."""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from mailsettings.addresses import AddressError, parse_address
from mailsettings.discovery import network_answer_forget


class Command(BaseCommand):
    help = "Forget the cached settings-discovery answer of one or more domains."

    def add_arguments(self, parser):
        parser.add_argument("domains", nargs="+", help="mail domains (example.co.jp) or addresses")

    def handle(self, *args, domains: list[str], **options):
        for value in domains:
            text = value.strip()
            try:
                # The cache is keyed by the ASCII domain the detection uses: normalize the same way.
                domain = parse_address(text if "@" in text else f"postmaster@{text}").domain
            except AddressError as error:
                raise CommandError(f"{value}: {error}", returncode=2) from None
            network_answer_forget(domain)
            self.stdout.write(f"forgot {domain}")
