"""`GET /api/v1/users/`: the admin's list of their organization's users with mail binding and lock state."""
from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema_field
from rest_framework import generics, serializers

from accounts.api import IsOrganizationAdmin
from accounts.models import User
from config.filters import StrictBooleanFilter
from locks.api import LockSummaryOutput
from mailsettings.mail_users import mail_user_account, mail_user_list, mail_user_lock


class UserMailAccountOutput(serializers.Serializer):
    id = serializers.IntegerField()
    address = serializers.CharField()
    protocol = serializers.CharField()
    status = serializers.CharField()


class MailUserOutput(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    full_name = serializers.CharField()
    role = serializers.CharField()
    is_active = serializers.BooleanField()
    has_mail_account = serializers.BooleanField()
    mail_account = serializers.SerializerMethodField()
    mail_settings_locked = serializers.BooleanField()
    lock = serializers.SerializerMethodField()

    @extend_schema_field(UserMailAccountOutput(allow_null=True))
    def get_mail_account(self, user) -> dict | None:
        account = mail_user_account(user)
        return UserMailAccountOutput(account).data if account is not None else None

    @extend_schema_field(LockSummaryOutput(allow_null=True))
    def get_lock(self, user) -> dict | None:
        lock = mail_user_lock(user)
        return LockSummaryOutput(lock).data if lock is not None else None


class MailUserFilter(django_filters.FilterSet):
    role = django_filters.ChoiceFilter(choices=User.Role.choices)
    locked = StrictBooleanFilter(field_name="mail_settings_locked")
    has_mail_account = StrictBooleanFilter(field_name="has_mail_account")

    class Meta:
        model = User
        fields = ["role", "locked", "has_mail_account"]


class UserListView(generics.ListAPIView):
    """The organization's users (admins only), each with their mail account if any and lock state."""

    permission_classes = [IsOrganizationAdmin]
    serializer_class = MailUserOutput
    filterset_class = MailUserFilter
    error_statuses = {"get": (403,)}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no signed-in admin
            return User.objects.none()
        return mail_user_list(organization=self.request.user.organization)
