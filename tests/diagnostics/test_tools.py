"""The self-service tools: port check and domain details, as runs."""
import pytest

from diagnostics import walk
from diagnostics.models import DiagnosticRun

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("loopback_diagnostics")]


def execute(run_id):
    walk.run_execute(run_id=run_id)
    return DiagnosticRun.objects.get(pk=run_id)


def test_the_port_check_reports_an_open_mail_port(api_as, user_s, dovecot, settings):
    settings.DIAGNOSTICS_EXTRA_PORTS = [dovecot.imaps_port]
    response = api_as(user_s).post("/api/v1/tools/port-check/", {"host": "localhost", "port": dovecot.imaps_port},
                                   format="json")
    assert response.status_code == 202
    run = execute(response.json()["id"])
    assert run.status == "passed"
    assert [s.name for s in run.steps.all()] == ["dns", "port"]


def test_the_port_check_refuses_ports_that_are_not_mail_ports(api_as, user_s):
    response = api_as(user_s).post("/api/v1/tools/port-check/", {"host": "localhost", "port": 22}, format="json")
    assert response.status_code == 400
    body = response.json()["error"]
    assert body["code"] == "invalid" and "port" in body["fields"]
    assert "993" in body["fields"]["port"][0]


def test_the_port_check_refuses_a_host_with_a_scheme(api_as, user_s):
    response = api_as(user_s).post("/api/v1/tools/port-check/", {"host": "imaps://x.test", "port": 993},
                                   format="json")
    assert response.status_code == 400 and "host" in response.json()["error"]["fields"]


def test_a_closed_mail_port_is_port_closed(api_as, user_s):
    # Nothing listens on loopback's port 995 here (the test servers use high ports).
    response = api_as(user_s).post("/api/v1/tools/port-check/", {"host": "127.0.0.1", "port": 995}, format="json")
    run = execute(response.json()["id"])
    assert (run.status, run.outcome) == ("failed", "port_closed")


def test_a_black_holed_port_is_port_filtered_within_the_connect_timeout(api_as, user_s, black_hole, settings):
    import time

    settings.DIAGNOSTICS_EXTRA_PORTS = [black_hole.port]
    settings.DIAGNOSTICS_CONNECT_TIMEOUT = 1.0
    response = api_as(user_s).post("/api/v1/tools/port-check/", {"host": "127.0.0.1", "port": black_hole.port},
                                   format="json")
    started = time.monotonic()
    run = execute(response.json()["id"])
    assert time.monotonic() - started < 1.0 + 1.0
    assert run.outcome == "port_filtered"


def test_domain_details_name_the_provider_behind_a_custom_domain(api_as, user_s):
    response = api_as(user_s).post("/api/v1/tools/domain-details/", {"domain": "gmail-hosted.test"}, format="json")
    assert response.status_code == 202
    run = execute(response.json()["id"])
    domain = run.steps.get(name="domain")
    assert domain.details["provider"]["id"] == "google_workspace"
    assert domain.details["incoming"]["host"] == "imap.gmail.com"
    # The provider's public servers are not reached from here: DNS is the local test server, which does not know
    # them, so the dns step fails and the port step is skipped. Nothing leaves loopback.
    assert run.steps.get(name="dns").status == "failed"
    assert run.steps.get(name="port").status == "skipped"


def test_the_tools_are_scoped_to_who_ran_them(api_as, user_s, admin_x):
    response = api_as(user_s).post("/api/v1/tools/domain-details/", {"domain": "example.test"}, format="json")
    run_id = response.json()["id"]
    assert api_as(user_s).get(f"/api/v1/diagnostics/{run_id}/").status_code == 200
    assert api_as(admin_x).get(f"/api/v1/diagnostics/{run_id}/").status_code == 404


def test_a_refused_targets_dns_step_says_private_or_reserved_and_names_no_address(api_as, user_s, settings):
    import json

    settings.DIAGNOSTICS_ALLOWED_NETWORKS = []  # loopback is refused, as in production
    client = api_as(user_s)
    response = client.post("/api/v1/tools/port-check/", {"host": "localhost", "port": 993}, format="json")
    run = execute(response.json()["id"])
    assert run.outcome == "target_not_allowed"
    body = client.get(f"/api/v1/diagnostics/{run.pk}/").json()
    dns = next(step for step in body["steps"] if step["name"] == "dns")
    assert "private or reserved" in dns["message"]
    shown = json.dumps(body)
    assert "127.0.0.1" not in shown and "::1" not in shown
