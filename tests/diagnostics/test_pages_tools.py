"""/tools/port-check/ and /tools/domain-details/: forms that start the tool runs and show the same live steps."""
import re

import pytest

from diagnostics import walk
from diagnostics.models import DiagnosticRun
from tests.helpers import PageClient, signed_in

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("loopback_diagnostics")]


@pytest.fixture
def pages_s(user_s):
    """User S's pages."""
    return signed_in(user_s, client_class=PageClient)


def test_the_port_check_form_has_labelled_fields(pages_s):
    html = pages_s.get("/tools/port-check/").content.decode()
    assert 'for="id_host"' in html and 'for="id_port"' in html and 'aria-current="page"' in html


def test_a_port_that_is_not_a_mail_port_is_refused_next_to_the_port(pages_s):
    response = pages_s.post("/tools/port-check/", {"host": "localhost", "port": "22"})
    html = response.content.decode()
    assert response.status_code == 400
    assert 'id="id_port_error"' in html and "Only mail ports can be checked" in html
    assert not DiagnosticRun.objects.exists()


def test_a_port_check_runs_and_shows_its_steps(pages_s, dovecot, settings):
    settings.DIAGNOSTICS_EXTRA_PORTS = [dovecot.imaps_port]
    response = pages_s.post("/tools/port-check/", {"host": "localhost", "port": str(dovecot.imaps_port)})
    run = DiagnosticRun.objects.get()
    assert response["Location"] == f"/tools/runs/{run.pk}/"
    waiting = pages_s.get(response["Location"]).content.decode()
    assert 'http-equiv="refresh"' in waiting and f"localhost:{dovecot.imaps_port}" in waiting
    walk.run_execute(run_id=run.pk)
    done = pages_s.get(response["Location"]).content.decode()
    assert "The ports accept connections." in done and "Everything checked out" in done
    assert 'http-equiv="refresh"' not in done


def test_a_blank_domain_is_a_sentence_next_to_the_field(pages_s):
    response = pages_s.post("/tools/domain-details/", {"domain": ""})
    html = response.content.decode()
    error = re.search(r'<ul class="errorlist" id="id_domain_error">(.*?)</ul>', html, re.S)
    assert response.status_code == 400 and error and "This field is required." in error.group(1)
    assert 'aria-describedby="id_domain_helptext id_domain_error"' in html
    assert not DiagnosticRun.objects.exists()


def test_domain_details_show_the_provider_and_its_servers(pages_s):
    response = pages_s.post("/tools/domain-details/", {"domain": "someone@gmail-hosted.test"})
    run = DiagnosticRun.objects.get()
    assert response["Location"] == f"/tools/runs/{run.pk}/"
    walk.run_execute(run_id=run.pk)
    html = pages_s.get(f"/tools/runs/{run.pk}/steps/").content.decode()
    assert "Google Workspace" in html and "aspmx.l.google.com" in html
    assert "imap.gmail.com:993 (IMAP, SSL/TLS)" in html and "smtp.gmail.com:587 (STARTTLS)" in html
    assert 'data-finished="true"' in html


def test_another_users_tool_run_is_not_found(pages_s, admin_x):
    run = DiagnosticRun.objects.create(organization=admin_x.organization, kind="port_check", requested_by=admin_x,
                                       target={"host": "secret.globex.test", "port": 993})
    response = pages_s.get(f"/tools/runs/{run.pk}/")
    assert response.status_code == 404 and b"secret.globex.test" not in response.content


def test_the_tools_share_the_apis_rate_limit(pages_s, user_s, api_as, throttle_rates):
    throttle_rates(tools="1/hour")
    assert api_as(user_s).post("/api/v1/tools/domain-details/", {"domain": "example.test"}).status_code == 202
    response = pages_s.post("/tools/domain-details/", {"domain": "example.test"})
    html = response.content.decode()
    assert response.status_code == 429 and "Too many attempts. Wait a few minutes and try again." in html
    assert 'id="id_domain"' in html  # the form stays, with the sentence above it
    assert DiagnosticRun.objects.count() == 1  # the API's run only


@pytest.mark.parametrize(("path", "data"), [("/tools/port-check/", {"host": "localhost", "port": "993"}),
                                            ("/tools/domain-details/", {"domain": "example.test"})])
def test_an_operator_on_the_tools_reads_that_they_run_for_an_organization(operator, path, data):
    client = signed_in(operator, client_class=PageClient)
    assert client.get(path).status_code == 200
    response = client.post(path, data)
    assert response.status_code == 403
    assert "The tools run on behalf of an organization; sign in as one of its users." in response.content.decode()
    assert not DiagnosticRun.objects.exists()


def test_the_port_help_lists_the_ports_that_can_be_checked_now(pages_s, settings):
    settings.DIAGNOSTICS_EXTRA_PORTS = [2525]
    html = pages_s.get("/tools/port-check/").content.decode()
    assert "A mail port: 25, 110, 143, 465, 587, 993, 995, 2525." in html
    settings.DIAGNOSTICS_EXTRA_PORTS = list(range(1024, 65536))
    assert "A mail port: 25, 110, 143, 465, 587, 993, 995, 1024–65535." in pages_s.get("/tools/port-check/"
                                                                                          ).content.decode()
