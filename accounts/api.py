"""API views of accounts: sign-in tokens."""
from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services
from accounts.models import ApiToken
from config.errors import InvalidInput


def client_address(request) -> str:
    return request.META.get("REMOTE_ADDR") or "unknown"


class TokenIssueInput(serializers.Serializer):
    email = serializers.CharField(max_length=254)
    password = serializers.CharField(max_length=256, write_only=True, trim_whitespace=False)


class TokenView(APIView):
    """POST issues a token for email + password; DELETE revokes the token that authenticates the request."""

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
            client_address=client_address(request),
        )
        _token, plain = services.api_token_issue(user=user)
        return Response({"token": plain}, status=status.HTTP_200_OK)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request) -> Response:
        if not isinstance(request.auth, ApiToken):
            raise InvalidInput(_("Send the token to revoke in the Authorization header."))
        services.api_token_revoke(token=request.auth, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
