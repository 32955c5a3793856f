"""API views of accounts: sign-in tokens and the organization's audit trail."""
from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors, services
from accounts.models import ApiToken, AuditEvent
from config.errors import InvalidInput
from config.filters import IdFilter


class TokenIssueInput(serializers.Serializer):
    email = serializers.CharField(max_length=254)
    password = serializers.CharField(max_length=256, write_only=True, trim_whitespace=False)


class TokenView(APIView):
    """POST issues a token for email + password; DELETE revokes the token that authenticates the request."""

    error_statuses = {"post": (401, 429), "delete": (400,)}

    def get_permissions(self):
        return [AllowAny()] if self.request.method == "POST" else super().get_permissions()

    def get_authenticators(self):
        # Issuing a token needs no prior authentication, and a stale session cookie must not make it fail CSRF.
        if getattr(self.request, "method", None) == "POST":
            return []
        return super().get_authenticators()

    @extend_schema(
        request=TokenIssueInput,
        responses={200: inline_serializer("TokenOutput", {"token": serializers.CharField()})},
        auth=[],
    )
    def post(self, request: Request) -> Response:
        data = TokenIssueInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.signin_authenticate(
            request=request._request,
            email=data.validated_data["email"],
            password=data.validated_data["password"],
            client_address=services.client_address(request),
        )
        _token, plain = services.api_token_issue(user=user)
        return Response({"token": plain}, status=status.HTTP_200_OK)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request) -> Response:
        if not isinstance(request.auth, ApiToken):
            raise InvalidInput(_("Send the token to revoke in the Authorization header."))
        services.api_token_revoke(token=request.auth, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class IsOrganizationAdmin(BasePermission):
    """Organization-wide lists are for the organization's admins (403 `permission_denied` for anyone else)."""

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_org_admin)


class AuditEventFilter(django_filters.FilterSet):
    action = django_filters.BaseInFilter(field_name="action", help_text=_("One action or several, comma-separated."))
    actor = IdFilter(field_name="actor_id", help_text=_("The acting user's id."))
    target = django_filters.CharFilter(method="filter_target", help_text=_('"<type>:<id>", e.g. "user:12".'))
    target_type = django_filters.CharFilter(field_name="target_type")

    class Meta:
        model = AuditEvent
        fields = ["action", "actor", "target", "target_type"]

    def filter_target(self, queryset, name, value):
        target_type, _sep, target_id = value.partition(":")
        if not target_id:
            raise InvalidInput(fields={"target": [_('Write the target as "<type>:<id>", e.g. "user:12".')]})
        return queryset.filter(target_type=target_type, target_id=target_id)


class AuditActorOutput(serializers.Serializer):
    id = serializers.IntegerField(source="actor_id", allow_null=True)
    email = serializers.CharField(source="actor_email")


class AuditTargetOutput(serializers.Serializer):
    type = serializers.CharField(source="target_type")
    id = serializers.CharField(source="target_id")
    repr = serializers.CharField(source="target_repr")


class AuditEventOutput(serializers.Serializer):
    id = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    action = serializers.CharField()
    actor = AuditActorOutput(source="*")
    target = AuditTargetOutput(source="*")
    details = serializers.JSONField()


class AuditEventListView(generics.ListAPIView):
    """The organization's audit trail, newest first (admins only)."""

    permission_classes = [IsOrganizationAdmin]
    serializer_class = AuditEventOutput
    filterset_class = AuditEventFilter
    error_statuses = {"get": (403,)}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no signed-in admin
            return AuditEvent.objects.none()
        return selectors.audit_event_list(organization=self.request.user.organization)
