"""A sentinel password goes in; it must never come out: not in a response, an audit row or a log line."""
from __future__ import annotations

import json
import logging

import pytest
from django.db import connection

from accounts.models import AuditEvent
from tests.factories import account_data
from tests.helpers import SENTINEL

pytestmark = pytest.mark.django_db

LIST = "/api/v1/mail-accounts/"
SECOND = "An0ther-Sentinel-Pa55"


def test_the_password_never_appears_in_responses_audit_rows_or_logs(api_as, user_s, admin_a, admin_x, caplog):
    caplog.set_level(logging.DEBUG)
    bodies: list[bytes] = []

    def keep(response):
        bodies.append(response.content)
        return response

    client, admin, outsider = api_as(user_s), api_as(admin_a), api_as(admin_x)
    created = keep(client.post(LIST, account_data(smtp_same_credentials=False, smtp_username="out",
                                                  smtp_password=SECOND), format="json"))
    assert created.status_code == 201
    url = f"{LIST}{created.json()['id']}/"
    keep(client.get(LIST))
    keep(admin.get(LIST))
    keep(client.get(url))
    keep(client.patch(url, {"incoming_host": "imap2.example.com", "incoming_password": SENTINEL}, format="json"))
    keep(client.patch(url, {"incoming_port": 0, "incoming_password": SENTINEL + "\n"}, format="json"))  # 400
    keep(client.post(f"{url}password/", {"password": SENTINEL, "apply_to": "both"}, format="json"))
    keep(client.post(f"{url}password/", {"password": SENTINEL, "apply_to": "sideways"}, format="json"))  # 400
    keep(admin.post(LIST, account_data(owner=admin_a.pk), format="json"))  # 409 with holder
    keep(outsider.post(LIST, account_data(), format="json"))  # 409
    keep(outsider.get(url))  # 404
    keep(client.delete(url))
    keep(client.post(f"{url}enable/"))
    keep(client.get(url))

    statuses = {json.loads(body).get("error", {}).get("code") for body in bodies}
    assert {"invalid", "address_in_use", "not_found"} <= statuses  # the error paths were really taken
    for body in bodies:
        assert SENTINEL.encode() not in body
        assert SECOND.encode() not in body
        assert b"password\":" not in body or b"\"error\"" in body  # no password field in any account body

    events = AuditEvent.objects.all()
    assert {e.action for e in events} >= {
        "mail_account.registered", "mail_account.updated", "mail_account.password_changed",
        "mail_account.disabled", "mail_account.enabled",
    }
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_auditevent")
        raw = " ".join(str(value) for row in cursor.fetchall() for value in row)
    assert SENTINEL not in raw and SECOND not in raw
    assert "incoming_password" in raw  # the field names are there, the values are not

    logged = "\n".join(f"{r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records)
    assert SENTINEL not in logged and SECOND not in logged
    assert caplog.records, "the 4xx answers are logged by django.request; the scan must have seen them"


def _error_report_of(call) -> str:
    """The text Django's error report (and AdminEmailHandler) would hold for the exception `call` raises."""
    import sys

    from django.views.debug import ExceptionReporter

    try:
        call()
    except Exception:  # noqa: BLE001 - any failure: its report is what is checked
        reporter = ExceptionReporter(None, *sys.exc_info())
        return json.dumps(reporter.get_traceback_data(), default=repr)
    raise AssertionError("the call was expected to fail")


def test_an_error_report_of_a_failing_service_shows_no_password(user_s, admin_a, settings):
    from accounts.services import user_set_password
    from locks.services import settings_lock_create
    from mailsettings.services import mail_account_password_change, mail_account_register
    from tests.factories import account_create

    settings.DEBUG = False  # reports filter variables only outside DEBUG, as in production
    account = account_create(user_s)
    reports = [
        # A password with a line break is refused deep inside the validation helpers.
        _error_report_of(lambda: mail_account_password_change(
            actor=user_s, account=account, password=SECOND + "\n", apply_to="both")),
        _error_report_of(lambda: mail_account_register(
            actor=user_s, owner=user_s, data=account_data("other@example.com", incoming_password=SECOND))),
    ]
    settings_lock_create(actor=admin_a, user=user_s)
    reports.append(_error_report_of(lambda: user_set_password(actor=user_s, user=admin_a, password=SECOND)))
    for report in reports:
        assert "frames" in report
        assert SECOND not in report
