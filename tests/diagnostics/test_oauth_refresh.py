"""Tokens over time: a run refreshes a token about to expire, refreshes and retries once when the server refuses it,
ends as reauth_required when the provider refuses the grant for good (and signing in again restores it), treats a
provider that cannot answer as transient, and never lets two workers refresh one binding at once. Real parts: the
Authlib test server (refresh tokens rotate on every use, as Microsoft's do), Dovecot's oauth2 passdb, aiosmtpd."""
from __future__ import annotations

import datetime
import threading

import pytest
from django.db import connections
from django.test import Client
from django.utils import timezone

from diagnostics import judge, walk
from diagnostics.models import DiagnosticRun
from diagnostics.oauth.refresh import RefreshUnavailable, oauth_access_token
from diagnostics.services import diagnostic_run_create_for_account
from diagnostics.tasks_oauth import refresh_token
from mailsettings.models_oauth import OAuthCredential
from tests.oauth_helpers import bind_with_oauth, consent, oauth_form
from tests.servers.dovecot import CAROL

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("loopback_diagnostics")]


@pytest.fixture
def bound(user_s, oauth_provider, dovecot_oauth, smtp_oauth, test_ca):
    def make(protocol="imap"):
        account = bind_with_oauth(user_s, dovecot=dovecot_oauth, smtp_oauth=smtp_oauth, ca_file=test_ca.ca_pem,
                                  address=CAROL, protocol=protocol)
        DiagnosticRun.objects.all().delete()  # the check the callback queued: each test runs its own
        return account
    return make


def _check(account) -> tuple[DiagnosticRun, dict]:
    run, _created = diagnostic_run_create_for_account(account=account, trigger="user")
    walk.run_execute(run_id=run.pk)
    run.refresh_from_db()
    account.refresh_from_db()
    return run, {s.name: (s.status, s.code) for s in run.steps.all()}


@pytest.mark.parametrize("protocol", ["imap", "pop3"])
def test_a_token_the_server_refuses_is_refreshed_and_the_check_passes(protocol, bound, oauth_provider):
    account = bound(protocol)
    old_refresh = OAuthCredential.objects.get(account=account).refresh_token
    oauth_provider.expire_access_tokens(CAROL)  # expired at the provider although we think it is still good
    run, steps = _check(account)
    assert run.status == "passed", steps
    credential = OAuthCredential.objects.get(account=account)
    assert credential.refresh_token != old_refresh  # rotated: the provider replaced it on use
    assert oauth_provider.requests_to("/token") == 2  # the code exchange, then ONE refresh for both sessions
    assert account.status == "connected"


def test_a_token_about_to_expire_is_refreshed_before_signing_in(bound, oauth_provider):
    account = bound()
    OAuthCredential.objects.filter(account=account).update(expires_at=timezone.now() + datetime.timedelta(seconds=30))
    run, steps = _check(account)
    assert run.status == "passed", steps
    assert oauth_provider.requests_to("/token") == 2
    assert OAuthCredential.objects.get(account=account).expires_at > timezone.now() + datetime.timedelta(minutes=30)


def test_a_revoked_grant_asks_for_a_new_sign_in_and_signing_in_again_restores_the_account(
        bound, oauth_provider, user_s, dovecot_oauth, smtp_oauth, test_ca):
    account = bound()
    assert _check(account)[0].status == "passed"  # it worked...
    oauth_provider.revoke_grants(CAROL)  # ...then the user changed their password at the provider
    run, steps = _check(account)
    assert run.status == "failed" and steps["login"] == ("failed", "reauth_required"), steps
    assert account.status == "reauth_required"
    from accounts.models import AuditEvent

    # Recorded as any check's failure: the owner is told by the notifier (working -> failing).
    changed = AuditEvent.objects.get(action="mail_account.status_changed", details__to="reauth_required")
    assert changed.details["transition"] == "failing" and changed.details["outcome"] == "reauth_required"
    from diagnostics.services import accounts_recheck_due
    from mailsettings.models import MailAccount

    MailAccount.objects.filter(pk=account.pk).update(last_checked_at=timezone.now() - datetime.timedelta(days=2))
    assert accounts_recheck_due() == 0  # not retried by the periodic check: it waits for a new sign-in
    credential = OAuthCredential.objects.get(account=account)
    assert credential.status == "reauth_required" and credential.refresh_token == ""
    advice = judge.run_advice(run)
    assert advice[0]["code"] == "reauth_required" and "sign in" in advice[0]["title"].lower()

    client = Client()
    client.force_login(user_s)
    page = client.get("/settings/email/").content.decode()
    assert 'id="oauth-sign-in-again"' in page and "Sign in again to keep this mailbox connected" in page
    start = client.post("/settings/email/oauth/start/", {"oauth_provider": "generic"})
    assert start.status_code == 302
    assert client.get(consent(start["Location"], user=CAROL, ca_file=test_ca.ca_pem)).status_code == 302
    account.refresh_from_db()
    assert account.status == "pending" and account.pk == credential.account_id  # the same binding, renewed
    run, steps = _check(account)
    assert run.status == "passed", steps


def test_a_provider_that_cannot_answer_is_transient_never_a_revoked_grant(bound, oauth_provider):
    account = bound()
    OAuthCredential.objects.filter(account=account).update(expires_at=timezone.now())
    oauth_provider.fail_token_requests(10)
    run, steps = _check(account)
    assert steps["login"] == ("failed", "server_busy"), steps
    assert run.steps.get(name="login").details["transient"] is True
    assert account.status != "reauth_required"
    assert OAuthCredential.objects.get(account=account).status == "active"
    with pytest.raises(RefreshUnavailable):
        oauth_access_token(account_id=account.pk)
    assert RefreshUnavailable in refresh_token.autoretry_for  # the task tries again later
    oauth_provider.fail_token_requests(0)
    assert oauth_access_token(account_id=account.pk).refreshed


def test_a_token_without_the_mail_scope_is_oauth_scope_missing(
        settings, user_s, oauth_provider, dovecot_oauth, smtp_oauth, test_ca):
    settings.OAUTH_GENERIC_SCOPES = ["openid", "email", "offline_access"]  # the mail permission not asked for
    account = bind_with_oauth(user_s, dovecot=dovecot_oauth, smtp_oauth=smtp_oauth, ca_file=test_ca.ca_pem,
                              address=CAROL)
    DiagnosticRun.objects.all().delete()
    run, steps = _check(account)
    assert steps["login"] == ("failed", "oauth_scope_missing"), steps
    assert run.steps.get(name="login").details["oauth_error"]["scope"] == "mail"


def test_a_server_without_xoauth2_is_oauth_not_offered(bound, dovecot):
    account = bound()
    account.incoming_port = dovecot.imaps_port  # the password-only Dovecot
    account.save(update_fields=["incoming_port"])
    run, steps = _check(account)
    assert steps["login"] == ("failed", "oauth_not_offered"), steps


@pytest.mark.postgres
def test_two_workers_refreshing_one_binding_send_one_refresh_request(bound, oauth_provider):
    account = bound()
    OAuthCredential.objects.filter(account=account).update(expires_at=timezone.now())
    oauth_provider.slow_token_requests(0.5)  # the first refresh is still in flight when the second asks
    barrier = threading.Barrier(2)
    results: list = []

    def worker():
        try:
            barrier.wait()
            results.append(oauth_access_token(account_id=account.pk))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(results) == 2
    assert oauth_provider.requests_to("/token") == 2  # the sign-in's exchange + exactly one refresh
    assert sorted(r.refreshed for r in results) == [False, True]
    assert results[0].value == results[1].value


def test_the_workers_refresh_a_token_due_soon(bound, oauth_provider, celery_worker):
    account = bound()
    OAuthCredential.objects.filter(account=account).update(expires_at=timezone.now() + datetime.timedelta(seconds=5))
    from diagnostics.tasks_oauth import refresh_due_tokens

    assert refresh_due_tokens() == 1  # beat's sweep queues it; the worker refreshes it
    deadline = timezone.now() + datetime.timedelta(seconds=30)
    while timezone.now() < deadline and oauth_provider.requests_to("/token") < 2:
        threading.Event().wait(0.2)
    assert oauth_provider.requests_to("/token") == 2
    credential = OAuthCredential.objects.get(account=account)
    assert credential.expires_at > timezone.now() + datetime.timedelta(minutes=30)


def test_turning_off_revokes_the_grant_at_the_provider_and_deletes_the_tokens(bound, oauth_provider, api_as,
                                                                              user_s):
    account = bound()
    assert oauth_provider.live_tokens(CAROL)
    response = api_as(user_s).delete(f"/api/v1/mail-accounts/{account.pk}/")
    assert response.status_code == 200 and response.json()["status"] == "disabled"
    assert oauth_provider.requests_to("/revoke") == 1
    assert not oauth_provider.live_tokens(CAROL)
    credential = OAuthCredential.objects.get(account=account)
    assert (credential.access_token, credential.refresh_token, credential.status) == ("", "", "revoked")
    enabled = api_as(user_s).post(f"/api/v1/mail-accounts/{account.pk}/enable/").json()
    assert enabled["status"] == "reauth_required"  # no tokens: it needs a new sign-in


def test_password_fields_are_refused_for_an_oauth2_binding(bound, api_as, user_s, dovecot_oauth, smtp_oauth):
    account = bound()
    client = api_as(user_s)
    url = f"/api/v1/mail-accounts/{account.pk}/"
    patch = client.patch(url, {"incoming_password": "secret-1"}, format="json")
    assert patch.status_code == 400 and "incoming_password" in patch.json()["error"]["fields"]
    change = client.post(f"{url}password/", {"password": "secret-1", "apply_to": "both"}, format="json")
    assert change.status_code == 400 and "no password" in change.json()["error"]["fields"]["password"][0]
    moved = client.patch(url, {"address": "other@example.test"}, format="json")
    assert moved.status_code == 400 and "the one you signed in with" in moved.json()["error"]["fields"]["address"][0]
    switch = client.patch(url, {"auth_method": "password"}, format="json")
    assert switch.status_code == 400 and "auth_method" in switch.json()["error"]["fields"]
    register = client.post("/api/v1/mail-accounts/", {**oauth_form(dovecot_oauth, smtp_oauth, address="x@example.test"),
                                                      "auth_method": "oauth2"}, format="json")
    assert register.status_code == 400 and "auth_method" in register.json()["error"]["fields"]
