"""`manage.py ispdb_refresh SOURCE [--into DIR]`: replace the bundled ISPDB with a newer copy.

SOURCE is a folder of ISPDB files (`*.xml` and its `LICENSE`), or an https URL of a `.zip` / `.tar.gz` archive
holding them (a repository archive of thunderbird/autoconfig: its `ispdb/*.xml` and top-level `LICENSE`). The URL
is fetched through the outbound policy like every other request of the service. Every file is parsed and validated
before the folder is swapped; nothing changes on an error. Exit code 0 done, 2 bad source."""
from __future__ import annotations

import io
import tarfile
import time
import zipfile
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from diagnostics.probes.http import FetchError, fetch
from diagnostics.probes.net import ProbeOptions
from mailsettings import ispdb

MAX_ARCHIVE_BYTES = 64 * 1024 * 1024


class Command(BaseCommand):
    help = "Replace the bundled ISPDB (Thunderbird's mail settings database) from a folder or an archive URL."

    def add_arguments(self, parser):
        parser.add_argument("source", help="a folder of ISPDB files, or an https URL of a .zip or .tar.gz archive")
        parser.add_argument("--into", help="the folder to replace (default: MAILSETTINGS_ISPDB_DIR or the bundle)")
        parser.add_argument("--timeout", type=float, default=120.0, help="seconds for the download")

    def handle(self, *args, source: str, into: str | None, timeout: float, **options):
        target = Path(into) if into else ispdb.bundle_dir()
        files, license_text = (self._download(source, timeout) if source.startswith(("https://", "http://"))
                               else self._folder(Path(source)))
        try:
            bundle = ispdb.bundle_replace(files=files, license_text=license_text, into=target)
        except ispdb.ConfigError as error:
            raise CommandError(f"Nothing was changed: {error.reason.replace('_', ' ')}.", returncode=2) from None
        flagged = sum(len(c.flagged) for c in bundle.configs)
        self.stdout.write(f"{target}: {len(bundle.configs)} files, {len(bundle.by_domain)} domains, "
                          f"{flagged} servers flagged, {len(bundle.unreadable)} files unreadable")
        for name, reason in sorted(bundle.unreadable.items()):
            self.stdout.write(f"  unreadable: {name} ({reason})")

    def _folder(self, folder: Path) -> tuple[dict[str, bytes], bytes]:
        if not folder.is_dir():
            raise CommandError(f"{folder} is not a folder.", returncode=2)
        license_file = folder / "LICENSE"
        files = {path.name: path.read_bytes() for path in sorted(folder.glob("*.xml"))
                 if path.stat().st_size <= ispdb.MAX_FILE_BYTES}
        return files, license_file.read_bytes() if license_file.exists() else b""

    def _download(self, url: str, timeout: float) -> tuple[dict[str, bytes], bytes]:
        options = ProbeOptions.build(
            allowed_networks=settings.DIAGNOSTICS_ALLOWED_NETWORKS, allowed_ports={443, 80},
            connect_timeout=settings.DIAGNOSTICS_CONNECT_TIMEOUT, ca_file=settings.DIAGNOSTICS_CA_FILE or None,
            nameservers=tuple(settings.DNS_NAMESERVERS), deadline=time.monotonic() + timeout)
        try:
            result = fetch(url, options=options, max_bytes=MAX_ARCHIVE_BYTES, timeout=timeout,
                           allow_http=settings.DISCOVERY_ALLOW_HTTP)
        except FetchError as error:
            raise CommandError(f"{url} could not be fetched: {error.reason.replace('_', ' ')}.", returncode=2) from None
        try:
            return _members(result.body)
        except (tarfile.TarError, zipfile.BadZipFile, OSError, EOFError):
            raise CommandError(f"{url} is not a .zip or .tar.gz archive.", returncode=2) from None


def _members(data: bytes) -> tuple[dict[str, bytes], bytes]:
    """The XML files of the archive's ISPDB folder (`ispdb/` when it has one, else every folder) and its
    top-most LICENSE. Members are read by name into memory, never extracted to disk by their paths."""
    entries: list[tuple[str, bytes]] = []
    if zipfile.is_zipfile(io.BytesIO(data)):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for info in archive.infolist()[:20_000]:
                if not info.is_dir() and info.file_size <= ispdb.MAX_FILE_BYTES:
                    entries.append((info.filename, archive.read(info)))
    else:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as archive:
            for member in archive.getmembers()[:20_000]:
                if member.isfile() and member.size <= ispdb.MAX_FILE_BYTES:
                    handle = archive.extractfile(member)
                    if handle is not None:
                        entries.append((member.name, handle.read()))
    in_ispdb = any("/ispdb/" in f"/{name}" for name, _data in entries)
    files = {Path(name).name: blob for name, blob in entries
             if name.endswith(".xml") and (not in_ispdb or Path(name).parent.name == "ispdb")}
    licenses = sorted((name.count("/"), blob) for name, blob in entries if Path(name).name == "LICENSE")
    return files, licenses[0][1] if licenses else b""
