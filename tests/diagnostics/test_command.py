"""`manage.py diagnose ADDRESS|ACCOUNT_ID [--inline] [--json]`."""
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

pytestmark = pytest.mark.usefixtures("loopback_diagnostics")


@pytest.mark.django_db
def test_inline_prints_each_step_then_the_advice_and_exits_0(user_s, make_account, capsys):
    make_account(user_s)
    call_command("diagnose", "Alice@Example.test", "--inline")
    out = capsys.readouterr().out
    assert "[ 1/10]" in out and "[10/10]" in out and "login" in out
    assert "passed (ok)" in out
    assert "Everything checked out" in out


@pytest.mark.django_db
def test_a_failing_account_exits_1_with_the_advice(user_s, make_account, capsys):
    account = make_account(user_s, incoming_password="wrong")
    with pytest.raises(SystemExit) as exc:
        call_command("diagnose", str(account.pk), "--inline")
    assert exc.value.code == 1
    out = capsys.readouterr().out
    assert "auth_invalid_credentials" in out and "[T2]" in out
    assert "wrong" not in out.replace("wrong_", "")


@pytest.mark.django_db
def test_json_prints_the_run_as_the_api_shows_it(user_s, make_account, capsys):
    make_account(user_s)
    call_command("diagnose", "alice@example.test", "--inline", "--json")
    body = json.loads(capsys.readouterr().out)
    assert body["status"] == "passed" and len(body["steps"]) == 10 and body["advice"][0]["code"] == "ok"


@pytest.mark.django_db
@pytest.mark.parametrize("target", ["nobody@example.test", "999999", "not an address"])
def test_an_unknown_or_malformed_target_exits_2(target):
    with pytest.raises(CommandError) as exc:
        call_command("diagnose", target, "--inline")
    assert exc.value.returncode == 2


@pytest.mark.django_db(transaction=True)
def test_by_default_the_run_goes_through_the_worker(celery_worker, user_s, make_account, capsys):
    from diagnostics.models import DiagnosticRun

    make_account(user_s)
    call_command("diagnose", "alice@example.test", "--wait", "60")
    out = capsys.readouterr().out
    assert "[10/10]" in out
    run = DiagnosticRun.objects.get()
    assert (run.trigger, run.status) == ("command", "passed")


@pytest.mark.django_db
def test_an_account_with_a_run_in_flight_is_followed_not_run_twice(user_s, make_account, capsys):
    from django.utils import timezone

    from diagnostics.models import DiagnosticRun

    account = make_account(user_s)
    in_flight = DiagnosticRun.objects.create(organization=account.organization, account=account, kind="account",
                                             status="running", started_at=timezone.now())
    with pytest.raises(CommandError) as exc:
        call_command("diagnose", "alice@example.test", "--inline", "--wait", "0.5")
    assert "did not finish" in str(exc.value)
    assert "already running" in capsys.readouterr().err
    in_flight.refresh_from_db()
    assert in_flight.status == "running" and in_flight.steps.count() == 0
    assert DiagnosticRun.objects.count() == 1
