import pytest

from mailsettings.addresses import Address, AddressError, normalize_address, parse_address


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("alice@example.com", "alice@example.com"),
        ("Alice@Example.COM", "alice@example.com"),
        ("  alice@example.com \t", "alice@example.com"),
        ("ALICE+CRM@EXAMPLE.COM", "alice+crm@example.com"),
        ("ユーザー@例え.jp", "ユーザー@xn--r8jz45g.jp"),
        ("user@xn--r8jz45g.jp", "user@xn--r8jz45g.jp"),
        ("Åsa@Exempel.se", "åsa@exempel.se"),
        ("a@ｅｘａｍｐｌｅ．ｃｏｍ", "a@example.com"),  # full-width characters typed with a Japanese IME
        ("first.last@sub.example.co.jp", "first.last@sub.example.co.jp"),
    ],
)
def test_it_normalizes_addresses(typed, expected):
    assert normalize_address(typed) == expected


def test_it_makes_case_and_spacing_variants_collide():
    assert normalize_address("Alice@Example.COM") == normalize_address(" alice@example.com ")


def test_it_keeps_plus_addressing_distinct():
    assert normalize_address("alice+crm@example.com") != normalize_address("alice@example.com")


def test_it_keeps_the_international_local_part_and_converts_only_the_domain():
    address = parse_address("ユーザー@例え.jp")
    assert address == Address(local="ユーザー", domain="xn--r8jz45g.jp")
    assert str(address) == "ユーザー@xn--r8jz45g.jp"


@pytest.mark.parametrize(
    ("typed", "phrase"),
    [
        ("", "Enter an email address"),
        ("   ", "Enter an email address"),
        ("alice.example.com", 'needs an "@"'),
        ("alice@@example.com", 'exactly one "@"'),
        ("al ice@example.com", "cannot contain spaces"),
        ("Alice <alice@example.com>", "without a name"),
        ("@example.com", 'the part before the "@"'),
        ("alice@", 'the domain after the "@"'),
        ("alice@localhost", "incomplete"),
        ("alice@example..com", "two dots in a row"),
        ("alice.@example.com", "cannot end with a dot"),
        (".alice@example.com", "cannot start with a dot"),
        ("alice@example.com.", "cannot end with a dot"),
        ("alice@exa_mple.com", "domain after"),
        ("alice@[192.0.2.1]", "domain after"),
        ("a(b)@example.com", "not allowed"),
        ("x" * 65 + "@example.com", "at most 64 characters"),
        ("alice@example.invalid", "reserved"),
    ],
)
def test_it_refuses_invalid_addresses_with_a_sentence_that_says_what_to_fix(typed, phrase):
    with pytest.raises(AddressError) as caught:
        normalize_address(typed)
    assert caught.value.code == "invalid"
    assert phrase.lower() in str(caught.value.message).lower()


def test_it_keeps_the_validator_reason_for_logs_but_not_in_the_message():
    with pytest.raises(AddressError) as caught:
        normalize_address("alice@example..com")
    assert "periods" in caught.value.detail  # email-validator's English wording
    assert "periods" not in str(caught.value.message)


def test_it_is_a_value_error_so_form_code_can_catch_it_generically():
    with pytest.raises(ValueError, match="Enter an email address"):
        normalize_address("")


def test_it_refuses_test_domains_unless_the_setting_allows_them(settings):
    settings.MAILSETTINGS_ALLOW_TEST_DOMAINS = False
    with pytest.raises(AddressError, match="reserved"):
        normalize_address("alice@example.test")

    settings.MAILSETTINGS_ALLOW_TEST_DOMAINS = True
    assert normalize_address("Alice@Example.TEST") == "alice@example.test"


def test_an_explicit_argument_overrides_the_test_domain_setting(settings):
    settings.MAILSETTINGS_ALLOW_TEST_DOMAINS = True
    with pytest.raises(AddressError):
        normalize_address("alice@example.test", allow_test_domains=False)


# --- what is deliberately the same mailbox, and what is not -------------------------------------------------------

@pytest.mark.parametrize(("one", "other"), [
    ("Straße@example.com", "strasse@example.com"),  # German sharp s is its own letter
    ("ς@example.com", "σ@example.com"),  # Greek final sigma
    ("ﬁle@example.com", "file@example.com"),  # a ligature
])
def test_it_keeps_distinct_letters_apart(one, other):
    assert normalize_address(one) != normalize_address(other)


def test_sharp_s_keeps_its_letter_and_is_lowered_only():
    assert normalize_address("STRAẞE@Example.com") == normalize_address("straße@example.com") == "straße@example.com"


@pytest.mark.parametrize(("one", "other"), [
    ("ÅSA@example.se", "åsa@example.se"),  # case
    ("e\u0301mile@example.fr", "\u00e9mile@example.fr"),  # composed and decomposed accents (NFC)
    ("user@Ｅｘａｍｐｌｅ.com", "user@example.com"),  # the domain's UTS #46 mapping
])
def test_it_merges_only_case_canonical_equivalents_and_the_domains_idna_mapping(one, other):
    assert normalize_address(one) == normalize_address(other)


def test_the_domain_keeps_its_idna_2008_form():
    assert normalize_address("user@Straße.de") == "user@xn--strae-oqa.de"  # not "strasse.de" (IDNA 2003)


@pytest.mark.django_db
def test_two_mailboxes_differing_by_sharp_s_can_both_be_bound(api_as, user_s, admin_b):
    from tests.factories import account_data

    first = api_as(user_s).post("/api/v1/mail-accounts/", account_data("straße@example.com"), format="json")
    second = api_as(admin_b).post("/api/v1/mail-accounts/", account_data("strasse@example.com"), format="json")
    assert (first.status_code, second.status_code) == (201, 201), second.json()
    listed = api_as(admin_b).get("/api/v1/mail-accounts/", {"address": "Straße@example.com"}).json()
    assert [account["address"] for account in listed["results"]] == ["straße@example.com"]


@pytest.mark.django_db
def test_the_migration_refolds_stored_local_parts(user_s):
    import importlib

    from django.apps import apps

    from mailsettings.models import MailAccount
    from tests.factories import account_create

    account = account_create(user_s, address="Straße@example.com")
    MailAccount.objects.filter(pk=account.pk).update(address_normalized="strasse@example.com")  # as casefold stored
    migration = importlib.import_module("mailsettings.migrations.0003_needs_password_status")
    migration.refold_local_parts(apps, None)
    assert MailAccount.objects.get(pk=account.pk).address_normalized == "straße@example.com"
