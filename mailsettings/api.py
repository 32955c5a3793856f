"""API views of mail accounts: thin entry points over services and selectors, explicit input and output
serializers. Passwords are write-only: no output serializer has a password field."""
from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from config.errors import InvalidInput
from config.pagination import StandardPagination
from mailsettings import selectors, services
from mailsettings.models import AccountStatus, MailAccount, Protocol
from mailsettings.oauth_api import OAuthSummaryOutput, oauth_summary
from mailsettings.oauth_providers import oauth_option
from mailsettings.validation import MAX_PASSWORD_LENGTH
from mailsettings.warnings import account_warnings

# --- serializers ----------------------------------------------------------------------------------------------


def _password_field() -> serializers.CharField:
    # Spaces are part of a password; the length cap keeps a huge body out of the cipher.
    return serializers.CharField(
        write_only=True, required=False, trim_whitespace=False, allow_blank=True, max_length=MAX_PASSWORD_LENGTH
    )


class MailAccountInput(serializers.Serializer):
    """Types only; the rules (address syntax, host names, ports, choices, credentials) live in the service."""

    address = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False, max_length=512)
    protocol = serializers.CharField(required=False, max_length=16)
    incoming_host = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False, max_length=512)
    incoming_port = serializers.IntegerField(required=False)
    incoming_security = serializers.CharField(required=False, allow_blank=True, max_length=16)
    incoming_username = serializers.CharField(required=False, allow_blank=True, max_length=512)
    incoming_password = _password_field()
    smtp_host = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False, max_length=512)
    smtp_port = serializers.IntegerField(required=False)
    smtp_security = serializers.CharField(required=False, allow_blank=True, max_length=16)
    smtp_username = serializers.CharField(required=False, allow_blank=True, max_length=512)
    smtp_password = _password_field()
    smtp_same_credentials = serializers.BooleanField(required=False)
    save_sent_on_server = serializers.BooleanField(required=False)
    auth_method = serializers.CharField(
        required=False, allow_blank=True, max_length=16,
        help_text="password (default). OAuth2 bindings are made through POST mail-accounts/oauth/start/.",
    )


class MailAccountRegisterInput(MailAccountInput):
    owner = serializers.IntegerField(required=False, allow_null=True)


class PasswordChangeInput(serializers.Serializer):
    password = serializers.CharField(write_only=True, trim_whitespace=False, max_length=MAX_PASSWORD_LENGTH)
    apply_to = serializers.CharField(required=False, allow_blank=True, max_length=16)


class WarningOutput(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class MailAccountOutput(serializers.Serializer):
    id = serializers.IntegerField()
    owner = serializers.IntegerField(source="owner_id")
    address = serializers.CharField()
    protocol = serializers.CharField()
    incoming_host = serializers.CharField()
    incoming_port = serializers.IntegerField()
    incoming_security = serializers.CharField()
    incoming_username = serializers.CharField()
    smtp_host = serializers.CharField()
    smtp_port = serializers.IntegerField()
    smtp_security = serializers.CharField()
    smtp_same_credentials = serializers.BooleanField()
    smtp_username = serializers.CharField()
    save_sent_on_server = serializers.BooleanField()
    auth_method = serializers.CharField()
    oauth = serializers.SerializerMethodField()
    status = serializers.CharField()
    last_checked_at = serializers.DateTimeField(allow_null=True)
    last_error_code = serializers.CharField()
    warnings = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    @extend_schema_field(OAuthSummaryOutput(allow_null=True))
    def get_oauth(self, account: MailAccount) -> dict | None:
        return oauth_summary(account)

    @extend_schema_field(WarningOutput(many=True))
    def get_warnings(self, account: MailAccount) -> list[dict]:
        return [warning.to_dict() for warning in account_warnings(account)]


def _account_body(account: MailAccount) -> dict:
    return MailAccountOutput(account).data


def _validated(serializer_class: type[serializers.Serializer], data, *, partial: bool = False) -> dict:
    serializer = serializer_class(data=data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


# --- views ----------------------------------------------------------------------------------------------------


class MailAccountListView(APIView):
    """GET lists the accounts the caller may see; POST registers one (the caller's, or `owner`'s for an admin)."""

    pagination_class = StandardPagination  # the schema documents the page envelope from it
    error_statuses = {"get": (403,), "post": (404, 409)}

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=AccountStatus.values),
            OpenApiParameter("protocol", str, enum=Protocol.values),
            OpenApiParameter("owner", int),
            OpenApiParameter("address", str),
        ],
        responses=MailAccountOutput(many=True),
    )
    def get(self, request: Request) -> Response:
        accounts = selectors.mail_account_list(actor=request.user, filters=request.query_params.dict())
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(accounts, request, view=self)
        return paginator.get_paginated_response(MailAccountOutput(page, many=True).data)

    @extend_schema(request=MailAccountRegisterInput, responses={201: MailAccountOutput})
    def post(self, request: Request) -> Response:
        data = _validated(MailAccountRegisterInput, request.data)
        owner = selectors.mail_account_owner_get(actor=request.user, owner_id=data.pop("owner", None))
        account = services.mail_account_register(actor=request.user, owner=owner, data=data)
        return Response(_account_body(account), status=status.HTTP_201_CREATED)


class MailAccountDetailView(APIView):
    """GET one account; PATCH some of its settings; DELETE turns it off (kept for history, address freed)."""

    error_statuses = {"get": (403,), "patch": (409,)}

    @extend_schema(responses=MailAccountOutput)
    def get(self, request: Request, account_id: int) -> Response:
        account = selectors.mail_account_get(actor=request.user, account_id=account_id)
        return Response(_account_body(account))

    @extend_schema(request=MailAccountInput, responses=MailAccountOutput)
    def patch(self, request: Request, account_id: int) -> Response:
        account = selectors.mail_account_get(actor=request.user, account_id=account_id)
        data = _validated(MailAccountInput, request.data, partial=True)
        account = services.mail_account_update(actor=request.user, account=account, data=data)
        return Response(_account_body(account))

    @extend_schema(request=None, responses={200: MailAccountOutput})
    def delete(self, request: Request, account_id: int) -> Response:
        account = selectors.mail_account_get(actor=request.user, account_id=account_id)
        account = services.mail_account_disable(actor=request.user, account=account)
        return Response(_account_body(account))


class MailAccountEnableView(APIView):
    """POST turns a turned-off account back on, if its address is still free."""

    error_statuses = {"post": (409,)}

    @extend_schema(request=None, responses=MailAccountOutput)
    def post(self, request: Request, account_id: int) -> Response:
        account = selectors.mail_account_get(actor=request.user, account_id=account_id)
        account = services.mail_account_enable(actor=request.user, account=account)
        return Response(_account_body(account))


class MailAccountPasswordView(APIView):
    """POST sets a new password for the incoming server, the outgoing one, or both."""

    error_statuses = {"post": (409,)}

    @extend_schema(request=PasswordChangeInput, responses=MailAccountOutput)
    def post(self, request: Request, account_id: int) -> Response:
        account = selectors.mail_account_get(actor=request.user, account_id=account_id)
        data = _validated(PasswordChangeInput, request.data)
        account = services.mail_account_password_change(
            actor=request.user, account=account, password=data["password"], apply_to=data.get("apply_to") or None
        )
        return Response(_account_body(account))


class AddressAvailabilityView(APIView):
    """GET ?address= → whether the (normalized) address may be bound now."""

    # Forms ask as the user types: a generous rate, but no free enumeration of bound addresses.
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "lookups"
    error_statuses = {"get": (403, 429)}

    @extend_schema(
        parameters=[OpenApiParameter("address", str, required=True)],
        responses=inline_serializer(
            "AddressAvailability",
            {
                "address": serializers.CharField(),
                "available": serializers.BooleanField(),
                "code": serializers.CharField(allow_null=True),
            },
        ),
    )
    def get(self, request: Request) -> Response:
        answer = selectors.address_availability(actor=request.user, address=request.query_params.get("address"))
        return Response(answer)


class ProviderDetectView(APIView):
    """GET ?address=[&protocol=imap|pop3][&mode=local|full] → the provider serving the domain and the settings to use.

    mode=local answers from local knowledge at once (our table, the bundled ISPDB); `complete` false says that a
    full look-up (the default: autoconfig, SRV, MX, verified probing, within DISCOVERY_DEADLINE) may find better."""

    throttle_classes = [ScopedRateThrottle]  # each full answer may cost DNS, HTTPS and probe connections
    throttle_scope = "lookups"
    error_statuses = {"get": (403, 429)}

    @extend_schema(
        parameters=[OpenApiParameter("address", str, required=True),
                    OpenApiParameter("protocol", str, enum=["imap", "pop3"]),
                    OpenApiParameter("mode", str, enum=["local", "full"])],
        responses=inline_serializer(
            "ProviderDetection",
            {
                "domain": serializers.CharField(),
                "provider": serializers.DictField(allow_null=True),
                "mx": serializers.ListField(child=serializers.CharField()),
                "incoming": serializers.DictField(),
                "outgoing": serializers.DictField(),
                "source": serializers.CharField(),
                "verified": serializers.BooleanField(),
                "oauth2_only": serializers.BooleanField(),
                "complete": serializers.BooleanField(),
                "notes": serializers.ListField(child=serializers.DictField()),
                "candidates": serializers.ListField(child=serializers.DictField()),
                "oauth": serializers.DictField(allow_null=True),
            },
        ),
    )
    def get(self, request: Request) -> Response:
        mode = (request.query_params.get("mode") or "full").strip().lower()
        if mode not in ("local", "full"):
            raise InvalidInput(fields={"mode": [_("Choose local or full.")]})
        detection = selectors.provider_detect(
            actor=request.user,
            address=request.query_params.get("address"),
            protocol=request.query_params.get("protocol"),
            network=mode == "full",
        )
        body = detection.to_dict()
        body["notes"] = [{"code": note["code"], "message": str(note["message"])} for note in body["notes"]]
        # Sign-in with the provider's account, when one is configured for this address (else null).
        body["oauth"] = oauth_option(mail_provider_id=detection.provider.id if detection.provider else None,
                                     domain=detection.domain, organization_id=request.user.organization_id)
        return Response(body)
