"""Headless Chromium (Debian's /usr/bin/chromium) driven by Playwright against pytest-django's live_server.

Skipped with a reason where Chromium is missing, except in CI (CI=true), where it must be installed and a missing
browser fails. Playwright's sync API runs an event loop in the test's thread, so Django's async-safety check is
switched off for these tests only (DJANGO_ALLOW_ASYNC_UNSAFE), and Playwright starts and stops per test so no
loop outlives a browser test.
"""
from __future__ import annotations

import os
import re
import weakref
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError

from tests.helpers import PERSONA_PASSWORD, allow_loopback_runs
from tests.servers.dns_server import running_dns_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
# axe-core from npm (tests/browser/package.json, installed by .ci/run with `npm ci --prefix tests/browser`).
AXE_JS = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PHONE = {"width": 390, "height": 844}
# The zone this suite controls: alice@example.test's domain has an MX naming no known provider.
ZONE = {"example.test": {"MX": ["10 mx.example.test."]}, "mx.example.test": {"A": ["192.0.2.25"]}}


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"true", "1", "yes"}


@pytest.fixture
def pw_browser(monkeypatch):
    if not os.path.exists(CHROMIUM):
        reason = f"{CHROMIUM} is not installed (apt-get install -y chromium fonts-ipafont-gothic)"
        if _in_ci():
            pytest.fail(f"browser tests need Chromium in CI: {reason}", pytrace=False)
        pytest.skip(reason)
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()
            # While Playwright's loop runs, Django keeps the test's connections per context, not per thread:
            # close them here, in that same context, or PostgreSQL cannot drop the test database at the end.
            from django.db import connections

            connections.close_all()


# Whether each page runs JavaScript: axe-core needs it (its checks never finish in a page where it is off).
_JAVASCRIPT: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


@pytest.fixture
def open_page(pw_browser, live_server):
    """open_page(js=True, locale="en", phone=False) → a page in a fresh browser context (its own cookies).
    `trust_test_ca=True`: pages of the test authorization server (HTTPS, test CA) open without a certificate
    error (the browser has no way to trust the test CA alone)."""
    contexts = []

    def make(*, js: bool = True, locale: str = "en", phone: bool = False, trust_test_ca: bool = False):
        context = pw_browser.new_context(
            base_url=live_server.url, java_script_enabled=js, locale=locale,
            extra_http_headers={"Accept-Language": locale},
            viewport=PHONE if phone else {"width": 1100, "height": 900},
            ignore_https_errors=trust_test_ca,
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        _JAVASCRIPT[page] = js
        return page

    yield make
    for context in contexts:
        context.close()


def axe_violations(page) -> list[dict]:
    """axe-core's WCAG 2.1 A/AA violations on the page as it is now (each: id, impact, help, the nodes' targets)."""
    if not AXE_JS.exists():
        reason = f"{AXE_JS} is missing (npm ci --prefix tests/browser)"
        if _in_ci():
            pytest.fail(f"browser tests need axe-core in CI: {reason}", pytrace=False)
        pytest.skip(reason)
    source = AXE_JS.read_text(encoding="utf-8")
    for attempt in range(3):
        try:
            result = page.evaluate(
                """([source, tags]) => {
                    if (typeof window.axe === 'undefined') { (0, eval)(source); }
                    return axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
                }""", [source, AXE_TAGS])
            break
        except PlaywrightError as error:
            # A page that moves on by itself (a finished run) may navigate while axe reads it: read the new one.
            if "context was destroyed" not in str(error) or attempt == 2:
                raise
            page.wait_for_load_state()
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "nodes": [node["target"] for node in v["nodes"]][:5]} for v in result["violations"]]


def assert_accessible(page) -> None:
    """Fails the test on any WCAG 2.1 AA violation axe-core finds on the page."""
    violations = axe_violations(page)
    assert not violations, f"axe-core found WCAG 2.1 AA violations on {page.url}: {violations}"


@pytest.fixture
def shot(request):
    """shot(page, label): a full-page screenshot in test-artifacts/screenshots/<test name>/, numbered in order.

    Pages of our own (not Django's admin) running JavaScript are checked with axe-core first: every screenshot of
    a page state is also an accessibility check (WCAG 2.1 AA). `axe=False` skips it. The same pages without
    JavaScript are the same server-rendered HTML, minus the scripts' enhancements."""
    folder = SCREENSHOTS / re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name).strip("_")
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    count = [0]

    def take(page, label: str, *, axe: bool = True) -> Path:
        if axe and "/admin/" not in page.url and _JAVASCRIPT.get(page, True):
            assert_accessible(page)
        count[0] += 1
        path = folder / f"{count[0]:02d}-{label}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def loopback_browser_flows(settings, test_ca):
    """Runs may reach Dovecot and aiosmtpd on loopback, trust the test CA, and ask this suite's DNS server."""
    with running_dns_server(ZONE) as dns:
        allow_loopback_runs(settings, ca_file=test_ca.ca_pem, dns_port=dns.port)
        yield dns


def sign_in(page, email: str, password: str = PERSONA_PASSWORD) -> None:
    """By ids, not labels: the same steps work once the page is in Japanese."""
    page.goto("/accounts/login/")
    page.fill("#id_email", email)
    page.fill("#id_password", password)
    page.click("main form button[type=submit]")
    page.wait_for_url("**/settings/email/")
