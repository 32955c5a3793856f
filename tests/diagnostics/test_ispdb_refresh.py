"""`manage.py ispdb_refresh`: from a folder, or from an archive URL through the guarded fetch (a local HTTPS server
with a test-CA certificate); validated before the swap, nothing changed on an error."""
from __future__ import annotations

import io
import shutil
import tarfile

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from mailsettings import ispdb
from mailsettings.discovery import detect
from tests.diagnostics.discovery_helpers import client_config, discovery_settings  # noqa: F401
from tests.servers.dns_server import running_dns_server
from tests.servers.https_server import Route, running_https_server

LICENSE = b"Mozilla Public License Version 2.0\n"


@pytest.fixture
def target(tmp_path, settings):
    folder = tmp_path / "ispdb"
    shutil.copytree(ispdb.BUNDLED_DIR, folder)
    settings.MAILSETTINGS_ISPDB_DIR = str(folder)
    return folder


def test_a_folder_replaces_the_bundle_and_the_new_domains_answer_at_once(tmp_path, target, capsys):
    source = tmp_path / "new"
    source.mkdir()
    (source / "newisp.example.xml").write_bytes(client_config("newisp.example", "newisp.co.jp"))
    (source / "LICENSE").write_bytes(LICENSE)

    call_command("ispdb_refresh", str(source))

    assert "1 files, 2 domains, 0 servers flagged" in capsys.readouterr().out
    assert sorted(p.name for p in target.iterdir()) == ["LICENSE", "README.md", "newisp.example.xml"]
    assert detect("x@newisp.co.jp", network=False).source == "ispdb"
    assert detect("x@ocn.ne.jp", network=False).source == "guess"  # the old files went with the swap


def test_a_folder_without_its_license_changes_nothing(tmp_path, target):
    source = tmp_path / "new"
    source.mkdir()
    (source / "newisp.example.xml").write_bytes(client_config("newisp.example"))
    with pytest.raises(CommandError, match="license missing") as error:
        call_command("ispdb_refresh", str(source))
    assert error.value.returncode == 2
    assert (target / "ocn.ne.jp.xml").exists()


def test_files_that_are_not_ispdb_entries_change_nothing(tmp_path, target):
    source = tmp_path / "new"
    source.mkdir()
    (source / "broken.xml").write_bytes(b"<html>")
    (source / "LICENSE").write_bytes(LICENSE)
    with pytest.raises(CommandError, match="no readable files"):
        call_command("ispdb_refresh", str(source))
    assert len(list(target.glob("*.xml"))) == 163


def _archive() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in (("autoconfig-main/LICENSE", LICENSE),
                           ("autoconfig-main/ispdb/archived.example.xml", client_config("archived.example")),
                           ("autoconfig-main/tools/not-ispdb.xml", b"<tool/>")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.mark.usefixtures("discovery_settings")
def test_an_archive_url_is_fetched_through_the_outbound_policy(test_ca, target, settings, capsys):
    leaf = test_ca.issue("archives.example")
    with running_https_server({"/autoconfig.tar.gz": Route(body=_archive())}, leaf=leaf) as web, \
            running_dns_server({"archives.example": {"A": [web.address]}}) as dns:
        settings.DNS_NAMESERVERS = [f"127.0.0.1:{dns.port}"]
        call_command("ispdb_refresh", "https://archives.example/autoconfig.tar.gz")
    assert "1 files, 1 domains" in capsys.readouterr().out
    assert sorted(p.name for p in target.glob("*.xml")) == ["archived.example.xml"]
    assert (target / "LICENSE").read_bytes() == LICENSE


@pytest.mark.usefixtures("discovery_settings")
def test_an_archive_url_on_a_refused_address_changes_nothing(test_ca, target, settings):
    settings.DIAGNOSTICS_ALLOWED_NETWORKS = []
    with running_dns_server({"archives.example": {"A": ["127.0.0.1"]}}) as dns:
        settings.DNS_NAMESERVERS = [f"127.0.0.1:{dns.port}"]
        with pytest.raises(CommandError, match="target not allowed"):
            call_command("ispdb_refresh", "https://archives.example/autoconfig.tar.gz")
    assert len(list(target.glob("*.xml"))) == 163
