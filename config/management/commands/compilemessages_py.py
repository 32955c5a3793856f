"""Compile every .po file of the project into its .mo file with polib: no GNU gettext needed on the machine."""
from pathlib import Path

import polib
from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand


def project_locale_roots() -> list[Path]:
    """LOCALE_PATHS and the locale folder of each of the project's own apps (those at the top of BASE_DIR: an
    installed library keeps its compiled catalogs)."""
    base = Path(settings.BASE_DIR).resolve()
    own_apps = [Path(app.path) for app in apps.get_app_configs() if Path(app.path).resolve().parent == base]
    roots = [Path(p) for p in settings.LOCALE_PATHS] + [path / "locale" for path in own_apps]
    return list(dict.fromkeys(root.resolve() for root in roots))


class Command(BaseCommand):
    help = "Compile the project's translations (.po → .mo) without GNU gettext."

    def handle(self, *args, **options):
        compiled = 0
        for root in project_locale_roots():
            for po_path in sorted(root.glob("*/LC_MESSAGES/*.po")) if root.exists() else []:
                mo_path = po_path.with_suffix(".mo")
                if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
                    continue
                polib.pofile(str(po_path)).save_as_mofile(str(mo_path))
                compiled += 1
        self.stdout.write(f"Compiled {compiled} translation file(s).")
