"""Every message id has a Japanese translation: the committed catalogs are complete, match the code, and work.

The catalogs live in config/locale/ja/LC_MESSAGES/ (django.po, and djangojs.po if JavaScript ever marks strings).
Refresh them after changing user-facing text:
    .venv/bin/python manage.py makemessages -l ja --ignore=.venv --ignore=tests --ignore=test-artifacts --no-obsolete
then translate the new or fuzzy entries.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.core.management import call_command
from django.test.signals import language_changed
from django.utils import translation

ROOT = Path(__file__).resolve().parents[2]
LOCALE_DIR = ROOT / "config" / "locale"
JA_DIR = LOCALE_DIR / "ja" / "LC_MESSAGES"
MAKEMESSAGES_IGNORES = ["--ignore=.venv", "--ignore=tests", "--ignore=test-artifacts", "--no-obsolete"]
# Folders that hold no source of ours (third-party code, build output, data).
NOT_SOURCE = {".git", ".venv", "var", "test-artifacts", "node_modules", "__pycache__", ".pytest_cache", ".ruff_cache"}

# %(name)s, %s, %d ... (printf style; "%%" is a literal percent sign) and {name} (str.format / format_lazy).
_PRINTF = re.compile(r"%%|%\((\w+)\)[sdifrx]|%([sdifrx])")
_BRACE = re.compile(r"\{(\w*)\}")


def _catalogs() -> list[Path]:
    return sorted(JA_DIR.glob("*.po"))


def _placeholders(text: str) -> set[str]:
    found = {f"%({name})s" if name else f"%{kind}" for name, kind in
             ((m.group(1), m.group(2)) for m in _PRINTF.finditer(text) if m.group(0) != "%%")}
    found |= {"{" + name + "}" for name in _BRACE.findall(text)}
    return found


def _key(entry: polib.POEntry) -> tuple[str, str, str]:
    return (entry.msgctxt or "", entry.msgid, entry.msgid_plural or "")


def _project_files() -> list[Path]:
    """The source tree as it would be committed: tracked files plus new files that git does not ignore."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT, capture_output=True, check=True,
        ).stdout.decode().split("\0")
        return [Path(name) for name in listed if name and (ROOT / name).is_file()]
    except (OSError, subprocess.CalledProcessError):  # no git, or not a checkout (e.g. a source archive)
        return [path.relative_to(ROOT) for path in ROOT.rglob("*")
                if path.is_file() and not NOT_SOURCE.intersection(path.relative_to(ROOT).parts)]


@pytest.fixture(scope="module", autouse=True)
def _compiled_catalogs():
    # Build the .mo files the way `make test` does, then drop Django's cached catalogs so this process sees them.
    call_command("compilemessages_py", verbosity=0)
    language_changed(setting="LOCALE_PATHS")
    yield


def test_the_japanese_catalog_exists_and_every_catalog_of_the_project_is_in_config_locale():
    assert (JA_DIR / "django.po").is_file()
    stray = [path for path in ROOT.rglob("*.po")
             if not NOT_SOURCE.intersection(path.relative_to(ROOT).parts) and not path.is_relative_to(LOCALE_DIR)]
    assert stray == [], "catalogs outside config/locale are not checked; makemessages should write to config/locale"


@pytest.mark.parametrize("po_path", _catalogs(), ids=lambda path: path.name)
def test_every_entry_of_the_japanese_catalog_is_translated_with_the_same_placeholders(po_path):
    catalog = polib.pofile(str(po_path))
    assert catalog.metadata.get("Language") == "ja"
    assert catalog.metadata.get("Plural-Forms", "").replace(" ", "").startswith("nplurals=1;")
    problems = []
    for entry in catalog:
        if entry.obsolete:
            continue
        where = f"{entry.msgid!r} ({', '.join(f'{f}:{n}' for f, n in entry.occurrences[:2])})"
        if "fuzzy" in entry.flags:
            problems.append(f"fuzzy: {where}")
        if entry.msgid_plural:
            translations = [entry.msgstr_plural.get(index, "") for index in range(1)]
            expected = _placeholders(entry.msgid) | _placeholders(entry.msgid_plural)
        else:
            translations = [entry.msgstr]
            expected = _placeholders(entry.msgid)
        for text in translations:
            if not text.strip():
                problems.append(f"untranslated: {where}")
            elif _placeholders(text) != expected:
                problems.append(f"placeholders {sorted(_placeholders(text))} != {sorted(expected)}: {where}")
    assert problems == [], "\n".join(problems)


def test_the_catalog_has_exactly_the_message_ids_of_the_code(tmp_path):
    if shutil.which("xgettext") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("GNU gettext (xgettext) is missing on CI: .ci/run installs the Debian package gettext")
        pytest.skip("GNU gettext's xgettext is not installed, so makemessages cannot extract the message ids")
    tree = tmp_path / "tree"
    for relative in _project_files():
        if relative.suffix in {".po", ".mo"}:
            continue  # extract from scratch: nothing of the committed catalog may leak into the comparison
        (tree / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / relative, tree / relative)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    for po_path in _catalogs():
        domain = po_path.stem
        result = subprocess.run(
            [sys.executable, "manage.py", "makemessages", "-l", "ja", "-d", domain, *MAKEMESSAGES_IGNORES],
            cwd=tree, env=env, capture_output=True, text=True, timeout=120,
        )
        assert result.returncode == 0, result.stderr
        fresh_path = tree / po_path.relative_to(ROOT)
        fresh = {_key(e) for e in polib.pofile(str(fresh_path))} if fresh_path.exists() else set()
        committed = {_key(e) for e in polib.pofile(str(po_path)) if not e.obsolete}
        missing, stale = sorted(fresh - committed), sorted(committed - fresh)
        assert (missing, stale) == ([], []), (
            f"{po_path.name} is out of date: run makemessages (see this file's docstring) and translate.\n"
            f"in the code but not in the catalog: {missing}\nin the catalog but no longer in the code: {stale}"
        )
    fresh_js = tree / "config/locale/ja/LC_MESSAGES/djangojs.po"
    if not (JA_DIR / "djangojs.po").exists():
        result = subprocess.run(
            [sys.executable, "manage.py", "makemessages", "-l", "ja", "-d", "djangojs", *MAKEMESSAGES_IGNORES],
            cwd=tree, env=env, capture_output=True, text=True, timeout=120,
        )
        assert result.returncode == 0, result.stderr
        strings = [e.msgid for e in polib.pofile(str(fresh_js))] if fresh_js.exists() else []
        assert strings == [], f"JavaScript marks strings for translation but there is no djangojs.po: {strings}"


def test_the_lock_the_conflict_and_an_advice_title_come_out_in_japanese():
    from diagnostics.advice import advice_for
    from locks.errors import SettingsLocked
    from mailsettings.errors import AddressInUse

    with translation.override("ja"):
        assert str(SettingsLocked.default_message) == (
            "このメール設定を変更する権限がありません。組織の管理者にお問い合わせください。"
        )
        assert str(SettingsLocked()).startswith("このメール設定を変更する権限がありません。")
        assert "別のアカウントで IMAP/POP3 の設定に使用されている" in str(AddressInUse.default_message)
        title = advice_for("auth_app_password_required").title
        assert str(title) == "ご利用のメールサービスではアプリパスワードが必要です"
    # English stays the default.
    assert str(SettingsLocked.default_message).startswith("You don't have permission to change these mail settings.")


@pytest.mark.django_db
def test_an_api_error_follows_accept_language(api):
    japanese = api.get("/api/v1/me/", HTTP_ACCEPT_LANGUAGE="ja")
    english = api.get("/api/v1/me/", HTTP_ACCEPT_LANGUAGE="en")
    assert japanese.status_code == english.status_code == 401
    assert japanese.json()["error"]["code"] == "not_authenticated"
    assert japanese.json()["error"]["message"] == (
        "先にサインインしてください。有効なトークンまたはセッションが必要です。"
    )
    assert english.json()["error"]["message"] == "Sign in first: send a valid token or session."
