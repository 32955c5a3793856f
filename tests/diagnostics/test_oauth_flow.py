"""OAuth2 sign-in end to end without a browser: the pages' start and callback (Django's test client), the test
authorization server's consent page (HTTP), the tokens stored, the account registered, and its check signing in
with XOAUTH2 to Dovecot (IMAPS and POP3S) and aiosmtpd. And every refusal: consent denied, a forged or replayed
callback, a callback from another browser, a wrong PKCE verifier, another address than the one typed, a lock."""
from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import AuditEvent
from diagnostics import walk
from diagnostics.models import DiagnosticRun
from locks.services import settings_lock_create
from mailsettings.models import MailAccount
from mailsettings.models_oauth import OAuthCredential, OAuthFlow
from tests.oauth_helpers import consent, query_of
from tests.servers.dovecot import CAROL

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("loopback_diagnostics")]

START = "/settings/email/oauth/start/"


def _form(dovecot, smtp_oauth, *, address=CAROL, protocol="imap"):
    port = dovecot.imaps_port if protocol == "imap" else dovecot.pop3s_port
    return {
        "address": address, "protocol": protocol, "incoming_host": "localhost", "incoming_port": str(port),
        "incoming_security": "ssl", "smtp_host": "localhost", "smtp_port": str(smtp_oauth.port),
        "smtp_security": "ssl", "smtp_same_credentials": "on", "oauth_provider": "generic",
    }


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _start(client, form) -> str:
    response = client.post(START, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    return response["Location"]


@pytest.mark.parametrize("protocol", ["imap", "pop3"])
def test_signing_in_binds_the_account_and_its_check_passes_with_xoauth2(
        protocol, user_s, oauth_provider, dovecot_oauth, smtp_oauth, test_ca):
    client = _signed_in(user_s)
    url = _start(client, _form(dovecot_oauth, smtp_oauth, protocol=protocol))
    params = query_of(url)
    assert params["code_challenge_method"] == "S256" and params["code_challenge"]
    assert params["login_hint"] == CAROL and "mail" in params["scope"].split()
    assert not MailAccount.objects.exists()  # nothing is saved before the provider has answered

    done = client.get(consent(url, user=CAROL, ca_file=test_ca.ca_pem))
    assert done.status_code == 302 and "/settings/email/runs/" in done["Location"]
    account = MailAccount.objects.get()
    assert (account.auth_method, account.address, account.protocol) == ("oauth2", CAROL, protocol)
    assert account.incoming_password == "" and account.smtp_password == ""
    credential = OAuthCredential.objects.get(account=account)
    assert credential.account_email == CAROL and credential.refresh_token and credential.access_token
    assert "mail" in credential.scope_list

    run = DiagnosticRun.objects.get(account=account)
    walk.run_execute(run_id=run.pk)
    run.refresh_from_db()
    steps = {s.name: (s.status, s.code) for s in run.steps.all()}
    assert run.status == "passed", steps
    assert steps["login"] == ("passed", "ok") and steps["smtp_auth"] == ("passed", "ok")
    login = run.steps.get(name="login")
    assert login.details["method"] == "AUTHENTICATE XOAUTH2" if protocol == "imap" else "AUTH XOAUTH2"
    account.refresh_from_db()
    assert account.status == "connected"


def test_consent_denied_is_a_sentence_and_saves_nothing(user_s, oauth_provider, dovecot_oauth, smtp_oauth, test_ca):
    client = _signed_in(user_s)
    url = _start(client, _form(dovecot_oauth, smtp_oauth))
    response = client.get(consent(url, user=CAROL, ca_file=test_ca.ca_pem, allow=False))
    assert response.status_code == 400
    assert "You did not allow access to your mailbox" in response.content.decode()
    assert not MailAccount.objects.exists() and not OAuthCredential.objects.exists()


def test_a_replayed_or_forged_callback_is_refused(user_s, oauth_provider, dovecot_oauth, smtp_oauth, test_ca):
    client = _signed_in(user_s)
    callback = consent(_start(client, _form(dovecot_oauth, smtp_oauth)), user=CAROL, ca_file=test_ca.ca_pem)
    forged = callback.replace(query_of(callback)["state"], "forged-state")
    assert client.get(forged).status_code == 400
    assert client.get(callback).status_code == 302  # the real one once
    replay = client.get(callback)
    assert replay.status_code == 400 and "not valid any more" in replay.content.decode()
    assert MailAccount.objects.count() == 1


def test_a_callback_in_another_browser_is_refused(user_s, oauth_provider, dovecot_oauth, smtp_oauth, test_ca):
    callback = consent(_start(_signed_in(user_s), _form(dovecot_oauth, smtp_oauth)), user=CAROL,
                       ca_file=test_ca.ca_pem)
    assert _signed_in(user_s).get(callback).status_code == 400  # same user, other session: not its state
    assert Client().get(callback).status_code == 400
    assert not MailAccount.objects.exists()


def test_a_wrong_pkce_verifier_gets_no_tokens(user_s, oauth_provider, dovecot_oauth, smtp_oauth, test_ca):
    client = _signed_in(user_s)
    callback = consent(_start(client, _form(dovecot_oauth, smtp_oauth)), user=CAROL, ca_file=test_ca.ca_pem)
    flow = OAuthFlow.objects.get()
    flow.code_verifier = "x" * 64  # what an attacker holding only the code would send
    flow.save(update_fields=["code_verifier"])
    response = client.get(callback)
    assert response.status_code == 400 and "did not confirm this sign-in" in response.content.decode()
    assert oauth_provider.requests_to("/token") == 1 and not MailAccount.objects.exists()


def test_signing_in_as_another_address_is_refused_with_both_addresses(
        user_s, oauth_provider, dovecot_oauth, smtp_oauth, test_ca):
    client = _signed_in(user_s)
    callback = consent(_start(client, _form(dovecot_oauth, smtp_oauth)), user="alice@example.test",
                       ca_file=test_ca.ca_pem)
    response = client.get(callback)
    text = response.content.decode()
    assert response.status_code == 409
    assert "You signed in as alice@example.test, but the address to connect is carol@example.test" in text
    assert not MailAccount.objects.exists() and not OAuthCredential.objects.exists()


def test_a_locked_user_starts_no_flow_and_a_lock_during_the_flow_saves_nothing(
        user_s, admin_a, oauth_provider, dovecot_oauth, smtp_oauth, test_ca):
    client = _signed_in(user_s)
    callback = consent(_start(client, _form(dovecot_oauth, smtp_oauth)), user=CAROL, ca_file=test_ca.ca_pem)
    settings_lock_create(actor=admin_a, user=user_s)
    locked = client.get(callback)
    assert locked.status_code == 403 and not MailAccount.objects.exists()
    refused = client.post(START, _form(dovecot_oauth, smtp_oauth))
    assert refused.status_code == 403 and "settings-locked" in refused.content.decode()
    assert OAuthFlow.objects.count() == 1  # the refused start left no flow
    assert oauth_provider.requests_to("/authorize") == 2  # consent page GET+POST of the first flow only


def test_the_api_starts_a_flow_that_the_callback_completes_in_any_browser(
        api_as, user_s, oauth_provider, dovecot_oauth, smtp_oauth, test_ca):
    form = _form(dovecot_oauth, smtp_oauth)
    body = {k: v for k, v in form.items() if k not in ("oauth_provider", "smtp_same_credentials")}
    body.update(provider="generic", incoming_port=int(body["incoming_port"]), smtp_port=int(body["smtp_port"]))
    response = api_as(user_s).post("/api/v1/mail-accounts/oauth/start/", body, format="json")
    assert response.status_code == 200, response.json()
    start = response.json()
    assert set(start) == {"authorization_url", "state", "expires_at"}
    assert query_of(start["authorization_url"])["state"] == start["state"]
    done = Client().get(consent(start["authorization_url"], user=CAROL, ca_file=test_ca.ca_pem))
    assert done.status_code == 200 and "is connected with" in done.content.decode()
    listed = api_as(user_s).get("/api/v1/mail-accounts/").json()["results"][0]
    assert listed["auth_method"] == "oauth2"
    assert listed["oauth"]["provider"] == "generic" and listed["oauth"]["account_email"] == CAROL
    assert set(listed["oauth"]) == {"provider", "account_email", "scopes", "expires_at", "status"}
    assert AuditEvent.objects.filter(action="mail_account.registered").exists()


def test_an_operator_and_an_unconfigured_provider_get_their_sentences(operator, user_s, dovecot_oauth, smtp_oauth):
    refused = _signed_in(operator).post(START, _form(dovecot_oauth, smtp_oauth))
    assert refused.status_code == 403 and "operators have none" in refused.content.decode()
    form = {**_form(dovecot_oauth, smtp_oauth), "oauth_provider": "microsoft"}  # no client configured
    page = _signed_in(user_s).post(START, form)
    assert page.status_code == 400 and "is not set up here" in page.content.decode()
    assert not OAuthFlow.objects.exists()
