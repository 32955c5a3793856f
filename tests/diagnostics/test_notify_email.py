"""Emails to an account's owner when their mail stops working and when it works again (Django's locmem backend),
the daily digest, and one message all the way through a real Celery worker and aiosmtpd."""
import datetime
import time

import pytest
from django.core import mail
from django.utils import timezone

from diagnostics.notify.emails import digests_create
from diagnostics.notify.models import EmailDelivery
from diagnostics.notify.outbox import outbox_dispatch
from diagnostics.notify.preferences import daily_digest_set
from diagnostics.notify.tasks import deliver_email
from locks.services import settings_lock_create
from tests.diagnostics.health_helpers import finish_check, make_account

HOUR = datetime.timedelta(hours=1)
T0 = timezone.now() - datetime.timedelta(days=2)


def deliver_all() -> list[str]:
    outbox_dispatch()
    pending = EmailDelivery.objects.filter(status="pending").order_by("pk").values_list("pk", flat=True)
    return [deliver_email(pk) for pk in pending]


@pytest.fixture
def working(user_s, settings):
    settings.MAILBIND_BASE_URL = "https://mailbind.example.com"
    account = make_account(user_s, "s@example.test")
    finish_check(account, "ok", at=T0)
    deliver_all()
    return account


@pytest.mark.django_db
def test_an_account_that_stops_working_mails_its_owner_once(working, user_s):
    finish_check(working, "auth_app_password_required", at=T0 + HOUR)
    assert deliver_all() == ["delivered"]
    (message,) = mail.outbox
    assert message.to == [user_s.email]
    assert message.subject == "Mail of s@example.test stopped working"
    assert "Your provider requires an app password" in message.body  # the advice title
    assert "Create an app-specific password" in message.body  # and its steps
    assert "https://mailbind.example.com/settings/email/" in message.body
    # Re-checks that fail again (even with another problem) send nothing more.
    finish_check(working, "auth_app_password_required", at=T0 + 2 * HOUR)
    finish_check(working, "port_closed", at=T0 + 3 * HOUR)
    assert deliver_all() == [] and len(mail.outbox) == 1


@pytest.mark.django_db
def test_the_owner_hears_when_it_works_again(working, user_s):
    finish_check(working, "smtp_auth_failed", at=T0 + HOUR)
    finish_check(working, "ok", at=T0 + 2 * HOUR)
    finish_check(working, "ok", at=T0 + 3 * HOUR)
    deliver_all()
    assert [m.subject for m in mail.outbox] == ["Mail of s@example.test stopped working",
                                               "Mail of s@example.test works again"]
    assert "The problem was: The outgoing server rejected the password" in mail.outbox[1].body


@pytest.mark.django_db
def test_the_mail_is_in_the_owners_language(working, user_s):
    user_s.language = "ja"
    user_s.save(update_fields=["language"])
    finish_check(working, "auth_invalid_credentials", at=T0 + HOUR)
    deliver_all()
    (message,) = mail.outbox
    assert message.subject == "s@example.test のメールが使えなくなりました"
    assert "ユーザー名またはパスワード" in message.body
    assert "https://mailbind.example.com/settings/email/" in message.body


@pytest.mark.django_db
def test_a_first_check_that_fails_mails_nobody(user_s):
    finish_check(make_account(user_s), "dns_not_found")
    assert deliver_all() == [] and mail.outbox == []


@pytest.mark.django_db
def test_locked_and_turned_off_accounts_do_not_mail(working, user_s, admin_a):
    settings_lock_create(actor=admin_a, user=user_s)
    finish_check(working, "auth_invalid_credentials", at=T0 + HOUR)
    assert deliver_all() == [] and mail.outbox == []


@pytest.mark.django_db
def test_an_account_turned_off_after_the_transition_is_not_mailed(working, user_s):
    from mailsettings.services import mail_account_disable

    finish_check(working, "auth_invalid_credentials", at=T0 + HOUR)
    outbox_dispatch()
    mail_account_disable(actor=user_s, account=working)
    delivery = EmailDelivery.objects.get(status="pending")
    assert deliver_email(delivery.pk) == "skipped"
    delivery.refresh_from_db()
    assert delivery.last_error == "account_turned_off" and mail.outbox == []


@pytest.mark.django_db
def test_a_refused_send_is_retried_later(working, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2  # nothing listens
    finish_check(working, "auth_invalid_credentials", at=T0 + HOUR)
    assert deliver_all() == ["failed"]
    delivery = EmailDelivery.objects.get()
    assert delivery.status == "pending" and delivery.attempts == 1 and delivery.next_attempt_at > timezone.now()
    assert deliver_email(delivery.pk) == "not_due"  # its time has not come


@pytest.mark.django_db
def test_an_admin_who_opts_in_gets_one_digest_a_day_listing_failing_accounts(working, admin_a, admin_b, user_s):
    daily_digest_set(user=admin_a, enabled=True)
    assert digests_create() == []  # nothing is failing: no digest
    finish_check(working, "port_closed", at=T0 + HOUR)
    deliver_all()
    mail.outbox.clear()
    created = digests_create()
    assert len(created) == 1 and digests_create() == []  # once a day
    assert deliver_email(created[0]) == "delivered"
    (message,) = mail.outbox
    assert message.to == [admin_a.email] and message.subject == "Acme: 1 mail accounts are failing"
    assert "s@example.test" in message.body and "The server refused the connection on this port" in message.body
    assert "/admin/diagnostics/mailhealth/" in message.body


@pytest.mark.django_db
def test_only_administrators_opt_in_to_the_digest(user_s):
    from config.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        daily_digest_set(user=user_s, enabled=True)


@pytest.mark.django_db
def test_the_health_page_turns_the_digest_on_and_off(client, admin_a):
    from diagnostics.notify.preferences import daily_digest_get

    client.force_login(admin_a)
    page = client.post("/admin/diagnostics/mailhealth/digest/", {"daily_digest": "on"}, follow=True)
    assert daily_digest_get(user=admin_a) and "You will get a daily email" in page.content.decode()
    client.post("/admin/diagnostics/mailhealth/digest/", {})
    assert not daily_digest_get(user=admin_a)


@pytest.mark.django_db(transaction=True)
def test_a_transition_mail_goes_through_the_worker_and_a_real_smtp_server(
        user_s, settings, smtp_starttls, test_ca, celery_worker, monkeypatch):
    from tests.servers.smtp import SMTP_USER

    monkeypatch.setenv("SSL_CERT_FILE", str(test_ca.ca_pem))  # Django's SMTP backend verifies the server
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", smtp_starttls.port
    settings.EMAIL_USE_TLS, settings.EMAIL_TIMEOUT = True, 10
    settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD = SMTP_USER, smtp_starttls.users[SMTP_USER]
    settings.DEFAULT_FROM_EMAIL = "mailbind <noreply@example.test>"
    account = make_account(user_s, "s@example.test")
    finish_check(account, "ok", at=T0)
    # The check's commit triggers the dispatcher on the worker, which makes the mail and sends it.
    finish_check(account, "auth_invalid_credentials", at=T0 + HOUR)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        received = [m for m in smtp_starttls.messages if user_s.email in m.rcpt_tos]
        if received:
            break
        time.sleep(0.1)
    assert len(received) == 1, "no mail reached aiosmtpd"
    assert b"stopped working" in received[0].data
    delivery = EmailDelivery.objects.get()
    for _ in range(50):
        delivery.refresh_from_db()
        if delivery.status == "delivered":
            break
        time.sleep(0.1)
    assert delivery.status == "delivered" and delivery.attempts == 1
