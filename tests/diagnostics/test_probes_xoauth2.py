"""The XOAUTH2 / OAUTHBEARER sign-in of the probes against the real servers: Dovecot's oauth2 passdb (IMAPS, POP3S)
and aiosmtpd. A refused token's JSON continuation is answered with an empty line (a client that does not answer
waits forever) and read as oauth_token_invalid; POP3's `+ ...` line is not success; the blob never reaches a
transcript."""
from __future__ import annotations

import pytest

from diagnostics.probes import imap, pop3, smtp, xoauth2
from diagnostics.results import Code
from diagnostics.walk import probe_options
from tests.oauth_helpers import issue_token
from tests.servers.dovecot import CAROL

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("loopback_diagnostics")]
SCOPES = ["openid", "email", "offline_access", "mail"]


def _session(module, port, token, **kwargs):
    return module.probe_session(host="localhost", port=port, security="ssl", username=CAROL, password=token,
                                options=probe_options(), oauth_scopes=SCOPES, **kwargs)


@pytest.mark.parametrize("mechanism", ["XOAUTH2", "OAUTHBEARER"])
def test_imap_pop3_and_smtp_sign_in_with_a_token(mechanism, monkeypatch, oauth_server, dovecot_oauth, smtp_oauth,
                                                 test_ca):
    monkeypatch.setattr(xoauth2, "PREFERRED", (mechanism,))
    token = issue_token(oauth_server, user=CAROL, ca_file=test_ca.ca_pem)["access_token"]
    for module, port in ((imap, dovecot_oauth.imaps_port), (pop3, dovecot_oauth.pop3s_port),
                         (smtp, smtp_oauth.port)):
        result = _session(module, port, token)
        assert result.failed is None, (module.__name__, [s.to_dict() for s in result.steps])
        login = result.steps[-1] if module is smtp else result.step("login")
        assert mechanism in login.details["method"]
        assert all(token not in line for step in result.steps for line in step.transcript)
        assert any(f"{mechanism} ***" in line for line in login.transcript)


def test_a_refused_token_is_read_from_the_json_and_pop3s_plus_line_is_not_success(oauth_server, dovecot_oauth,
                                                                                   smtp_oauth):
    for module, port in ((imap, dovecot_oauth.imaps_port), (pop3, dovecot_oauth.pop3s_port),
                         (smtp, smtp_oauth.port)):
        result = _session(module, port, "not-a-valid-token")
        failed = result.failed
        assert failed is not None and failed.code == Code.OAUTH_TOKEN_INVALID, module.__name__
        assert failed.details["oauth_error"] == {"status": "401", "schemes": "bearer", "scope": "mail"}
        assert not failed.transient
    pop3_login = _session(pop3, dovecot_oauth.pop3s_port, "not-a-valid-token").step("login")
    lines = pop3_login.transcript
    assert any(line.startswith("S: + ") for line in lines) and any(line.startswith("S: -ERR") for line in lines)


def test_an_unreachable_authorization_server_is_transient_not_a_refused_token(dovecot_oauth, test_ca, oauth_server):
    from tests.servers.dovecot import OAuth2Passdb, running_dovecot
    from tests.servers.ports import free_port

    dead = OAuth2Passdb(introspection_url=f"http://127.0.0.1:{free_port()}/introspect", client_id="x",
                        client_secret="y")
    with running_dovecot(certs=test_ca, oauth2=dead) as server:
        result = _session(imap, server.imaps_port, "any-token")
    assert result.failed.code == Code.SERVER_BUSY and result.failed.transient
