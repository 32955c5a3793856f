import pytest

from mailsettings.hosts import HostError, normalize_host


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("imap.example.com", "imap.example.com"),
        ("  IMAP.Example.COM \t", "imap.example.com"),
        ("imap.example.com.", "imap.example.com"),
        ("メール.例え.jp", "xn--4dkua4c.xn--r8jz45g.jp"),
        ("ｉｍａｐ．例え。ＪＰ", "imap.xn--r8jz45g.jp"),  # full-width letters and the ideographic full stop
        ("xn--r8jz45g.jp", "xn--r8jz45g.jp"),
        ("localhost", "localhost"),
        ("192.0.2.10", "192.0.2.10"),
        ("::1", "::1"),
        ("[2001:DB8:0::1]", "2001:db8::1"),
        ("a" * 63 + ".example.com", "a" * 63 + ".example.com"),
    ],
)
def test_it_normalizes_host_names_and_ip_literals(typed, expected):
    assert normalize_host(typed) == expected


def test_it_refuses_a_url_scheme_and_names_the_scheme_in_the_message():
    with pytest.raises(HostError) as caught:
        normalize_host("imaps://imap.example.com")
    assert caught.value.code == "invalid"
    assert '"imaps://"' in str(caught.value.message)
    assert "imap.example.com" in str(caught.value.message)


@pytest.mark.parametrize(
    ("typed", "phrase"),
    [
        ("", "Enter the server name"),
        ("   ", "Enter the server name"),
        ("imap example.com", "cannot contain spaces"),
        ("imap.example.com:993", "port field"),
        ("imap.example.com/mail", "not an address, a path or a link"),
        ("alice@example.com", "not an address, a path or a link"),
        ("imap..example.com", "empty parts"),
        (".example.com", "empty parts"),
        ("imap_1.example.com", "only letters, digits, hyphens and dots"),
        ("-imap.example.com", "cannot start or end with a hyphen"),
        ("a" * 64 + ".example.com", "at most 63 characters"),
        ("例" * 60 + ".jp", "at most 63 characters"),
        (("a" * 60 + ".") * 4 + "example.com", "at most 253 characters"),
        ("xn--zz.example.com", "xn--"),
        ("300.1.1.1", "not a valid IP address"),
        ("[not-an-ip]", "not a valid IPv6 address"),
    ],
)
def test_it_refuses_bad_host_names_with_a_sentence_that_says_what_to_fix(typed, phrase):
    with pytest.raises(HostError) as caught:
        normalize_host(typed)
    assert caught.value.code == "invalid"
    assert phrase in str(caught.value.message)


def test_it_converts_international_names_by_idna_2008():
    assert normalize_host("straße.de") == "xn--strae-oqa.de"  # IDNA 2003 would have made it "strasse.de"
