"""The admin's "Mail health" page in a real browser, with seeded data: counts, the failing list, the trend chart, in
English and Japanese, at 1280 px and at phone width (390 px); "Check now" starts a run. It is our own page inside
the admin, so it is checked with axe-core here (the `shot` fixture skips admin pages). Also: the Mail users list
fits 1280 px. Screenshots: test-artifacts/screenshots/<test name>/."""
import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, assert_accessible, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
DESKTOP = {"width": 1280, "height": 900}
PAGE = "/admin/diagnostics/mailhealth/"


@pytest.fixture
def seeded(org1, admin_a):
    """Acme: 12 accounts (connected, failing in two ways, not checked, one turned off) and 30 days of snapshots."""
    from accounts.models import User
    from diagnostics.health.models import StatusSnapshot
    from tests.diagnostics.health_helpers import finish_check, make_account

    now = timezone.now()
    outcomes = ["ok"] * 6 + ["auth_invalid_credentials"] * 3 + ["port_closed"] * 2
    for i, outcome in enumerate(outcomes):
        owner = User.objects.create_user(f"person{i}@acme.test", "x", organization=org1, role="standard",
                                         full_name=f"Person {i}")
        account = make_account(owner, f"person{i}@example.test")
        finish_check(account, "ok", at=now - datetime.timedelta(days=10))
        if outcome != "ok":
            finish_check(account, outcome, at=now - datetime.timedelta(days=9 - i % 5, hours=i))
    make_account(User.objects.create_user("new@acme.test", "x", organization=org1, role="standard"))
    today = timezone.localdate()
    rows = []
    for offset in range(1, 30):
        day = today - datetime.timedelta(days=offset)
        failing = 0 if offset > 9 else min(9 - offset + 1, 5)
        rows += [StatusSnapshot(date=day, organization=org1, status="connected", accounts=11 - failing),
                 StatusSnapshot(date=day, organization=org1, status="auth_failed", accounts=failing // 2),
                 StatusSnapshot(date=day, organization=org1, status="connection_failed",
                                accounts=failing - failing // 2),
                 StatusSnapshot(date=day, organization=org1, status="pending", accounts=1)]
    StatusSnapshot.objects.bulk_create(rows)


def open_health(open_page, user, *, locale: str, phone: bool):
    page = open_page(locale=locale, phone=phone)
    if not phone:
        page.set_viewport_size(DESKTOP)
    sign_in(page, user.email)
    page.goto(PAGE)
    return page


@pytest.mark.parametrize("locale", ["en", "ja"])
@pytest.mark.parametrize("phone", [False, True], ids=["1280px", "390px"])
def test_the_health_page_reads_well_in_both_languages_and_widths(open_page, shot, admin_a, seeded, locale, phone):
    if locale == "ja":
        admin_a.language = "ja"
        admin_a.save(update_fields=["language"])
    page = open_health(open_page, admin_a, locale=locale, phone=phone)
    words = {"en": ("Mail health", "Failing accounts", "Sign-in failed", "The user name or password was not accepted"),
             "ja": ("メールの状態", "失敗しているアカウント", "ログイン失敗", "ユーザー名またはパスワード")}[locale]
    expect(page.locator("h1")).to_contain_text(words[0])
    expect(page.locator("#health-failing-title")).to_contain_text(words[1])
    expect(page.locator(".health-counts")).to_contain_text(words[2])
    expect(page.locator(".health-failing")).to_contain_text(words[3])
    assert page.locator(".health-failing tbody tr").count() == 5
    assert page.locator(".health-count-auth_failed .health-count-number").inner_text() == "3"
    assert page.locator("svg.health-chart rect").count() >= 30
    assert page.locator(".health-legend li").count() >= 5
    assert_accessible(page)
    width = (PHONE if phone else DESKTOP)["width"]
    overflow = page.evaluate("document.documentElement.scrollWidth")
    assert overflow <= width + 1, f"the page is {overflow}px wide in a {width}px window"
    chart = page.locator("svg.health-chart").bounding_box()
    assert chart["width"] >= width * 0.6 and chart["height"] >= 150  # readable, not squeezed
    shot(page, f"health-{locale}")
    page.locator(".health-numbers summary").click()
    assert_accessible(page)
    shot(page, f"health-{locale}-numbers")


def test_check_now_from_the_health_page_starts_a_run(open_page, shot, admin_a, seeded):
    from diagnostics.models import DiagnosticRun

    page = open_health(open_page, admin_a, locale="en", phone=False)
    first = page.locator(".health-failing tbody tr").first
    address = first.locator("td").nth(1).inner_text()
    before = DiagnosticRun.objects.filter(account__address=address, trigger="user").count()
    first.get_by_role("button", name="Check now").click()
    expect(page.locator(".messagelist")).to_contain_text(f"Checking {address} now")
    assert DiagnosticRun.objects.filter(account__address=address, trigger="user").count() == before + 1
    assert_accessible(page)
    shot(page, "after-check-now")


def test_the_mail_users_list_fits_1280_px(open_page, shot, admin_a, seeded):
    page = open_page(locale="ja")
    page.set_viewport_size(DESKTOP)
    admin_a.language = "ja"
    admin_a.save(update_fields=["language"])
    sign_in(page, admin_a.email)
    page.goto("/admin/locks/mailuser/")
    expect(page.locator("#result_list")).to_contain_text("person0@example.test")
    headers = page.locator("#result_list thead th").all_inner_texts()
    named = [h.strip() for h in headers if h.strip()]
    assert len(named) == len(set(named)), named  # one name per column
    options = page.locator("select[name=action] option").all_inner_texts()
    assert any("今すぐ診断" in o for o in options) and any("IMAP/POP3 をオフ" in o for o in options)
    overflow = page.evaluate("document.documentElement.scrollWidth")
    assert overflow <= DESKTOP["width"] + 1, overflow
    # Nor does the table scroll inside its own box: every column is in view.
    hidden = page.evaluate(
        "(() => { const r = document.querySelector('.results'); return r.scrollWidth - r.clientWidth; })()")
    assert hidden <= 1, f"{hidden}px of the table are out of view"
    shot(page, "mail-users-ja-1280")
