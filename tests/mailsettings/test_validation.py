"""mailsettings.validation: the rules of a mail account's fields, as sentences per field."""
from __future__ import annotations

import pytest

from config.errors import InvalidInput
from mailsettings.validation import mail_account_clean
from tests.factories import account_data
from tests.helpers import SENTINEL

pytestmark = pytest.mark.django_db


def fields_of(data, **kwargs) -> dict:
    with pytest.raises(InvalidInput) as exc:
        mail_account_clean(data=data, **kwargs)
    return exc.value.fields


def test_a_valid_account_is_normalized():
    cleaned = mail_account_clean(
        data=account_data(" Bob@Example.COM ", incoming_host=" IMAP.Example.COM.", smtp_host="メール.例え.jp")
    )
    assert cleaned["address"] == "Bob@Example.COM"
    assert cleaned["address_normalized"] == "bob@example.com"
    assert cleaned["incoming_host"] == "imap.example.com"
    assert cleaned["smtp_host"].startswith("xn--")
    assert cleaned["incoming_username"] == "Bob@Example.COM"
    assert (cleaned["smtp_username"], cleaned["smtp_password"]) == ("", "")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("address", "no-at-sign"),
        ("address", ""),
        ("incoming_host", "imap example.com"),
        ("incoming_host", "imaps://imap.example.com"),
        ("incoming_host", "a" * 64 + ".example.com"),
        ("smtp_host", ""),
        ("incoming_port", 0),
        ("incoming_port", 65536),
        ("smtp_port", True),
        ("protocol", "smtp"),
        ("incoming_security", "tls"),
        ("smtp_security", None),
        ("incoming_password", ""),
        ("incoming_password", "line\nbreak"),
        ("incoming_username", "x" * 255),
        ("save_sent_on_server", "yes"),
    ],
)
def test_each_bad_value_is_refused_on_its_field(field, value):
    assert field in fields_of(account_data(**{field: value}))


def test_ports_default_to_the_usual_one_for_the_security():
    data = account_data(protocol="pop3", incoming_security="ssl", smtp_security="ssl")
    del data["incoming_port"], data["smtp_port"]
    cleaned = mail_account_clean(data=data)
    assert (cleaned["incoming_port"], cleaned["smtp_port"]) == (995, 465)


def test_separate_smtp_credentials_need_both_parts():
    fields = fields_of(account_data(smtp_same_credentials=False))
    assert set(fields) == {"smtp_username", "smtp_password"}


def test_no_message_quotes_the_password():
    bad = SENTINEL + "\r\n"
    fields = fields_of(account_data(incoming_password=bad, smtp_same_credentials=False, smtp_username="u",
                                    smtp_password="x" * 2000))
    assert SENTINEL not in " ".join(str(m) for messages in fields.values() for m in messages)


def test_a_partial_change_checks_only_what_is_given(user_s):
    from tests.factories import account_create

    account = account_create(user_s)
    assert mail_account_clean(data={"smtp_port": "2525"}, account=account) == {"smtp_port": 2525}
    assert "incoming_host" in fields_of({"incoming_host": "bad host"}, account=account)

