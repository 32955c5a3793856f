"""Unusual but legal settings are saved and reported as warnings (pure: no network)."""
from __future__ import annotations

import pytest

from mailsettings import ports
from mailsettings.warnings import settings_warnings


def codes(**overrides) -> list[str]:
    settings = {
        "protocol": "imap", "address_domain": "example.com", "incoming_port": 993, "incoming_security": "ssl",
        "smtp_host": "smtp.example.com", "smtp_port": 587, "smtp_security": "starttls", "save_sent_on_server": False,
    }
    settings.update(overrides)
    return [w.code for w in settings_warnings(**settings)]


def test_standard_settings_have_no_warning():
    assert codes() == []
    assert codes(protocol="pop3", incoming_port=995, smtp_port=465, smtp_security="ssl") == []
    assert codes(incoming_port=143, incoming_security="starttls", smtp_port=25, smtp_security="starttls") == []


def test_993_with_starttls_is_a_security_mismatch():
    assert codes(incoming_security="starttls") == ["port_security_mismatch"]


def test_smtp_on_2525_is_a_nonstandard_port():
    assert codes(smtp_port=2525) == ["nonstandard_port"]


def test_imap_on_the_pop3_port_is_the_port_of_another_protocol():
    assert codes(incoming_port=995) == ["port_of_other_protocol"]


def test_no_encryption_is_named():
    assert codes(incoming_port=143, incoming_security="none") == ["no_encryption"]


@pytest.mark.parametrize(
    ("domain", "smtp_host", "expected"),
    [
        ("gmail.com", "smtp.gmail.com", ["duplicate_sent_risk"]),
        ("acme.example", "smtp.gmail.com", ["duplicate_sent_risk"]),  # a Workspace domain shows in its SMTP host
        ("example.com", "smtp.example.com", []),
        ("example.com", "127.0.0.1", []),  # a loopback server names no provider
    ],
)
def test_saving_sent_mail_where_the_provider_already_does_warns_of_duplicates(domain, smtp_host, expected):
    assert codes(address_domain=domain, smtp_host=smtp_host, save_sent_on_server=True) == expected
    assert codes(address_domain=domain, smtp_host=smtp_host, save_sent_on_server=False) == []


def test_messages_are_sentences_that_name_the_port():
    [warning] = settings_warnings(
        protocol="imap", address_domain="example.com", incoming_port=993, incoming_security="starttls",
        smtp_host="smtp.example.com", smtp_port=587, smtp_security="starttls", save_sent_on_server=False,
    )
    assert "993" in str(warning.message) and "STARTTLS" in str(warning.message)


def test_the_port_facts():
    assert ports.default_port("smtp", "starttls") == 587
    assert ports.default_port("imap", "none") == 143
    assert ports.protocols_of_port(25) == ["smtp"]
    assert ports.standard_securities("pop3", 995) == frozenset({"ssl"})
