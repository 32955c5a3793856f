"""The notifier's emails: to an account's owner when their mail stops working or works again (once per
transition, in their language, naming the problem and linking to their settings page), and an administrator's
daily digest of their organization's failing accounts. Sent with Django's email framework (EMAIL_* settings)."""
from __future__ import annotations

import datetime

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, override

from accounts.models import AuditEvent, User
from diagnostics.advice import advice_for
from diagnostics.labels import outcome_title
from diagnostics.notify.models import EmailDelivery, EmailKind, NotificationPreference
from locks.selectors import settings_lock_active
from mailsettings.models import MailAccount

DIGEST_ACCOUNTS_LISTED = 50


def _language(user: User) -> str:
    return user.language or settings.LANGUAGE_CODE


def _absolute(path: str) -> str:
    return settings.MAILBIND_BASE_URL.rstrip("/") + path


def why_not_mail(account: MailAccount | None, owner: User) -> str:
    """A reason not to mail about this account now, or "": turned-off and locked accounts do not mail."""
    if account is None or not account.is_active:
        return "account_turned_off"
    if not owner.is_active or not owner.email:
        return "owner_inactive"
    if settings_lock_active(user=owner) is not None:
        return "settings_locked"
    return ""


def transition_emails_for(event: AuditEvent) -> list[EmailDelivery]:
    """The owner's email for a status change that is a transition (working -> failing, failing -> working)."""
    details = event.details or {}
    kind = {"failing": EmailKind.FAILING, "recovered": EmailKind.RECOVERED}.get(details.get("transition"))
    if kind is None:
        return []
    account = MailAccount.objects.select_related("owner").filter(pk=event.target_id or 0).first()
    if account is None or why_not_mail(account, account.owner):
        return []
    outcome = details.get("outcome", "") if kind == EmailKind.FAILING else details.get("previous_outcome", "")
    return [EmailDelivery.objects.create(kind=kind, recipient=account.owner, organization_id=account.organization_id,
                                         account=account, event=event, outcome=outcome or "")]


def digests_create(*, day: datetime.date | None = None) -> list[int]:
    """One digest per opted-in administrator whose organization has failing accounts, once a day (a second call
    the same day makes none). Returns the new deliveries' ids."""
    from diagnostics.health.selectors import HealthScope, failing_accounts

    day = day or timezone.localdate()
    created = []
    admins = (User.objects.filter(notification_preference__daily_digest=True, is_active=True, role=User.Role.ADMIN,
                                  organization__isnull=False).select_related("organization"))
    for admin in admins:
        if not failing_accounts(scope=HealthScope(organization=admin.organization)).exists():
            continue
        try:
            with transaction.atomic():
                delivery = EmailDelivery.objects.create(kind=EmailKind.DIGEST, recipient=admin,
                                                        organization_id=admin.organization_id, digest_date=day)
        except IntegrityError:
            continue  # already made today
        created.append(delivery.pk)
    return created


def _since(value) -> str:
    from django.utils.formats import date_format

    return date_format(timezone.localtime(value), "DATETIME_FORMAT") if value else "—"


def email_compose(delivery: EmailDelivery) -> tuple[str, str]:
    """(subject, body) in the recipient's language."""
    recipient = delivery.recipient
    with override(_language(recipient)):
        context = {"name": recipient.get_short_name(), "settings_url": _absolute(reverse("email-settings"))}
        if delivery.kind == EmailKind.DIGEST:
            return _digest(delivery, context)
        account = delivery.account
        context["address"] = account.address
        context["title"] = str(outcome_title(delivery.outcome)) if delivery.outcome else ""
        if delivery.kind == EmailKind.FAILING:
            try:
                context["steps"] = [str(step) for step in advice_for(delivery.outcome).steps]
            except ValueError:
                context["steps"] = []
            health = getattr(account, "health", None)
            context["since"] = _since(health.since if health is not None else account.last_checked_at)
            subject = gettext("Mail of %(address)s stopped working") % {"address": account.address}
            return subject, render_to_string("diagnostics/email/failing.txt", context)
        subject = gettext("Mail of %(address)s works again") % {"address": account.address}
        return subject, render_to_string("diagnostics/email/recovered.txt", context)


def _digest(delivery: EmailDelivery, context: dict) -> tuple[str, str]:
    from diagnostics.health.selectors import HealthScope, failing_accounts

    organization = delivery.recipient.organization
    failing = failing_accounts(scope=HealthScope(organization=organization))
    total = failing.count()
    context.update(
        organization=organization.name, total=total, more=max(total - DIGEST_ACCOUNTS_LISTED, 0),
        health_url=_absolute(reverse("admin:diagnostics_mailhealth_changelist")),
        accounts=[{"address": a.address, "owner": a.owner.email, "title": str(outcome_title(a.last_error_code))
                   if a.last_error_code else a.get_status_display(), "since": _since(a.failing_since)}
                  for a in failing[:DIGEST_ACCOUNTS_LISTED]],
    )
    subject = gettext("%(organization)s: %(count)s mail accounts are failing") % {
        "organization": organization.name, "count": total}
    return subject, render_to_string("diagnostics/email/digest.txt", context)


def email_send(delivery: EmailDelivery) -> None:
    """Send one claimed email (raises what the mail backend raises: the caller retries)."""
    subject, body = email_compose(delivery)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [delivery.recipient.email], fail_silently=False)


def email_still_wanted(delivery: EmailDelivery) -> str:
    """Checked again right before sending: "" to send, else why not (the account was turned off or locked
    since; the administrator turned the digest off)."""
    if delivery.kind == EmailKind.DIGEST:
        wanted = NotificationPreference.objects.filter(user=delivery.recipient, daily_digest=True).exists()
        return "" if wanted and delivery.recipient.is_org_admin else "digest_turned_off"
    return why_not_mail(delivery.account, delivery.recipient)
