"""The Django admin shows runs read-only with their steps and advice, organization-scoped."""
import pytest

from diagnostics.models import DiagnosticRun

pytestmark = pytest.mark.django_db


@pytest.fixture
def runs(org1, org2, user_s, admin_x):
    acme = DiagnosticRun.objects.create(organization=org1, kind="port_check", status="failed", outcome="port_closed",
                                        target={"host": "imap.acme.test", "port": 993}, requested_by=user_s)
    acme.steps.create(position=1, name="dns", status="passed")
    acme.steps.create(position=2, name="port", status="failed", code="port_closed", message="The port is closed")
    globex = DiagnosticRun.objects.create(organization=org2, kind="port_check", status="passed", outcome="ok",
                                          target={"host": "imap.globex.test", "port": 993}, requested_by=admin_x)
    return acme, globex


def test_an_admin_sees_only_their_organizations_runs(client, admin_a, runs):
    acme, globex = runs
    client.force_login(admin_a)
    page = client.get("/admin/diagnostics/diagnosticrun/").content.decode()
    assert f"/admin/diagnostics/diagnosticrun/{acme.pk}/change/" in page
    assert f"/admin/diagnostics/diagnosticrun/{globex.pk}/change/" not in page
    assert client.get(f"/admin/diagnostics/diagnosticrun/{globex.pk}/change/").status_code == 302


def test_a_run_shows_its_steps_and_advice_and_cannot_be_changed(client, admin_a, runs):
    acme, _ = runs
    client.force_login(admin_a)
    page = client.get(f"/admin/diagnostics/diagnosticrun/{acme.pk}/change/").content.decode()
    # Steps read in the reader's language (not the English stored with the row); codes stay for support.
    assert "port_closed" in page and "The server refused the connection on this port" in page
    assert "Connection to the ports" in page  # the step's name, not "port"
    assert 'name="_save"' not in page
    assert client.post(f"/admin/diagnostics/diagnosticrun/{acme.pk}/delete/", {"post": "yes"}).status_code == 403
    assert DiagnosticRun.objects.filter(pk=acme.pk).exists()
    assert client.get("/admin/diagnostics/diagnosticrun/add/").status_code == 403


def test_a_locked_admin_cannot_open_their_own_accounts_runs_in_the_admin(client, admin_a, admin_b, org1):
    from django.contrib.messages import get_messages

    from locks.models import SettingsLock
    from tests.factories import account_create

    own = account_create(admin_b)
    run = DiagnosticRun.objects.create(organization=org1, account=own, kind="account", status="failed",
                                       outcome="auth_invalid_credentials")
    run.steps.create(position=1, name="login", status="failed", code="auth_invalid_credentials",
                     details={"host": "imap.example.com", "transcript": ["S: a1 NO [AUTHENTICATIONFAILED]"]})
    SettingsLock.objects.create(user=admin_b, organization=org1, locked_by=admin_a)
    client.force_login(admin_b)
    for url in (f"/admin/diagnostics/diagnosticrun/{run.pk}/change/",
                f"/admin/diagnostics/diagnosticrun/{run.pk}/history/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert ("You don't have permission to change these mail settings. Contact your organization's "
                "administrator.") in {str(m) for m in get_messages(response.wsgi_request)}
    listing = client.get("/admin/diagnostics/diagnosticrun/").content.decode()
    assert f"/admin/diagnostics/diagnosticrun/{run.pk}/change/" not in listing
    # Another admin of the organization still reads it: the lock is about the locked person's own settings.
    client.force_login(admin_a)
    assert client.get(f"/admin/diagnostics/diagnosticrun/{run.pk}/change/").status_code == 200
