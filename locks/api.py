"""API views of locks. `/me/` lives here because it reports the caller's lock, and accounts must not import locks."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from locks.selectors import settings_lock_active


class OrganizationOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class LockSummaryOutput(serializers.Serializer):
    locked_by = serializers.SerializerMethodField()
    locked_at = serializers.DateTimeField()
    reason = serializers.CharField()

    def get_locked_by(self, lock) -> str | None:
        return lock.locked_by.get_full_name() if lock.locked_by else None


class MeOutput(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    role = serializers.CharField()
    is_operator = serializers.BooleanField(source="is_superuser")
    language = serializers.CharField()
    organization = OrganizationOutput(allow_null=True)
    mail_settings_locked = serializers.BooleanField()
    lock = LockSummaryOutput(allow_null=True)


class MeView(APIView):
    @extend_schema(responses=MeOutput)
    def get(self, request: Request) -> Response:
        user = request.user
        lock = settings_lock_active(user=user)
        data = {
            "id": user.pk,
            "email": user.email,
            "role": user.role,
            "is_superuser": user.is_superuser,
            "language": user.language,
            "organization": user.organization,
            "mail_settings_locked": lock is not None,
            "lock": lock,
        }
        return Response(MeOutput(data).data)
