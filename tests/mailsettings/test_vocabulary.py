"""One vocabulary: protocols and securities are the model's words everywhere, the probes included."""
import pytest

from diagnostics.probes.ports import check_settings
from diagnostics.results import SessionResult
from mailsettings.models import MailAccount
from mailsettings.vocabulary import INCOMING_PROTOCOLS, Protocol, Security


def test_the_accounts_fields_offer_exactly_the_vocabularys_words():
    fields = {f.name: f for f in MailAccount._meta.get_fields()}
    assert [value for value, _label in fields["protocol"].choices] == [p.value for p in INCOMING_PROTOCOLS]
    for name in ("incoming_security", "smtp_security"):
        assert [value for value, _label in fields[name].choices] == Security.values


def test_implicit_tls_has_one_name():
    with pytest.raises(ValueError):
        Security("implicit")
    session = SessionResult(protocol=Protocol.IMAP, host="imap.example.test", port=993, security=Security("ssl"))
    assert session.to_dict()["security"] == "ssl"
    assert check_settings(protocol="imap", port=993, security="ssl").details["security"] == "ssl"

