"""The admin's "Mail health" page, its "Check now" and its CSV export, through Django's test client."""
import csv
import datetime
import io
import re

import pytest
from django.utils import timezone

from diagnostics.health.models import StatusSnapshot
from diagnostics.health.selectors import EXPORT_COLUMNS
from diagnostics.models import DiagnosticRun
from mailsettings.models import AccountStatus
from tests.diagnostics.health_helpers import finish_check, make_account

pytestmark = pytest.mark.django_db
PAGE = "/admin/diagnostics/mailhealth/"
EXPORT = "/admin/diagnostics/mailhealth/export.csv"
DAY = datetime.timedelta(days=1)


@pytest.fixture
def acme(org1, admin_a, user_s, admin_b):
    """S: working, then failing (wrong password) for two days; B: failing (port closed) since an hour; A: pending."""
    from accounts.models import User

    now = timezone.now()
    s = make_account(user_s, "s@example.test")
    finish_check(s, "ok", at=now - 3 * DAY)
    finish_check(s, "auth_invalid_credentials", at=now - 2 * DAY)
    finish_check(s, "auth_invalid_credentials", at=now - DAY)
    b = make_account(admin_b, "b@example.test")
    finish_check(b, "port_closed", at=now - datetime.timedelta(hours=1))
    make_account(admin_a, "a@example.test")
    carol = User.objects.create_user("carol@acme.test", "x", organization=org1, role="standard")
    c = make_account(carol, "c@example.test")
    finish_check(c, "ok", at=now - DAY)
    return {"s": s, "b": b, "c": c}


@pytest.fixture
def globex(admin_x):
    x = make_account(admin_x, "x@globex.test")
    finish_check(x, "dns_not_found", at=timezone.now() - 5 * DAY)
    return x


def section(page: str, title: str) -> str:
    start = page.index(f">{title}<")
    return page[start:page.index("</section>", start)]


def test_the_page_is_in_the_sidebar_for_admins_and_refused_to_standard_users(client, admin_a, user_s):
    client.force_login(admin_a)
    assert PAGE in client.get("/admin/").content.decode()
    assert client.get(PAGE).status_code == 200
    client.force_login(user_s)
    assert client.get(PAGE).status_code == 302  # to the admin's sign-in: not staff


def test_counts_cover_every_status_of_the_choices_and_link_to_the_filtered_list(client, admin_a, acme, globex):
    client.force_login(admin_a)
    page = client.get(PAGE).content.decode()
    counts = section(page, "Accounts by status")
    for value, label in AccountStatus.choices:  # driven by the choices: a status added later shows up too
        assert str(label) in counts
        assert f"status__exact={value}" in counts
    found = re.findall(r'health-count-number">(\d+)</span> <span class="health-count-label">([^<]+)<', counts)
    assert {label: int(n) for n, label in found} == {
        "Not checked yet": 1, "Connected": 1, "Sign-in failed": 1, "Cannot connect": 1, "Sign in again": 0,
        "Password needed for the new server": 0, "Turned off": 0}
    response = client.get(re.search(r'href="([^"]*status__exact=auth_failed[^"]*)"', counts).group(1)
                          .replace("&amp;", "&"))
    assert "s@example.test" in response.content.decode() and "b@example.test" not in response.content.decode()


def test_failing_accounts_are_listed_longest_failing_first_with_the_advice_title(client, admin_a, acme, globex):
    client.force_login(admin_a)
    failing = section(client.get(PAGE).content.decode(), "Failing accounts")
    assert failing.index("s@example.test") < failing.index("b@example.test")
    assert "The user name or password was not accepted" in failing and "auth_invalid_credentials" in failing
    assert "The server refused the connection on this port" in failing
    since = (acme["s"].health.since).astimezone(timezone.get_current_timezone()).strftime("%Y-%m-%d %H:%M")
    assert since in failing  # the first failure of the streak, not the latest check
    assert "c@example.test" not in failing and "a@example.test" not in failing
    assert "x@globex.test" not in failing  # another organization


def test_an_operator_sees_every_organization_and_can_filter_by_one(client, operator, acme, globex, org2):
    client.force_login(operator)
    page = client.get(PAGE).content.decode()
    assert "x@globex.test" in section(page, "Failing accounts") and "s@example.test" in page
    page = client.get(PAGE, {"organization": org2.pk}).content.decode()
    failing = section(page, "Failing accounts")
    assert "x@globex.test" in failing and "s@example.test" not in failing
    assert f"organization__exact={org2.pk}" in section(page, "Accounts by status")
    assert client.get(PAGE, {"organization": 999999}).status_code == 302  # unknown: back to the page


def test_an_admin_cannot_look_at_another_organization(client, admin_x, acme, globex, org1):
    client.force_login(admin_x)
    page = client.get(PAGE, {"organization": org1.pk}).content.decode()
    assert "s@example.test" not in page and "x@globex.test" in page
    assert 'id="health-organization"' not in page  # no organization filter for admins


def test_top_outcomes_count_accounts_not_checks(client, admin_a, acme, user_s):
    client.force_login(admin_a)
    top = section(client.get(PAGE).content.decode(), "Top problems of the last 7 days")
    rows = re.findall(r'<tr><td><a href="[^"]*">([^<]+)</a> <code class="code-secondary">([a-z_]+)</code></td>'
                      r'<td class="numeric">(\d+)</td></tr>', top)
    # S failed on two days (two rows of the day), B once: one account each.
    assert [(code, int(n)) for _title, code, n in rows] == [("auth_invalid_credentials", 1), ("port_closed", 1)]


def test_the_trend_shows_past_days_from_snapshots_and_today_live(client, admin_a, acme, org1):
    today = timezone.localdate()
    StatusSnapshot.objects.create(date=today - 2 * DAY, organization=org1, status="connected", accounts=7)
    StatusSnapshot.objects.create(date=today - 2 * DAY, organization=org1, status="auth_failed", accounts=3)
    StatusSnapshot.objects.create(date=today, organization=org1, status="connected", accounts=99)  # live wins today
    client.force_login(admin_a)
    trend = section(client.get(PAGE).content.decode(), "Accounts by status, last 30 days")
    assert "<svg" in trend and trend.count("<rect") >= 3
    numbers = trend[trend.index("<tbody>"):]
    rows = re.findall(r'<tr><th scope="row">([0-9-]+)</th>(.*?)</tr>', numbers)
    assert len(rows) == 30
    by_day = {day: re.findall(r'<td class="numeric">([^<]+)</td>', cells) for day, cells in rows}
    assert by_day[(today - 2 * DAY).isoformat()][:3] == ["7", "3", "0"]  # connected, sign-in failed, cannot connect
    assert by_day[(today - 3 * DAY).isoformat()][0] == "—"  # no snapshot that day
    assert by_day[today.isoformat()][:3] == ["1", "1", "1"]


def test_check_now_starts_a_run_of_the_account(client, admin_a, acme, django_capture_on_commit_callbacks):
    client.force_login(admin_a)
    before = DiagnosticRun.objects.filter(account=acme["b"]).count()
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(f"{PAGE}check/{acme['b'].pk}/", follow=True)
    assert DiagnosticRun.objects.filter(account=acme["b"]).count() == before + 1
    run = DiagnosticRun.objects.filter(account=acme["b"]).latest("id")
    assert run.status == "queued" and run.requested_by == admin_a and run.trigger == "user"
    assert "Checking b@example.test now" in response.content.decode()


def test_check_now_never_reaches_another_organizations_account(client, admin_x, acme):
    client.force_login(admin_x)
    response = client.post(f"{PAGE}check/{acme['b'].pk}/", follow=True)
    assert not DiagnosticRun.objects.filter(account=acme["b"], trigger="user").exists()
    assert "Nothing was found here" in response.content.decode()
    assert client.get(f"{PAGE}check/{acme['b'].pk}/").status_code == 405


def read_csv(response) -> list[dict]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_the_csv_export_lists_the_organizations_accounts_with_no_secret(client, admin_a, acme, globex):
    client.force_login(admin_a)
    response = client.get(EXPORT)
    assert response["Content-Type"].startswith("text/csv")
    rows = read_csv(response)
    assert [r["address"] for r in rows] == ["a@example.test", "b@example.test", "c@example.test", "s@example.test"]
    s = rows[-1]
    assert s["status"] == "auth_failed" and s["outcome"] == "auth_invalid_credentials"
    assert s["outcome_label"] == "The user name or password was not accepted" and s["failing_since"]
    assert rows[2]["failing_since"] == "" and rows[2]["status_label"] == "Connected"
    body = b"".join(client.get(EXPORT).streaming_content).decode()
    assert "not-the-real-one" not in body  # the stored password, in clear or encrypted, is never selected
    assert body.lstrip("\ufeff").splitlines()[0].split(",") == list(EXPORT_COLUMNS)


def test_the_csv_export_applies_the_status_filter_and_the_operators_organization(client, operator, acme, globex,
                                                                                  org2):
    client.force_login(operator)
    assert [r["address"] for r in read_csv(client.get(EXPORT, {"status": "auth_failed"}))] == ["s@example.test"]
    rows = read_csv(client.get(EXPORT, {"organization": org2.pk}))
    assert [(r["organization"], r["address"]) for r in rows] == [("Globex", "x@globex.test")]


def test_the_page_makes_the_same_few_queries_whatever_the_number_of_accounts(client, admin_a, acme,
                                                                             django_assert_max_num_queries, org1):
    from accounts.models import User

    client.force_login(admin_a)
    client.get(PAGE)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(PAGE)
    for i in range(30):
        owner = User.objects.create_user(f"bulk{i}@acme.test", "x", organization=org1, role="standard")
        finish_check(make_account(owner, f"bulk{i}@example.test"), "auth_invalid_credentials")
    with CaptureQueriesContext(connection) as many:
        client.get(PAGE)
    assert len(many) == len(few) <= 12, [q["sql"][:120] for q in many.captured_queries]


def test_the_page_speaks_japanese(client, admin_a, acme):
    admin_a.language = "ja"
    admin_a.save(update_fields=["language"])
    client.force_login(admin_a)
    page = client.get(PAGE).content.decode()
    assert "メールの状態" in page and "失敗しているアカウント" in page
    assert "ユーザー名またはパスワードが受け付けられませんでした" in page or "auth_invalid_credentials" in page
