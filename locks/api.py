"""API views of locks. `/me/` lives here because it reports the caller's lock, and accounts must not import locks."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.selectors import user_get
from config.errors import NotFound
from locks import services
from locks.selectors import settings_lock_active


class OrganizationOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class LockSummaryOutput(serializers.Serializer):
    locked_by = serializers.CharField(source="locked_by_name", allow_null=True)
    locked_at = serializers.DateTimeField()
    reason = serializers.CharField()


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


def _display_name(user) -> str | None:
    return user.get_full_name() if user is not None else None


class LockUserOutput(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()


class LockOutput(serializers.Serializer):
    """A lock as history: who locked, why, and — once released — who released it, when and why."""

    id = serializers.IntegerField()
    user = LockUserOutput()
    active = serializers.BooleanField(source="is_active")
    locked_by = serializers.CharField(source="locked_by_name", allow_null=True)
    locked_at = serializers.DateTimeField()
    reason = serializers.CharField()
    released_by = serializers.SerializerMethodField()
    released_at = serializers.DateTimeField(allow_null=True)
    release_reason = serializers.CharField()

    def get_released_by(self, lock) -> str | None:
        return _display_name(lock.released_by)


class LockInput(serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class SettingsLockView(APIView):
    """POST locks the user's mail settings (201 the lock); DELETE releases the lock (200 the released lock)."""

    error_statuses = {"post": (409,), "delete": (409,)}

    def _target(self, request: Request, user_id: int):
        # Scoped to the caller's organization: another tenant's user is a 404, like a missing one.
        if request.user.organization_id is None:
            raise NotFound()
        return user_get(organization=request.user.organization, user_id=user_id)

    @extend_schema(request=LockInput, responses={201: LockOutput})
    def post(self, request: Request, user_id: int) -> Response:
        user = self._target(request, user_id)
        data = LockInput(data=request.data)
        data.is_valid(raise_exception=True)
        lock = services.settings_lock_create(actor=request.user, user=user, reason=data.validated_data["reason"])
        return Response(LockOutput(lock).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=LockInput, responses={200: LockOutput})
    def delete(self, request: Request, user_id: int) -> Response:
        user = self._target(request, user_id)
        # A DELETE body is optional; `?reason=` works for clients that cannot send one.
        data = LockInput(data=request.data or {"reason": request.query_params.get("reason", "")})
        data.is_valid(raise_exception=True)
        lock = services.settings_lock_release(actor=request.user, user=user, reason=data.validated_data["reason"])
        return Response(LockOutput(lock).data, status=status.HTTP_200_OK)
