"""Provider detection: our table by domain (no network), MX through the registered discoverer against a real DNS
server of our own on 127.0.0.1 (never the machine's resolver), the guess with its notes, and what diagnostics reuses.
"""

import json
import time

import pytest
from django.core.serializers.json import DjangoJSONEncoder

from mailsettings.addresses import AddressError
from mailsettings.discovery import detect, network_answer_forget
from mailsettings.providers import get_provider, mismatched_hosts, provider_for_domain, provider_saves_sent_mail
from tests.servers.dns_server import running_dns_server

ZONE = {
    "acme-workspace.example": {"MX": ["1 smtp.google.com."]},
    "acme-legacy-google.example": {
        "MX": ["1 aspmx.l.google.com.", "5 alt1.aspmx.l.google.com.", "10 aspmx2.googlemail.com."]
    },
    "globex-m365.example": {"MX": ["0 globex-m365-example.mail.protection.outlook.com."]},
    "initech.example": {"MX": ["10 mx1.initech-hosting.example.", "20 mx2.initech-hosting.example."]},
    "gateway-first.example": {"MX": ["5 mx.filter.example.", "10 gateway-first-example.mail.protection.outlook.com."]},
    "nomx.example": {"A": ["192.0.2.1"]},
    "nullmx.example": {"MX": ["0 ."]},
    "zoho-eu.example": {"MX": ["10 mx.zoho.eu.", "20 mx2.zoho.eu."]},
    "xn--r8jz45g.jp": {"MX": ["10 mail.xn--r8jz45g.jp."]},
}
DOMAINS = [*ZONE, "nowhere.example", "servfail.example", "slow.example", "gmail.com", "icloud.com"]


@pytest.fixture(autouse=True)
def _fresh_cache():
    # The cache may be a shared Redis: forget only this module's domains, before and after.
    for domain in DOMAINS:
        network_answer_forget(domain)
    yield
    for domain in DOMAINS:
        network_answer_forget(domain)


@pytest.fixture
def dns_server(settings):
    with running_dns_server(ZONE, servfail={"servfail.example"}, drop={"slow.example"}) as server:
        settings.DNS_NAMESERVERS = [f"127.0.0.1:{server.port}"]
        settings.DNS_TIMEOUT = 0.5
        settings.DISCOVERY_DEADLINE = 3.0
        yield server


@pytest.fixture
def silent_dns(settings):
    # A DNS server that reads every query and answers none.
    with running_dns_server({}, silent=True) as server:
        settings.DNS_NAMESERVERS = [f"127.0.0.1:{server.port}"]
        settings.DNS_TIMEOUT = 0.5
        settings.DISCOVERY_DEADLINE = 1.0
        yield server


def codes(detection) -> list[str]:
    return [note.code for note in detection.notes]


def mx_queries(server) -> list[tuple]:
    return [q for q in server.queries if q[1] == "MX"]


# --- matched by the address's domain ---------------------------------------------------------------------


def test_it_matches_gmail_by_domain_without_asking_dns(silent_dns):
    detection = detect("Someone@GMail.com")

    assert silent_dns.queries == []
    body = detection.to_dict()
    assert body["domain"] == "gmail.com"
    assert body["provider"] == {"id": "gmail", "name": "Gmail"}
    assert body["source"] == "overlay"
    assert body["mx"] == []
    assert body["incoming"] == {"protocol": "imap", "host": "imap.gmail.com", "port": 993, "security": "ssl",
                                "username": "someone@gmail.com"}
    assert body["outgoing"] == {"host": "smtp.gmail.com", "port": 587, "security": "starttls",
                                "username": "someone@gmail.com"}
    # The bundled ISPDB knows Gmail too: its entry follows ours as an alternative.
    assert [c["source"] for c in body["candidates"]][:2] == ["overlay", "overlay"]
    assert "ispdb" in [c["source"] for c in body["candidates"]]


def test_it_tells_gmail_users_about_app_passwords_and_sent_mail(silent_dns):
    detection = detect("someone@gmail.com")

    assert codes(detection) == ["app_password_with_2fa", "saves_sent_mail"]
    messages = {note["code"]: str(note["message"]) for note in detection.to_dict()["notes"]}
    assert "two-step verification" in messages["app_password_with_2fa"]
    assert "Gmail" in messages["saves_sent_mail"]
    assert "twice" in messages["saves_sent_mail"]


def test_it_gives_pop3_settings_to_a_pop3_user(silent_dns):
    detection = detect("someone@gmail.com", protocol="pop3")

    assert detection.incoming == {"protocol": "pop3", "host": "pop.gmail.com", "port": 995, "security": "ssl",
                                  "username": "someone@gmail.com"}
    assert "enable_access" in codes(detection)  # Gmail's POP is off until switched on


def test_it_falls_back_to_imap_with_a_note_when_the_provider_has_no_pop3(silent_dns):
    detection = detect("someone@icloud.com", protocol="pop3")

    assert detection.incoming["protocol"] == "imap"
    assert detection.incoming["host"] == "imap.mail.me.com"
    assert codes(detection)[0] == "pop3_unavailable"
    assert "app_password_required" in codes(detection)
    assert "saves_sent_mail" not in codes(detection)  # not claimed for iCloud: reports disagree


@pytest.mark.parametrize(
    ("address", "provider_id", "note_codes"),
    [
        ("a@hotmail.co.jp", "outlook_com", ["oauth_required", "saves_sent_mail"]),
        ("a@yahoo.com", "yahoo", ["app_password_required"]),
        ("a@yahoo.co.jp", "yahoo_japan", ["enable_access"]),
        ("a@aol.com", "aol", ["app_password_required"]),
        ("a@gmx.de", "gmx_net", ["enable_access"]),
        ("a@gmx.com", "gmx_com", []),
        ("a@yandex.ru", "yandex", ["app_password_required", "enable_access"]),
        ("a@fastmail.com", "fastmail", ["app_password_required"]),
        ("a@mail.ru", "mail_ru", ["app_password_required"]),
        ("a@docomo.ne.jp", "docomo", ["enable_access"]),
        ("a@zoho.com", "zoho", ["app_password_with_2fa", "enable_access", "saves_sent_mail"]),
        ("a@proton.me", "proton_bridge", ["bridge_required", "saves_sent_mail"]),
    ],
)
def test_it_matches_well_known_domains_with_their_notes(address, provider_id, note_codes, silent_dns):
    detection = detect(address)

    assert detection.source == "overlay"
    assert detection.provider.id == provider_id
    assert codes(detection) == note_codes
    assert silent_dns.queries == []


def test_a_domain_the_ispdb_lists_for_one_of_our_providers_gets_our_knowledge(silent_dns):
    # hotmail.com.br is not in our table, but the ISPDB lists it in the file of Outlook.com's domains.
    assert provider_for_domain("hotmail.com.br").id == "outlook_com"
    detection = detect("a@hotmail.com.br")
    assert detection.source == "overlay" and "oauth_required" in codes(detection)


# --- matched by MX (the network discoverer diagnostics registers) ----------------------------------------


def test_it_finds_google_workspace_behind_a_custom_domain_by_its_mx(dns_server):
    detection = detect("ceo@acme-workspace.example", probe=False)

    assert mx_queries(dns_server) == [("acme-workspace.example", "MX", "udp")]
    body = detection.to_dict()
    assert body["source"] == "mx"
    assert body["provider"] == {"id": "google_workspace", "name": "Google Workspace"}
    assert body["mx"] == ["smtp.google.com"]
    assert body["incoming"]["host"] == "imap.gmail.com"
    assert "app_password_with_2fa" in codes(detection)
    assert "saves_sent_mail" in codes(detection)
    assert body["candidates"][0]["evidence"][0] == {"kind": "mx", "host": "smtp.google.com",
                                                     "provider": "google_workspace"}


def test_it_reads_the_older_google_mx_set_in_preference_order(dns_server):
    detection = detect("ceo@acme-legacy-google.example", probe=False)

    assert detection.provider.id == "google_workspace"
    assert detection.mx == ["aspmx.l.google.com", "alt1.aspmx.l.google.com", "aspmx2.googlemail.com"]


def test_it_finds_microsoft_365_behind_a_custom_domain_by_its_mx(dns_server):
    detection = detect("cfo@globex-m365.example", probe=False)

    assert detection.source == "mx"
    assert detection.provider.id == "microsoft_365"
    assert detection.incoming["host"] == "outlook.office365.com"
    assert detection.outgoing == {"host": "smtp.office365.com", "port": 587, "security": "starttls",
                                  "username": "cfo@globex-m365.example"}
    assert codes(detection) == ["source_mx", "oauth_required", "saves_sent_mail"]


def test_it_takes_the_preferred_mx_host_only(dns_server):
    # Thunderbird's rule: the most preferred host names the provider; a filtering gateway first hides it.
    detection = detect("x@gateway-first.example", probe=False)

    assert detection.mx[0] == "mx.filter.example"
    assert detection.source == "guess"


def test_it_picks_the_zoho_data_centre_from_the_mx(dns_server):
    detection = detect("x@zoho-eu.example", probe=False)

    assert detection.provider.id == "zoho_workplace_eu"
    assert detection.incoming["host"] == "imappro.zoho.eu"


# --- guessed ----------------------------------------------------------------------------------------------


def test_it_guesses_from_the_domain_when_the_mx_is_unknown_and_says_so(dns_server):
    detection = detect("bob@initech.example", probe=False)

    body = detection.to_dict()
    assert body["source"] == "guess"
    assert body["provider"] is None
    assert body["mx"] == ["mx1.initech-hosting.example", "mx2.initech-hosting.example"]
    assert body["incoming"] == {"protocol": "imap", "host": "imap.initech.example", "port": 993, "security": "ssl",
                                "username": "bob@initech.example"}
    assert body["outgoing"]["host"] == "smtp.initech.example"
    assert codes(detection) == ["guessed_settings"]
    assert "imap.initech.example" in str(body["notes"][0]["message"])
    assert body["verified"] is False


def test_it_guesses_a_pop3_host_for_a_pop3_user(dns_server):
    detection = detect("bob@initech.example", protocol="pop3", probe=False)

    assert detection.incoming["host"] == "pop.initech.example" and detection.incoming["port"] == 995


def test_it_guesses_with_the_ascii_form_of_an_international_domain(dns_server):
    detection = detect("ユーザー@例え.jp", probe=False)

    assert ("xn--r8jz45g.jp", "MX", "udp") in dns_server.queries
    assert detection.domain == "xn--r8jz45g.jp"
    assert detection.incoming["host"] == "imap.xn--r8jz45g.jp"


# --- DNS failures are answers with a note ---------------------------------------------------------------


def test_a_domain_that_does_not_exist_gives_a_note_not_an_exception(dns_server):
    detection = detect("bob@nowhere.example", probe=False)

    assert detection.source == "guess"
    assert codes(detection) == ["guessed_settings", "dns_failed"]
    assert "does not exist" in str(detection.notes[1].message)


def test_a_domain_without_mx_records_gives_a_note(dns_server):
    detection = detect("bob@nomx.example", probe=False)

    assert "dns_failed" in codes(detection)
    assert "no mail servers" in str(next(n for n in detection.notes if n.code == "dns_failed").message)
    # Its A record is a documentation address: its well-known file is not even asked for.
    assert "autoconfig_refused" in codes(detection)


def test_a_null_mx_says_the_domain_takes_no_mail(dns_server):
    detection = detect("bob@nullmx.example", probe=False)

    assert detection.mx == []
    assert "does not receive mail" in str(detection.notes[1].message)


def test_a_servfail_gives_a_note(dns_server):
    detection = detect("bob@servfail.example", probe=False)

    assert codes(detection) == ["guessed_settings", "dns_failed"]
    assert "Try again in a moment" in str(detection.notes[1].message)


def test_a_server_that_never_answers_gives_a_timeout_note_within_the_deadline(silent_dns):
    started = time.monotonic()
    detection = detect("bob@slow.example", probe=False)
    elapsed = time.monotonic() - started

    assert elapsed < 1.0 + 1.0  # the deadline (1 s), plus scheduling slack: a bound for a hang
    assert silent_dns.queries, "the queries must have reached our server"
    assert "dns_failed" in codes(detection)
    assert "took too long" in str(next(n for n in detection.notes if n.code == "dns_failed").message)


# --- the response body -----------------------------------------------------------------------------------


def test_the_body_has_exactly_the_documented_keys_and_serializes_to_json(dns_server):
    body = detect("cfo@globex-m365.example", probe=False).to_dict()

    assert set(body) == {"domain", "provider", "mx", "incoming", "outgoing", "source", "verified", "oauth2_only",
                         "complete", "notes", "candidates"}
    assert all(set(note) == {"code", "message"} for note in body["notes"])
    assert all({"incoming", "outgoing", "source", "verified", "evidence"} <= set(c) for c in body["candidates"])
    encoded = json.loads(json.dumps(body, cls=DjangoJSONEncoder))  # lazy messages render as text
    assert "Microsoft 365" in encoded["notes"][1]["message"]


def test_it_refuses_an_invalid_address_before_any_lookup(dns_server):
    with pytest.raises(AddressError):
        detect("not an address")
    assert dns_server.queries == []


def test_it_refuses_an_unknown_protocol():
    with pytest.raises(ValueError, match="protocol"):
        detect("a@gmail.com", protocol="smtp")


# --- what diagnostics reuses -----------------------------------------------------------------------------


def test_configured_hosts_that_belong_to_the_provider_match():
    assert mismatched_hosts(get_provider("gmail"), incoming_host="imap.gmail.com", smtp_host="smtp.gmail.com") == []
    assert mismatched_hosts("google_workspace", incoming_host=" IMAP.GMAIL.COM. ", smtp_host="smtp.gmail.com") == []
    assert mismatched_hosts("microsoft_365", incoming_host="outlook.office365.com",
                            smtp_host="smtp.office365.com") == []
    assert mismatched_hosts("outlook_com", incoming_host="outlook.office365.com",
                            smtp_host="smtp-mail.outlook.com") == []


def test_configured_hosts_of_another_provider_are_a_mismatch():
    assert mismatched_hosts("gmail", incoming_host="imap.gmail.com", smtp_host="smtp.office365.com") == ["outgoing"]
    assert mismatched_hosts("microsoft_365", incoming_host="imap.gmail.com", smtp_host="smtp.gmail.com") == [
        "incoming",
        "outgoing",
    ]
    # A look-alike that only ends with the same letters is not the provider's.
    assert mismatched_hosts("gmail", incoming_host="imap.notgmail.com", smtp_host="smtp.gmail.com") == ["incoming"]
    assert mismatched_hosts("gmail", incoming_host="imaps://imap.gmail.com", smtp_host="smtp.gmail.com") == [
        "incoming"]


def test_without_a_provider_there_is_nothing_to_mismatch():
    assert mismatched_hosts(None, incoming_host="imap.initech.example", smtp_host="smtp.initech.example") == []


def test_an_ispdb_provider_is_compared_by_its_servers_base_domains():
    detection = detect("x@ocn.ne.jp", network=False)
    assert mismatched_hosts(detection.provider, incoming_host="pop.ocn.ne.jp", smtp_host="smtp.ocn.ne.jp") == []
    assert mismatched_hosts(detection.provider, incoming_host="imap.gmail.com", smtp_host="smtp.ocn.ne.jp") == [
        "incoming"]


def test_it_knows_which_providers_save_sent_mail_themselves():
    assert provider_saves_sent_mail("gmail")
    assert provider_saves_sent_mail(get_provider("google_workspace"))
    assert provider_saves_sent_mail("microsoft_365")
    assert provider_saves_sent_mail("outlook_com")
    assert not provider_saves_sent_mail("yahoo")
    assert not provider_saves_sent_mail("icloud")
    assert not provider_saves_sent_mail(None)


def test_an_operator_can_make_the_service_ask_a_domain_again(dns_server, capsys):
    from django.core.management import call_command

    detect("ceo@acme-workspace.example", probe=False)
    asked = len(mx_queries(dns_server))
    detect("ceo@acme-workspace.example", probe=False)
    assert len(mx_queries(dns_server)) == asked  # cached

    call_command("discovery_forget", "ACME-Workspace.example")

    assert "forgot acme-workspace.example" in capsys.readouterr().out
    detect("ceo@acme-workspace.example", probe=False)
    assert len(mx_queries(dns_server)) == asked + 1
