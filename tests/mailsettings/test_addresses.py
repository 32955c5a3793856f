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
