"""GET /api/v1/address-availability/ and GET /api/v1/providers/detect/ (DNS from a server on 127.0.0.1)."""
from __future__ import annotations

import pytest

from locks.models import SettingsLock
from mailsettings.discovery import network_answer_forget
from tests.factories import account_create
from tests.servers.dns_server import running_dns_server

pytestmark = pytest.mark.django_db

AVAILABILITY = "/api/v1/address-availability/"
DETECT = "/api/v1/providers/detect/"

ZONE = {
    "acme-workspace.example": {"MX": ["1 aspmx.l.google.com.", "5 alt1.aspmx.l.google.com."]},
    "globex-m365.example": {"MX": ["0 globex-m365-example.mail.protection.outlook.com."]},
    "small-isp.example": {"MX": ["10 mx1.small-isp.example."]},
    "nomx.example": {"A": ["192.0.2.1"]},
}


@pytest.fixture
def dns(settings):
    for domain in [*ZONE, "broken.example", "slow.example", "missing.example"]:
        network_answer_forget(domain)  # the cache may be a shared Redis
    with running_dns_server(ZONE, servfail={"broken.example"}, drop={"slow.example"}) as server:
        settings.DNS_NAMESERVERS = [f"127.0.0.1:{server.port}"]
        settings.DNS_TIMEOUT = 0.5
        settings.DISCOVERY_DEADLINE = 2.0
        yield server


def mx_queries(server) -> list[tuple]:
    return [q for q in server.queries if q[1] == "MX"]


# --- availability --------------------------------------------------------------------------------------------


def test_a_free_address_is_available_in_its_normalized_form(api_as, user_s):
    response = api_as(user_s).get(AVAILABILITY, {"address": "  Alice@Example.COM "})
    assert response.status_code == 200
    assert response.json() == {"address": "alice@example.com", "available": True, "code": None}


@pytest.mark.parametrize("persona", ["user_s", "admin_a", "admin_x"])
def test_a_bound_address_is_unavailable_to_everyone_and_names_nobody(api_as, request, admin_b, persona):
    account_create(admin_b)
    response = api_as(request.getfixturevalue(persona)).get(AVAILABILITY, {"address": "ALICE@example.com"})
    assert response.json() == {"address": "alice@example.com", "available": False, "code": "address_in_use"}


def test_a_turned_off_binding_leaves_the_address_available(api_as, user_s):
    from mailsettings.services import mail_account_disable

    account = account_create(user_s)
    mail_account_disable(actor=user_s, account=account)
    assert api_as(user_s).get(AVAILABILITY, {"address": "alice@example.com"}).json()["available"] is True


@pytest.mark.parametrize("address", ["", "no-at-sign", "two@@example.com"])
def test_a_bad_address_is_400_invalid(api_as, user_s, address):
    response = api_as(user_s).get(AVAILABILITY, {"address": address})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert "address" in response.json()["error"]["fields"]


def test_the_tools_need_a_signed_in_caller(api):
    assert api.get(AVAILABILITY, {"address": "a@example.com"}).status_code == 401
    assert api.get(DETECT, {"address": "a@gmail.com"}).status_code == 401


def test_a_locked_standard_user_is_refused_the_tools(api_as, user_s, admin_a):
    SettingsLock.objects.create(user=user_s, organization=user_s.organization, locked_by=admin_a)
    for url in (AVAILABILITY, DETECT):
        response = api_as(user_s).get(url, {"address": "a@gmail.com"})
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "settings_locked"


# --- provider detection --------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["user_s", "admin_a", "admin_x"])
def test_a_well_known_domain_is_a_preset_without_dns(api_as, request, dns, persona):
    response = api_as(request.getfixturevalue(persona)).get(DETECT, {"address": "bob@Gmail.com"})
    assert response.status_code == 200
    body = response.json()
    assert body["domain"] == "gmail.com"
    assert body["provider"] == {"id": "gmail", "name": "Gmail"}
    assert body["source"] == "overlay" and body["complete"] is True
    assert body["incoming"] == {"protocol": "imap", "host": "imap.gmail.com", "port": 993, "security": "ssl",
                                "username": "bob@gmail.com"}
    assert body["outgoing"] == {"host": "smtp.gmail.com", "port": 587, "security": "starttls",
                                "username": "bob@gmail.com"}
    codes = [note["code"] for note in body["notes"]]
    assert "app_password_with_2fa" in codes and "saves_sent_mail" in codes
    assert all(isinstance(note["message"], str) and note["message"] for note in body["notes"])
    assert dns.queries == []


def test_a_custom_domain_on_google_workspace_is_found_by_its_mx(api_as, user_s, dns):
    body = api_as(user_s).get(DETECT, {"address": "ceo@acme-workspace.example"}).json()
    assert body["provider"]["id"] == "google_workspace"
    assert body["source"] == "mx"
    assert body["mx"] == ["aspmx.l.google.com", "alt1.aspmx.l.google.com"]
    assert mx_queries(dns) == [("acme-workspace.example", "MX", "udp")]


def test_a_custom_domain_on_microsoft_365_is_found_by_its_mx(api_as, user_s, dns):
    body = api_as(user_s).get(DETECT, {"address": "cfo@globex-m365.example"}).json()
    assert body["provider"]["id"] == "microsoft_365"
    assert body["source"] == "mx"


def test_an_unknown_provider_is_a_guess_marked_as_such(api_as, user_s, dns):
    body = api_as(user_s).get(DETECT, {"address": "me@small-isp.example", "protocol": "pop3"}).json()
    assert body["provider"] is None
    assert body["source"] == "guess"
    assert body["incoming"]["host"] == "pop.small-isp.example"
    assert body["incoming"]["protocol"] == "pop3"
    assert body["outgoing"]["host"] == "smtp.small-isp.example"
    assert "guessed_settings" in [note["code"] for note in body["notes"]]


@pytest.mark.parametrize("domain", ["broken.example", "slow.example", "missing.example", "nomx.example"])
def test_dns_trouble_is_an_answer_with_a_note_not_a_500(api_as, user_s, dns, domain):
    response = api_as(user_s).get(DETECT, {"address": f"me@{domain}"})
    assert response.status_code == 200
    body = response.json()
    assert body["source"] == "guess"
    assert "dns_failed" in [note["code"] for note in body["notes"]]


def test_detection_answers_are_cached(api_as, user_s, dns):
    client = api_as(user_s)
    client.get(DETECT, {"address": "a@acme-workspace.example"})
    asked = len(dns.queries)
    client.get(DETECT, {"address": "b@acme-workspace.example"})
    assert len(dns.queries) == asked and mx_queries(dns) == [("acme-workspace.example", "MX", "udp")]


def test_the_local_mode_answers_at_once_without_the_network_and_says_whether_more_may_come(api_as, user_s, dns):
    client = api_as(user_s)
    body = client.get(DETECT, {"address": "me@small-isp.example", "mode": "local"}).json()
    assert body["source"] == "guess" and body["complete"] is False
    assert dns.queries == []
    body = client.get(DETECT, {"address": "me@ocn.ne.jp", "mode": "local"}).json()
    assert body["source"] == "ispdb" and body["complete"] is True
    assert body["candidates"][0]["evidence"] == [{"kind": "ispdb", "file": "ocn.ne.jp.xml", "domain": "ocn.ne.jp"}]
    assert client.get(DETECT, {"address": "me@ocn.ne.jp", "mode": "later"}).status_code == 400


def test_oauth2_only_answers_are_marked(api_as, user_s, dns):
    body = api_as(user_s).get(DETECT, {"address": "me@office365.com", "mode": "local"}).json()
    assert body["oauth2_only"] is True
    assert body["candidates"][0]["oauth2_only"] is True


def test_a_bad_address_or_protocol_is_400(api_as, user_s, dns):
    client = api_as(user_s)
    assert client.get(DETECT, {"address": "nope"}).status_code == 400
    assert client.get(DETECT).status_code == 400
    response = client.get(DETECT, {"address": "a@gmail.com", "protocol": "smtp"})
    assert response.status_code == 400
    assert "protocol" in response.json()["error"]["fields"]
    assert dns.queries == []


@pytest.mark.django_db
def test_lookups_are_rate_limited_per_user(api_as, user_s, throttle_rates):
    throttle_rates(lookups="2/hour")
    client = api_as(user_s)
    codes = [client.get("/api/v1/address-availability/", {"address": f"a{n}@example.test"}).status_code
             for n in range(3)]
    assert codes == [200, 200, 429]
    assert client.get("/api/v1/address-availability/", {"address": "b@example.test"}).json()["error"]["code"] == (
        "throttled")
