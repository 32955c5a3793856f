"""Provider detection against a real DNS server of our own on 127.0.0.1: never the machine's resolver."""

import json
import time

import dns.message
import dns.query
import dns.rcode
import pytest
from django.core.serializers.json import DjangoJSONEncoder

from mailsettings.addresses import AddressError
from mailsettings.provider_table import PROVIDERS, SECURITY_VALUES
from mailsettings.providers import (
    MX_NXDOMAIN,
    MX_OK,
    MX_TIMEOUT,
    default_resolver,
    detect_provider,
    get_provider,
    lookup_mx,
    mismatched_hosts,
    mx_cache_forget,
    provider_for_hosts,
    provider_saves_sent_mail,
)
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
def _fresh_mx_cache():
    # The cache may be a shared Redis: forget only this module's domains, before and after.
    for domain in DOMAINS:
        mx_cache_forget(domain)
    yield
    for domain in DOMAINS:
        mx_cache_forget(domain)


@pytest.fixture
def dns_server():
    with running_dns_server(ZONE, servfail={"servfail.example"}, drop={"slow.example"}) as server:
        yield server


@pytest.fixture
def resolver(dns_server):
    return dns_server.resolver(lifetime=1.0)


@pytest.fixture
def silent_resolver():
    # A DNS server that reads every query and answers none.
    with running_dns_server({}, silent=True) as server:
        server.resolver_under_test = server.resolver(lifetime=0.5)
        yield server


# --- matched by the address's domain ---------------------------------------------------------------------


def test_it_matches_gmail_by_domain_without_asking_dns(silent_resolver):
    detection = detect_provider("Someone@GMail.com", resolver=silent_resolver.resolver_under_test)

    assert silent_resolver.queries == []
    body = detection.to_dict()
    assert body["domain"] == "gmail.com"
    assert body["provider"] == {"id": "gmail", "name": "Gmail"}
    assert body["source"] == "preset"
    assert body["mx"] == []
    assert body["incoming"] == {"protocol": "imap", "host": "imap.gmail.com", "port": 993, "security": "ssl"}
    assert body["outgoing"] == {"host": "smtp.gmail.com", "port": 587, "security": "starttls"}


def test_it_tells_gmail_users_about_app_passwords_and_sent_mail(silent_resolver):
    detection = detect_provider("someone@gmail.com", resolver=silent_resolver.resolver_under_test)

    assert detection.note_codes == ["app_password_with_2fa", "saves_sent_mail"]
    messages = {note["code"]: str(note["message"]) for note in detection.to_dict()["notes"]}
    assert "two-step verification" in messages["app_password_with_2fa"]
    assert "Gmail" in messages["saves_sent_mail"]
    assert "twice" in messages["saves_sent_mail"]


def test_it_gives_pop3_settings_to_a_pop3_user(silent_resolver):
    detection = detect_provider("someone@gmail.com", protocol="pop3", resolver=silent_resolver.resolver_under_test)

    assert detection.incoming.to_dict() == {"protocol": "pop3", "host": "pop.gmail.com", "port": 995, "security": "ssl"}
    assert "enable_access" in detection.note_codes  # Gmail's POP is off until switched on


def test_it_falls_back_to_imap_with_a_note_when_the_provider_has_no_pop3(silent_resolver):
    detection = detect_provider("someone@icloud.com", protocol="pop3", resolver=silent_resolver.resolver_under_test)

    assert detection.incoming.protocol == "imap"
    assert detection.incoming.host == "imap.mail.me.com"
    assert detection.note_codes[0] == "pop3_unavailable"
    assert "app_password_required" in detection.note_codes
    assert "saves_sent_mail" not in detection.note_codes  # not claimed for iCloud: reports disagree


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
def test_it_matches_well_known_domains_with_their_notes(address, provider_id, note_codes, silent_resolver):
    detection = detect_provider(address, resolver=silent_resolver.resolver_under_test)

    assert detection.source == "preset"
    assert detection.provider.id == provider_id
    assert detection.note_codes == note_codes
    assert silent_resolver.queries == []


# --- matched by MX --------------------------------------------------------------------------------------


def test_it_finds_google_workspace_behind_a_custom_domain_by_its_mx(resolver, dns_server):
    detection = detect_provider("ceo@acme-workspace.example", resolver=resolver)

    assert dns_server.queries == [("acme-workspace.example", "MX", "udp")]
    body = detection.to_dict()
    assert body["source"] == "mx"
    assert body["provider"] == {"id": "google_workspace", "name": "Google Workspace"}
    assert body["mx"] == ["smtp.google.com"]
    assert body["incoming"]["host"] == "imap.gmail.com"
    assert "app_password_with_2fa" in detection.note_codes
    assert "saves_sent_mail" in detection.note_codes


def test_it_reads_the_older_google_mx_set_in_preference_order(resolver):
    detection = detect_provider("ceo@acme-legacy-google.example", resolver=resolver)

    assert detection.provider.id == "google_workspace"
    assert detection.mx == ["aspmx.l.google.com", "alt1.aspmx.l.google.com", "aspmx2.googlemail.com"]


def test_it_finds_microsoft_365_behind_a_custom_domain_by_its_mx(resolver):
    detection = detect_provider("cfo@globex-m365.example", resolver=resolver)

    assert detection.source == "mx"
    assert detection.provider.id == "microsoft_365"
    assert detection.incoming.host == "outlook.office365.com"
    assert detection.outgoing.to_dict() == {"host": "smtp.office365.com", "port": 587, "security": "starttls"}
    assert detection.note_codes == ["oauth_required", "saves_sent_mail"]


def test_it_looks_past_a_filtering_gateway_to_a_known_mx(resolver):
    detection = detect_provider("x@gateway-first.example", resolver=resolver)

    assert detection.provider.id == "microsoft_365"
    assert detection.mx[0] == "mx.filter.example"


def test_it_picks_the_zoho_data_centre_from_the_mx(resolver):
    detection = detect_provider("x@zoho-eu.example", resolver=resolver)

    assert detection.provider.id == "zoho_workplace_eu"
    assert detection.incoming.host == "imappro.zoho.eu"


# --- guessed ----------------------------------------------------------------------------------------------


def test_it_guesses_from_the_domain_when_the_mx_is_unknown_and_says_so(resolver):
    detection = detect_provider("bob@initech.example", resolver=resolver)

    body = detection.to_dict()
    assert body["source"] == "guess"
    assert body["provider"] is None
    assert body["mx"] == ["mx1.initech-hosting.example", "mx2.initech-hosting.example"]
    assert body["incoming"] == {"protocol": "imap", "host": "imap.initech.example", "port": 993, "security": "ssl"}
    assert body["outgoing"] == {"host": "smtp.initech.example", "port": 587, "security": "starttls"}
    assert detection.note_codes == ["guessed_settings"]
    assert "imap.initech.example" in str(body["notes"][0]["message"])


def test_it_guesses_a_pop3_host_for_a_pop3_user(resolver):
    detection = detect_provider("bob@initech.example", protocol="pop3", resolver=resolver)

    assert detection.incoming.to_dict() == {
        "protocol": "pop3",
        "host": "pop.initech.example",
        "port": 995,
        "security": "ssl",
    }


def test_it_guesses_with_the_ascii_form_of_an_international_domain(resolver, dns_server):
    detection = detect_provider("ユーザー@例え.jp", resolver=resolver)

    assert dns_server.queries == [("xn--r8jz45g.jp", "MX", "udp")]
    assert detection.domain == "xn--r8jz45g.jp"
    assert detection.incoming.host == "imap.xn--r8jz45g.jp"


# --- DNS failures are answers with a note ---------------------------------------------------------------


def test_a_domain_that_does_not_exist_gives_a_note_not_an_exception(resolver):
    detection = detect_provider("bob@nowhere.example", resolver=resolver)

    assert detection.source == "guess"
    assert detection.mx_status == MX_NXDOMAIN
    assert detection.note_codes == ["dns_failed", "guessed_settings"]
    assert "does not exist" in str(detection.notes[0].message)


def test_a_domain_without_mx_records_gives_a_note(resolver):
    detection = detect_provider("bob@nomx.example", resolver=resolver)

    assert detection.note_codes == ["dns_failed", "guessed_settings"]
    assert "no mail servers" in str(detection.notes[0].message)


def test_a_null_mx_says_the_domain_takes_no_mail(resolver):
    detection = detect_provider("bob@nullmx.example", resolver=resolver)

    assert detection.mx == []
    assert "does not receive mail" in str(detection.notes[0].message)


def test_a_servfail_gives_a_note(resolver):
    detection = detect_provider("bob@servfail.example", resolver=resolver)

    assert detection.note_codes == ["dns_failed", "guessed_settings"]
    assert "Try again in a moment" in str(detection.notes[0].message)


def test_a_server_that_never_answers_gives_a_timeout_note_within_the_lifetime(silent_resolver):
    started = time.monotonic()
    detection = detect_provider("bob@slow.example", resolver=silent_resolver.resolver_under_test)
    elapsed = time.monotonic() - started

    assert elapsed < 0.5 + 0.5  # lifetime 0.5 s, plus scheduling slack
    assert silent_resolver.queries, "the query must have reached our server"
    assert detection.mx_status == MX_TIMEOUT
    assert detection.note_codes == ["dns_failed", "guessed_settings"]
    assert "took too long" in str(detection.notes[0].message)


def test_one_name_that_is_dropped_times_out_while_others_answer(dns_server):
    resolver = dns_server.resolver(lifetime=0.3)
    assert lookup_mx("slow.example", resolver=resolver).status == MX_TIMEOUT
    assert lookup_mx("initech.example", resolver=resolver).status == MX_OK


def test_the_default_resolver_follows_the_dns_settings(settings):
    settings.DNS_NAMESERVERS = ["127.0.0.1:9"]
    settings.DNS_TIMEOUT = 2.0
    resolver = default_resolver()
    assert resolver.lifetime == 2.0
    assert [(ns.address, ns.port) for ns in resolver.nameservers] == [("127.0.0.1", 9)]


def test_without_an_injected_resolver_it_asks_the_nameservers_from_settings(settings, dns_server):
    settings.DNS_NAMESERVERS = [f"127.0.0.1:{dns_server.port}"]

    detection = detect_provider("cfo@globex-m365.example")

    assert detection.provider.id == "microsoft_365"
    assert dns_server.queries == [("globex-m365.example", "MX", "udp")]


# --- the MX cache ------------------------------------------------------------------------------------------


def test_mx_answers_are_cached_and_can_be_forgotten(resolver, dns_server):
    first = lookup_mx("initech.example", resolver=resolver)
    second = lookup_mx("initech.example", resolver=resolver)
    assert first == second
    assert len(dns_server.queries) == 1

    mx_cache_forget("initech.example")
    lookup_mx("initech.example", resolver=resolver)
    assert len(dns_server.queries) == 2


def test_negative_answers_are_cached_too(resolver, dns_server):
    assert lookup_mx("nowhere.example", resolver=resolver).status == MX_NXDOMAIN
    assert lookup_mx("nowhere.example", resolver=resolver).status == MX_NXDOMAIN
    assert len(dns_server.queries) == 1


# --- the response body -----------------------------------------------------------------------------------


def test_the_body_has_exactly_the_documented_keys_and_serializes_to_json(resolver):
    body = detect_provider("cfo@globex-m365.example", resolver=resolver).to_dict()

    assert set(body) == {"domain", "provider", "mx", "incoming", "outgoing", "source", "notes"}
    assert all(set(note) == {"code", "message"} for note in body["notes"])
    encoded = json.loads(json.dumps(body, cls=DjangoJSONEncoder))  # lazy messages render as text
    assert "Microsoft 365" in encoded["notes"][0]["message"]


def test_it_refuses_an_invalid_address_before_any_lookup(dns_server, resolver):
    with pytest.raises(AddressError):
        detect_provider("not an address", resolver=resolver)
    assert dns_server.queries == []


def test_it_refuses_an_unknown_protocol(resolver):
    with pytest.raises(ValueError, match="protocol"):
        detect_provider("a@gmail.com", protocol="smtp", resolver=resolver)


# --- what diagnostics reuses -----------------------------------------------------------------------------


def test_configured_hosts_that_belong_to_the_provider_match():
    gmail = get_provider("gmail")
    assert provider_for_hosts(gmail, "imap.gmail.com", "smtp.gmail.com")
    assert provider_for_hosts("google_workspace", " IMAP.GMAIL.COM. ", "smtp.gmail.com")
    assert provider_for_hosts("microsoft_365", "outlook.office365.com", "smtp.office365.com")
    assert provider_for_hosts("outlook_com", "outlook.office365.com", "smtp-mail.outlook.com")


def test_configured_hosts_of_another_provider_are_a_mismatch():
    assert not provider_for_hosts("gmail", "imap.gmail.com", "smtp.office365.com")
    assert mismatched_hosts("gmail", incoming_host="imap.gmail.com", smtp_host="smtp.office365.com") == ["outgoing"]
    assert mismatched_hosts("microsoft_365", incoming_host="imap.gmail.com", smtp_host="smtp.gmail.com") == [
        "incoming",
        "outgoing",
    ]
    # A look-alike that only ends with the same letters is not the provider's.
    assert not provider_for_hosts("gmail", "imap.notgmail.com", "smtp.gmail.com")
    assert not provider_for_hosts("gmail", "imaps://imap.gmail.com", "smtp.gmail.com")


def test_without_a_provider_there_is_nothing_to_mismatch():
    assert provider_for_hosts(None, "imap.initech.example", "smtp.initech.example")


def test_it_knows_which_providers_save_sent_mail_themselves():
    assert provider_saves_sent_mail("gmail")
    assert provider_saves_sent_mail(get_provider("google_workspace"))
    assert provider_saves_sent_mail("microsoft_365")
    assert provider_saves_sent_mail("outlook_com")
    assert not provider_saves_sent_mail("yahoo")
    assert not provider_saves_sent_mail("icloud")
    assert not provider_saves_sent_mail(None)
    assert not provider_saves_sent_mail("no-such-provider")


# --- the bundled table ---------------------------------------------------------------------------------


def test_the_table_holds_the_promised_providers_with_sane_settings():
    from mailsettings.hosts import normalize_host

    ids = [p.id for p in PROVIDERS]
    assert len(ids) == len(set(ids)) >= 12
    for wanted in (
        "gmail",
        "google_workspace",
        "microsoft_365",
        "outlook_com",
        "yahoo",
        "icloud",
        "zoho",
        "aol",
        "gmx_net",
        "yandex",
        "fastmail",
        "proton_bridge",
        "mail_ru",
        "yahoo_japan",
    ):
        assert wanted in ids
    domains = [d for p in PROVIDERS for d in p.domains]
    assert len(domains) == len(set(domains)), "a domain must name one provider"
    for provider in PROVIDERS:
        for server in (provider.imap, provider.smtp, provider.pop3):
            if server is None:
                continue
            assert normalize_host(server.host) == server.host
            assert server.security in SECURITY_VALUES
            assert 0 < server.port < 65536


def test_the_test_dns_server_answers_over_tcp_too(dns_server):
    query = dns.message.make_query("initech.example.", "MX")
    response = dns.query.tcp(query, "127.0.0.1", port=dns_server.port, timeout=2)

    assert response.rcode() == dns.rcode.NOERROR
    assert len(response.answer[0]) == 2
    assert dns_server.queries == [("initech.example", "MX", "tcp")]
