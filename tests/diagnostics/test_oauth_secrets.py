"""The tokens of an OAuth2 binding never come out: not in API responses, pages, logs, run transcripts and step
details, audit rows, task messages or what goes through the broker; the XOAUTH2 blob and its base64 form neither.
The organization's client secret is encrypted and never shown again in the admin; rotation re-encrypts all."""
from __future__ import annotations

import base64
import json
import logging
from io import StringIO

import pytest
from celery.signals import before_task_publish
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection
from django.test import Client

from diagnostics import walk
from diagnostics.models import DiagnosticRun, DiagnosticStep
from mailsettings.models_oauth import OAuthClient, OAuthCredential
from tests.oauth_helpers import bind_with_oauth
from tests.servers.dovecot import CAROL
from tests.servers.oauth_server import APP_CLIENT_SECRET

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("loopback_diagnostics")]


def _forms(token: str) -> list[str]:
    blob = base64.b64encode(f"user={CAROL}\x01auth=Bearer {token}\x01\x01".encode()).decode()
    return [token, blob]


def test_no_token_leaves_the_service(user_s, admin_a, api_as, oauth_provider, dovecot_oauth, smtp_oauth, test_ca,
                                     caplog):
    caplog.set_level(logging.DEBUG)
    published: list[str] = []

    def keep(sender=None, body=None, headers=None, **_kwargs):
        published.append(json.dumps({"body": body, "headers": headers}, default=repr))

    before_task_publish.connect(keep, weak=False)
    try:
        account = bind_with_oauth(user_s, dovecot=dovecot_oauth, smtp_oauth=smtp_oauth, ca_file=test_ca.ca_pem,
                                  address=CAROL)
        oauth_provider.expire_access_tokens(CAROL)  # the run refreshes: two generations of tokens to look for
        walk.run_execute(run_id=DiagnosticRun.objects.get(account=account).pk)
        OAuthCredential.objects.filter(account=account).update(expires_at=None)
        from diagnostics.tasks_oauth import refresh_due_tokens

        refresh_due_tokens()
    finally:
        before_task_publish.disconnect(keep)
    assert DiagnosticRun.objects.get(account=account).status == "passed"
    secrets = [form for token in oauth_provider.store.tokens for value in (token.access_token, token.refresh_token)
               if value for form in _forms(value)]
    assert len(secrets) >= 8  # two grants' access and refresh tokens and their blobs

    outputs: list[str] = []
    for client in (api_as(user_s), api_as(admin_a)):
        outputs.append(client.get("/api/v1/mail-accounts/").content.decode())
        outputs.append(client.get(f"/api/v1/mail-accounts/{account.pk}/").content.decode())
        outputs.append(client.get(f"/api/v1/mail-accounts/{account.pk}/diagnostics/").content.decode())
    page = Client()
    page.force_login(user_s)
    run = DiagnosticRun.objects.get(account=account)
    for url in ("/settings/email/", f"/settings/email/runs/{run.pk}/", f"/settings/email/runs/{run.pk}/steps/"):
        outputs.append(page.get(url).content.decode())
    admin = Client()
    admin.force_login(admin_a)
    outputs.append(admin.get(f"/admin/mailsettings/mailaccount/{account.pk}/change/").content.decode())
    steps = DiagnosticStep.objects.filter(run__account=account)
    outputs.append(json.dumps([[s.details, s.message] for s in steps]))
    assert any("AUTHENTICATE XOAUTH2 ***" in line for s in steps for line in s.details.get("transcript", []))
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_auditevent")
        outputs.append(repr(cursor.fetchall()))
        cursor.execute("SELECT access_token, refresh_token FROM mailsettings_oauthcredential")
        stored = cursor.fetchall()
    # The test authorization server runs in this process: its own (server-side) Authlib grant logs do name the
    # tokens it issues, and are not ours. Everything else logged (ours, Authlib's client, requests) is scanned.
    ours = [r for r in caplog.records if not r.name.startswith(("authlib.oauth2.rfc6749", "werkzeug"))]
    assert any(r.name.startswith("diagnostics") or r.name == "django.request" or r.name.startswith("urllib3")
               for r in ours)
    outputs.append("\n".join(f"{r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in ours))
    assert published, "the run and the refresh went through the broker"
    # The sign-in and each refresh schedule the next refresh shortly before expiry: ids only, with an ETA.
    scheduled = [json.loads(m) for m in published if "diagnostics.tasks_oauth.refresh_token" in m]
    assert any(m["headers"].get("eta") for m in scheduled)
    assert all(m["body"][0] == [account.pk] for m in scheduled)
    outputs.extend(published)

    everything = "\n".join(outputs)
    for secret in secrets:
        assert secret not in everything
    assert '"oauth":{"provider":"generic"' in outputs[0]
    for value in stored[0]:  # at rest: ciphertext only
        assert value and not any(value == s for s in secrets) and value.startswith("gAAAA")


def test_the_admin_stores_a_client_secret_encrypted_and_never_shows_it(admin_a, admin_x):
    client = Client()
    client.force_login(admin_a)
    secret = "acme-client-s3cret-sentinel"
    added = client.post("/admin/mailsettings/oauthclient/add/", {
        "provider": "microsoft", "client_id": "acme-app", "client_secret": secret, "tenant": "acme.onmicrosoft.com"})
    assert added.status_code == 302, added.content.decode()[:3000]
    row = OAuthClient.objects.get()
    assert row.organization_id == admin_a.organization_id and row.client_secret == secret
    with connection.cursor() as cursor:
        cursor.execute("SELECT client_secret FROM mailsettings_oauthclient")
        assert secret not in cursor.fetchone()[0]
    change = client.get(f"/admin/mailsettings/oauthclient/{row.pk}/change/").content.decode()
    listing = client.get("/admin/mailsettings/oauthclient/").content.decode()
    assert "acme-app" in listing and secret not in change and secret not in listing
    kept = client.post(f"/admin/mailsettings/oauthclient/{row.pk}/change/", {
        "provider": "microsoft", "client_id": "acme-app-2", "client_secret": "", "tenant": "acme.onmicrosoft.com"})
    assert kept.status_code == 302
    row.refresh_from_db()
    assert (row.client_id, row.client_secret) == ("acme-app-2", secret)  # an empty box keeps the stored secret
    bad_tenant = client.post("/admin/mailsettings/oauthclient/add/", {
        "provider": "google", "client_id": "x", "client_secret": "y", "tenant": "evil/../path"})
    assert bad_tenant.status_code == 200 and "tenant ID or domain" in bad_tenant.content.decode()
    twice = client.post("/admin/mailsettings/oauthclient/add/", {
        "provider": "microsoft", "client_id": "x", "client_secret": "y"})
    assert twice.status_code == 200 and "already has a client for this provider" in twice.content.decode()
    outsider = Client()
    outsider.force_login(admin_x)
    assert outsider.get(f"/admin/mailsettings/oauthclient/{row.pk}/change/").status_code in (302, 404)
    assert "acme-app" not in outsider.get("/admin/mailsettings/oauthclient/").content.decode()


def test_rotation_reencrypts_tokens_and_client_secrets(settings, user_s, org1, oauth_provider, dovecot_oauth,
                                                       smtp_oauth, test_ca):
    account = bind_with_oauth(user_s, dovecot=dovecot_oauth, smtp_oauth=smtp_oauth, ca_file=test_ca.ca_pem,
                              address=CAROL)
    OAuthClient.objects.create(organization=org1, provider="google", client_id="g", client_secret=APP_CLIENT_SECRET)
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), old_key]
    out = StringIO()
    call_command("rotate_encryption_keys", stdout=out)
    settings.FIELD_ENCRYPTION_KEYS = settings.FIELD_ENCRYPTION_KEYS[:1]  # the old key is gone
    credential = OAuthCredential.objects.get(account=account)
    assert credential.access_token and credential.refresh_token
    assert OAuthClient.objects.get().client_secret == APP_CLIENT_SECRET
    assert "Re-encrypted" in out.getvalue()
