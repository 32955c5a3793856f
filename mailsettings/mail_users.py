"""Reads of "mail users": an organization's users with their mail binding and lock state, for the admins' list
(`GET /api/v1/users/`) and the admin's "Security settings > Mail users" page. It lives in mailsettings because it
needs both mail accounts and locks (locks never imports mailsettings)."""
from __future__ import annotations

from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet

from accounts.models import Organization, User
from locks.models import SettingsLock
from locks.selectors import settings_lock_exists_for
from mailsettings.models import MailAccount


def mail_users_annotate(users: QuerySet) -> QuerySet:
    """Add `has_mail_account` and `mail_settings_locked`, and prefetch what a row shows (two queries, not 2 per row)."""
    accounts = MailAccount.objects.only(
        "id", "owner_id", "address", "protocol", "status", "disabled_at", "created_at"
    ).order_by(F("disabled_at").desc(nulls_first=True), "-created_at")  # the active binding first, then the newest
    locks = SettingsLock.objects.filter(released_at__isnull=True).select_related("locked_by")
    return users.annotate(
        has_mail_account=Exists(MailAccount.objects.filter(owner=OuterRef("pk"), disabled_at__isnull=True)),
        mail_settings_locked=settings_lock_exists_for(),
    ).prefetch_related(
        Prefetch("mail_accounts", queryset=accounts, to_attr="mail_accounts_newest_first"),
        Prefetch("settings_locks", queryset=locks, to_attr="active_settings_locks"),
    )


def mail_user_list(*, organization: Organization) -> QuerySet[User]:
    return mail_users_annotate(User.objects.filter(organization=organization).order_by("email"))


def mail_users_bound_or_locked(users: QuerySet) -> QuerySet:
    """Only users with an active mail binding or a lock: who the "Mail users" page is about."""
    return users.filter(Q(has_mail_account=True) | Q(mail_settings_locked=True))


def mail_user_account(user) -> MailAccount | None:
    """The account a row shows: the active binding, else the most recently turned-off one, else None."""
    accounts = getattr(user, "mail_accounts_newest_first", None)
    if accounts is None:
        accounts = list(user.mail_accounts.order_by(F("disabled_at").desc(nulls_first=True), "-created_at")[:1])
    return accounts[0] if accounts else None


def mail_user_lock(user) -> SettingsLock | None:
    locks = getattr(user, "active_settings_locks", None)
    if locks is None:
        locks = list(SettingsLock.objects.filter(user=user, released_at__isnull=True).select_related("locked_by"))
    return locks[0] if locks else None
