"""The live steps of a run page in Chromium: a screen reader hears each update through the page's one persistent
status region (the swapped part has none), and the poller stops and reloads when it is sent elsewhere."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("loopback_browser_flows")]


def _queued_port_check(user, port):
    from diagnostics.models import DiagnosticRun

    return DiagnosticRun.objects.create(organization=user.organization, kind="port_check", requested_by=user,
                                        target={"host": "localhost", "port": port})


def test_each_update_is_announced_by_the_persistent_status_region(open_page, shot, user_s, dovecot):
    from diagnostics import walk

    run = _queued_port_check(user_s, dovecot.imaps_port)
    page = open_page()
    sign_in(page, user_s.email)
    page.goto(f"/tools/runs/{run.pk}/")
    announcer = page.locator("#run-announcer")
    expect(announcer).to_have_attribute("role", "status")
    expect(announcer).to_have_attribute("aria-live", "polite")
    expect(announcer).to_have_attribute("aria-atomic", "true")
    expect(announcer).to_be_empty()
    expect(page.locator("#run-progress")).not_to_have_attribute("aria-busy", "true")
    expect(page.locator("#run-progress [role=status]")).to_have_count(0)

    walk.run_execute(run_id=run.pk)
    expect(announcer).to_contain_text("The check has finished.")
    expect(announcer).to_contain_text("Connection to the ports — Passed")
    expect(announcer).to_contain_text("Everything checked out")
    expect(page.locator("#run-announcer")).to_have_count(1)  # the same element, never swapped
    shot(page, "finished")


def test_the_poller_stops_and_reloads_when_the_session_ended(open_page, user_s, dovecot):
    run = _queued_port_check(user_s, dovecot.imaps_port)
    page = open_page()
    sign_in(page, user_s.email)
    page.goto(f"/tools/runs/{run.pk}/")
    page.context.clear_cookies()  # signed out elsewhere: the fragment now redirects to the sign-in page
    page.wait_for_url(re.compile(rf"/accounts/login/\?next=/tools/runs/{run.pk}/$"))
    expect(page.locator("#id_email")).to_be_visible()
