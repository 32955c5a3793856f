"""The admin pages of our own (Mail users, diagnostic runs) used from a phone-width window: the list, its action
button and a run's steps stay reachable. Screenshots: test-artifacts/screenshots/<test name>/."""
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, sign_in
from tests.factories import account_make

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_admin_reads_a_diagnostic_run_and_its_steps_at_phone_width(open_page, shot, admin_a, user_s):
    from diagnostics.models import DiagnosticRun, DiagnosticStep
    account = account_make(user_s, "alice@example.test")
    run = DiagnosticRun.objects.create(organization=account.organization, account=account, kind="account",
                                       status="failed", outcome="auth_invalid_credentials")
    DiagnosticStep.objects.create(run=run, position=1, name="login", status="failed",
                                  code="auth_invalid_credentials", message="The user name or password was not accepted")
    page = open_page(phone=True)
    sign_in(page, admin_a.email)
    page.goto("/admin/diagnostics/diagnosticrun/")
    expect(page.locator("#result_list")).to_contain_text("alice@example.test")
    shot(page, "runs")
    page.goto(f"/admin/diagnostics/diagnosticrun/{run.pk}/change/")
    expect(page.locator("body")).to_contain_text("auth_invalid_credentials")
    expect(page.locator("body")).to_contain_text("Type the password by hand")  # the advice, in plain words
    shot(page, "run-detail")
    # Nothing wider than the window but the tables, which scroll inside their own box.
    overflow = page.evaluate("document.documentElement.scrollWidth")
    assert overflow <= PHONE["width"] + 1, overflow
