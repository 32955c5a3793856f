"""Webhooks against a real loopback HTTPS receiver: endpoints and their rules, signed deliveries, retries with
backoff (through a real Celery worker), the delivery log, and the outbound policy."""
import datetime
import json
import re
import time

import pytest
from django.utils import timezone

from accounts.models import AuditEvent
from config.errors import InvalidInput
from diagnostics.notify.models import EventDispatch, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from diagnostics.notify.outbox import outbox_dispatch
from diagnostics.notify.signing import signature_valid
from diagnostics.notify.tasks import deliver_webhook, notify_resume
from diagnostics.notify.webhooks import (
    webhook_endpoint_create,
    webhook_endpoint_rotate_secret,
    webhook_test_send,
    webhook_url_clean,
)
from locks.services import settings_lock_create, settings_lock_release
from tests.diagnostics.health_helpers import finish_check, make_account
from tests.helpers import LOOPBACK_NETWORKS
from tests.servers.webhook_receiver import running_webhook_receiver

ALL_EVENTS = ["account.status_changed", "account.settings_changed", "account.locked", "account.unlocked",
              "run.finished"]


@pytest.fixture
def loopback_webhooks(settings, test_ca):
    """Endpoints on loopback are allowed and trust the test CA; retries wait 1 s, then 2, 4..."""
    settings.WEBHOOKS_ALLOWED_NETWORKS = LOOPBACK_NETWORKS
    settings.WEBHOOKS_CA_FILE = str(test_ca.ca_pem)
    settings.WEBHOOKS_TIMEOUT = 5.0
    settings.NOTIFY_RETRY_BASE = 1.0
    settings.NOTIFY_RETRY_MAX = 8.0
    return settings


@pytest.fixture
def receiver(test_ca):
    with running_webhook_receiver(certs=test_ca) as server:
        yield server


def endpoint_for(admin, url, events=ALL_EVENTS):
    return webhook_endpoint_create(actor=admin, organization=admin.organization, url=url, events=events)


# --- endpoints --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [
    "http://hooks.example.com/x",  # not https
    "https://user:pw@hooks.example.com/x",
    "https://10.0.0.1/x", "https://169.254.169.254/latest", "https://127.0.0.1/x", "https://[::1]/x",
    "https://localhost/x", "https://[::ffff:10.0.0.1]/x", "ftp://hooks.example.com", "https:///nohost",
])
def test_registering_refuses_what_is_not_a_public_https_address(url, settings):
    settings.WEBHOOKS_ALLOWED_NETWORKS = []
    with pytest.raises(InvalidInput) as error:
        webhook_url_clean(url)
    assert error.value.fields["url"]


def test_registering_accepts_a_public_name_and_a_loopback_address_once_allowed(settings):
    settings.WEBHOOKS_ALLOWED_NETWORKS = []
    assert webhook_url_clean(" https://hooks.example.com/mailbind ") == "https://hooks.example.com/mailbind"
    settings.WEBHOOKS_ALLOWED_NETWORKS = LOOPBACK_NETWORKS
    assert webhook_url_clean("https://127.0.0.1:8443/x") == "https://127.0.0.1:8443/x"


@pytest.mark.django_db
def test_the_secret_is_returned_once_and_stored_encrypted(admin_a):
    from django.db import connection

    endpoint, secret = endpoint_for(admin_a, "https://hooks.example.com/a", ["run.finished"])
    assert secret.startswith("whsec_") and len(secret) > 30
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM diagnostics_webhookendpoint WHERE id = %s", [endpoint.pk])
        stored = cursor.fetchone()[0]
    assert secret not in stored
    event = AuditEvent.objects.get(action="webhook_endpoint.created")
    assert secret not in json.dumps(event.details)
    new = webhook_endpoint_rotate_secret(actor=admin_a, endpoint=endpoint)
    assert new != secret and WebhookEndpoint.objects.get(pk=endpoint.pk).secret == new


@pytest.mark.django_db
def test_another_organizations_admin_and_a_standard_user_cannot_manage_endpoints(admin_a, admin_x, user_s):
    from config.errors import NotFound, PermissionDenied

    endpoint, _secret = endpoint_for(admin_a, "https://hooks.example.com/a")
    with pytest.raises(NotFound):
        webhook_endpoint_rotate_secret(actor=admin_x, endpoint=endpoint)
    with pytest.raises(PermissionDenied):
        webhook_test_send(actor=user_s, endpoint=endpoint)


@pytest.mark.django_db
def test_the_admin_shows_the_secret_on_the_page_after_adding_and_never_again(client, admin_a):
    client.force_login(admin_a)
    response = client.post("/admin/diagnostics/webhookendpoint/add/", {
        "url": "https://hooks.example.com/added", "description": "CRM", "events": ["account.status_changed"],
        "active": "on",
    })
    page = response.content.decode()
    secret = re.search(r'id="webhook-secret" value="(whsec_[^"]+)"', page).group(1)
    assert "no-store" in response["Cache-Control"]
    endpoint = WebhookEndpoint.objects.get(url="https://hooks.example.com/added")
    assert endpoint.secret == secret and endpoint.organization == admin_a.organization
    change = client.get(f"/admin/diagnostics/webhookendpoint/{endpoint.pk}/change/").content.decode()
    assert secret not in change and "Send test event" in change
    listing = client.get("/admin/diagnostics/webhookendpoint/").content.decode()
    assert "A mail account&#x27;s status changed" in listing and secret not in listing


@pytest.mark.django_db
def test_the_admin_form_refuses_a_private_address_with_a_sentence(client, admin_a, settings):
    settings.WEBHOOKS_ALLOWED_NETWORKS = []
    client.force_login(admin_a)
    page = client.post("/admin/diagnostics/webhookendpoint/add/", {
        "url": "https://192.168.1.10/hook", "events": ["run.finished"], "active": "on"}).content.decode()
    assert "local and private addresses are refused" in page
    assert not WebhookEndpoint.objects.exists()


# --- events become deliveries -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_events_become_deliveries_for_the_endpoints_that_listen_only(admin_a, admin_b, user_s, admin_x):
    status_only, _ = endpoint_for(admin_a, "https://hooks.example.com/status", ["account.status_changed"])
    locks_only, _ = endpoint_for(admin_a, "https://hooks.example.com/locks", ["account.locked", "account.unlocked"])
    other_org, _ = endpoint_for(admin_x, "https://hooks.example.com/globex", ALL_EVENTS)
    account = make_account(user_s)
    finish_check(account, "ok")
    finish_check(account, "auth_invalid_credentials")
    settings_lock_create(actor=admin_a, user=user_s, reason="review")
    settings_lock_release(actor=admin_b, user=user_s)
    outbox_dispatch()
    assert list(status_only.deliveries.values_list("event_type", flat=True)) == ["account.status_changed"] * 2
    assert sorted(locks_only.deliveries.values_list("event_type", flat=True)) == ["account.locked",
                                                                                  "account.unlocked"]
    assert not other_org.deliveries.exists()
    assert outbox_dispatch() == 0  # every event has its receipt: nothing is made twice
    latest = status_only.deliveries.order_by("-id").first().payload
    assert latest["type"] == "account.status_changed" and latest["organization"]["name"] == "Acme"
    assert latest["data"]["previous_status"] == "connected" and latest["data"]["status"] == "auth_failed"
    assert latest["data"]["outcome_title"] == "The user name or password was not accepted"
    assert latest["data"]["account"]["address"] == account.address
    assert "not-the-real-one" not in json.dumps(latest) and "password" not in json.dumps(latest["data"]["account"])


@pytest.mark.django_db
def test_a_settings_change_names_the_fields_never_the_password(admin_a, user_s):
    from mailsettings.services import mail_account_password_change

    endpoint, _ = endpoint_for(admin_a, "https://hooks.example.com/settings", ["account.settings_changed"])
    account = make_account(user_s)
    mail_account_password_change(actor=user_s, account=account, password="Brand-new-Secret-42", apply_to="both")
    outbox_dispatch()
    payload = endpoint.deliveries.get().payload
    assert payload["data"]["change"] == "password_changed" and payload["data"]["fields"] == ["incoming_password"]
    assert "Brand-new-Secret-42" not in json.dumps(payload)


@pytest.mark.django_db
def test_a_finished_run_is_an_event_only_when_an_endpoint_listens(admin_a, user_s):
    account = make_account(user_s)
    finish_check(account, "ok")
    assert not AuditEvent.objects.filter(action="diagnostic.finished").exists()
    endpoint, _ = endpoint_for(admin_a, "https://hooks.example.com/runs", ["run.finished"])
    run = finish_check(account, "ok")
    outbox_dispatch()
    payload = endpoint.deliveries.get().payload
    assert payload["type"] == "run.finished"
    assert payload["data"]["run"] == {**payload["data"]["run"], "id": run.pk, "status": "passed", "kind": "account"}


@pytest.mark.django_db
def test_an_event_whose_dispatch_died_before_commit_is_handled_by_the_next_pass(admin_a, user_s, monkeypatch):
    from diagnostics.notify import outbox

    endpoint, _ = endpoint_for(admin_a, "https://hooks.example.com/a", ["account.status_changed"])
    finish_check(make_account(user_s), "ok")

    def dies(event):  # the worker is killed between reading the event and committing its deliveries
        raise SystemExit("worker killed")

    real = outbox._deliveries_for
    monkeypatch.setattr(outbox, "_deliveries_for", dies)
    with pytest.raises(SystemExit):
        outbox_dispatch()
    assert not EventDispatch.objects.exists() and not endpoint.deliveries.exists()
    monkeypatch.setattr(outbox, "_deliveries_for", real)
    notify_resume()  # beat's pass
    assert endpoint.deliveries.count() == 1 and EventDispatch.objects.count() == 1


@pytest.mark.django_db
def test_events_older_than_the_horizon_are_not_notified(admin_a, user_s, settings):
    endpoint, _ = endpoint_for(admin_a, "https://hooks.example.com/a", ["account.status_changed"])
    finish_check(make_account(user_s), "ok")
    AuditEvent.objects.filter(action="mail_account.status_changed").update(
        created_at=timezone.now() - datetime.timedelta(seconds=settings.NOTIFY_OUTBOX_HORIZON + 60))
    assert outbox_dispatch() == 0 and not endpoint.deliveries.exists()


# --- sending ----------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_delivery_is_signed_over_timestamp_and_body_and_the_signature_verifies(admin_a, loopback_webhooks,
                                                                                  receiver):
    endpoint, secret = endpoint_for(admin_a, receiver.url())
    delivery = webhook_test_send(actor=admin_a, endpoint=endpoint)
    assert deliver_webhook(delivery.pk) == "delivered"
    (request,) = receiver.wait_for(1)
    headers = {k.lower(): v for k, v in request.headers.items()}
    assert request.path == "/hooks/mailbind" and headers["content-type"] == "application/json"
    assert headers["x-mailbind-event"] == "webhook.test" and headers["x-mailbind-delivery"] == str(delivery.event_uid)
    assert signature_valid(secret=secret, timestamp=headers["x-mailbind-timestamp"], body=request.body,
                           header=headers["x-mailbind-signature"], now=time.time())
    assert not signature_valid(secret="whsec_wrong", timestamp=headers["x-mailbind-timestamp"], body=request.body,
                               header=headers["x-mailbind-signature"], now=time.time())
    assert not signature_valid(secret=secret, timestamp=headers["x-mailbind-timestamp"], body=request.body + b" ",
                               header=headers["x-mailbind-signature"], now=time.time())
    body = json.loads(request.body)
    assert body["id"] == str(delivery.event_uid) and body["type"] == "webhook.test"
    assert secret not in request.body.decode()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 200)


@pytest.mark.django_db(transaction=True)
def test_a_500_is_retried_with_exponential_backoff_and_the_log_shows_each_attempt(
        admin_a, loopback_webhooks, test_ca, celery_worker, client):
    with running_webhook_receiver(certs=test_ca, statuses=[500, 500, 200]) as hooks:
        endpoint, _secret = endpoint_for(admin_a, hooks.url())
        delivery = webhook_test_send(actor=admin_a, endpoint=endpoint)  # published after commit, to the worker
        requests = hooks.wait_for(3, timeout=30)
        for _ in range(100):
            delivery.refresh_from_db()
            if delivery.status == "delivered":
                break
            time.sleep(0.1)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 3, 200)
    first_wait, second_wait = requests[1].at - requests[0].at, requests[2].at - requests[1].at
    assert first_wait >= 0.9 and second_wait >= 1.9  # 1 s, then 2 s (NOTIFY_RETRY_BASE doubled)
    attempts = list(WebhookAttempt.objects.filter(delivery=delivery).values_list("number", "status_code"))
    assert attempts == [(1, 500), (2, 500), (3, 200)]
    client.force_login(admin_a)
    page = client.get(f"/admin/diagnostics/webhookdelivery/{delivery.pk}/change/").content.decode()
    assert page.count("<td>500</td>") == 2 and "<td>200</td>" in page
    listing = client.get("/admin/diagnostics/webhookdelivery/").content.decode()
    assert "Test event" in listing and "Delivered" in listing


@pytest.mark.django_db
def test_a_failing_endpoint_gives_up_after_a_day(admin_a, loopback_webhooks, test_ca):
    with running_webhook_receiver(certs=test_ca, statuses=[503]) as hooks:
        endpoint, _ = endpoint_for(admin_a, hooks.url())
        delivery = webhook_test_send(actor=admin_a, endpoint=endpoint)
        assert deliver_webhook(delivery.pk) == "failed"
        delivery.refresh_from_db()
        assert delivery.status == "pending" and delivery.last_error == "http_503"
        wait = (delivery.next_attempt_at - timezone.now()).total_seconds()
        assert 0 < wait <= 1.0
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            created_at=timezone.now() - datetime.timedelta(days=1), next_attempt_at=timezone.now())
        assert deliver_webhook(delivery.pk) == "failed"
    delivery.refresh_from_db()
    assert delivery.status == "failed" and delivery.next_attempt_at is None and delivery.attempts == 2


@pytest.mark.django_db
def test_an_endpoint_on_a_private_address_is_refused_at_delivery_and_nothing_is_sent(admin_a, settings, test_ca):
    settings.WEBHOOKS_CA_FILE = str(test_ca.ca_pem)
    with running_webhook_receiver(certs=test_ca) as hooks:
        settings.WEBHOOKS_ALLOWED_NETWORKS = LOOPBACK_NETWORKS
        endpoint, _ = endpoint_for(admin_a, hooks.url())
        settings.WEBHOOKS_ALLOWED_NETWORKS = []  # the operator closed loopback since (or the name now points there)
        delivery = webhook_test_send(actor=admin_a, endpoint=endpoint)
        assert deliver_webhook(delivery.pk) == "failed"
        time.sleep(0.2)
        assert hooks.requests == []
    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_error) == ("failed", "target_not_allowed")  # permanent: no retry
    assert WebhookAttempt.objects.get(delivery=delivery).error == "target_not_allowed"


@pytest.mark.django_db
def test_a_certificate_the_endpoint_cannot_prove_is_an_error_not_a_delivery(admin_a, settings, test_ca):
    settings.WEBHOOKS_ALLOWED_NETWORKS = LOOPBACK_NETWORKS
    settings.WEBHOOKS_CA_FILE = ""  # the test CA is not trusted
    settings.NOTIFY_RETRY_BASE = 1.0
    with running_webhook_receiver(certs=test_ca) as hooks:
        endpoint, _ = endpoint_for(admin_a, hooks.url())
        delivery = webhook_test_send(actor=admin_a, endpoint=endpoint)
        assert deliver_webhook(delivery.pk) == "failed"
        assert hooks.requests == []
    delivery.refresh_from_db()
    assert delivery.last_error == "tls_error" and delivery.status == "pending"


@pytest.mark.django_db
def test_a_delivery_whose_message_was_lost_is_published_again_by_the_sweep(admin_a, settings):
    from diagnostics.notify.delivery import deliveries_due, deliveries_stale

    endpoint, _ = endpoint_for(admin_a, "https://hooks.example.com/a")
    lost = WebhookDelivery.objects.create(endpoint=endpoint, organization=endpoint.organization, event_type="x",
                                          next_attempt_at=timezone.now() - datetime.timedelta(minutes=5))
    dead = WebhookDelivery.objects.create(endpoint=endpoint, organization=endpoint.organization, event_type="y",
                                          status="sending", attempts=1,
                                          claimed_at=timezone.now() - datetime.timedelta(hours=1))
    fresh = WebhookDelivery.objects.create(endpoint=endpoint, organization=endpoint.organization, event_type="z")
    now = timezone.now()
    assert deliveries_stale(WebhookDelivery, now=now) == 1
    due = deliveries_due(WebhookDelivery, now=now + datetime.timedelta(seconds=settings.NOTIFY_RESUME_GRACE + 1))
    assert set(due) == {lost.pk, dead.pk, fresh.pk}
    assert set(deliveries_due(WebhookDelivery, now=now)) == {lost.pk}  # a fresh one still has its message


@pytest.mark.django_db
def test_rotating_the_encryption_keys_re_encrypts_webhook_secrets_too(admin_a, settings):
    from io import StringIO

    from cryptography.fernet import Fernet
    from django.core.management import call_command
    from django.db import connection

    endpoint, secret = endpoint_for(admin_a, "https://hooks.example.com/a", ["run.finished"])
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    out = StringIO()
    call_command("rotate_encryption_keys", stdout=out)
    assert "Re-encrypted 1 webhook endpoint row(s)" in out.getvalue()
    settings.FIELD_ENCRYPTION_KEYS = [new_key]  # the old key is gone: the secret still reads
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).secret == secret
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM diagnostics_webhookendpoint WHERE id = %s", [endpoint.pk])
        assert Fernet(new_key.encode()).decrypt(cursor.fetchone()[0].encode()).decode() == secret
