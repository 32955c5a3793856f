"""API of OAuth2 sign-in: POST mail-accounts/oauth/start/ -> {authorization_url, state, expires_at}. The person
opens authorization_url in a browser; the provider sends them back to the callback page
(/settings/email/oauth/callback/), which stores the tokens and registers the account. Then GET mail-accounts/."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from diagnostics.oauth.flow import oauth_start
from mailsettings import selectors
from mailsettings.api import MailAccountInput


class OAuthStartInput(MailAccountInput):
    provider = serializers.ChoiceField(choices=["google", "microsoft", "generic"])
    owner = serializers.IntegerField(required=False, allow_null=True)
    # An OAuth2 binding has no password and one sign-in for sending: these are not asked for.
    incoming_password = smtp_password = smtp_username = smtp_same_credentials = auth_method = None


class OAuthStartView(APIView):
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "lookups"
    error_statuses = {"post": (404, 409, 429)}  # owner not found; address or owner already bound; rate

    @extend_schema(
        request=OAuthStartInput,
        responses={200: inline_serializer("OAuthStart", {
            "authorization_url": serializers.URLField(),
            "state": serializers.CharField(),
            "expires_at": serializers.DateTimeField(),
        })},
        description=(
            "Start binding a mailbox with OAuth2 (authorization code with PKCE S256). Give the provider and the "
            "account's settings without any password (`address` and the servers; for the owner's own binding of "
            "the same address, signing in again, `address` alone). Open `authorization_url` in the mailbox "
            "owner's browser before `expires_at`; the provider redirects to /settings/email/oauth/callback/, which "
            "completes the binding (the address must be the one the provider vouches for). The state is single-use."
        ),
    )
    def post(self, request: Request) -> Response:
        serializer = OAuthStartInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        provider = data.pop("provider")
        owner = selectors.mail_account_owner_get(actor=request.user, owner_id=data.pop("owner", None))
        url, state, flow = oauth_start(request=request, actor=request.user, owner=owner, provider_id=provider,
                                       data=data, via_api=True)
        return Response({"authorization_url": url, "state": state, "expires_at": flow.expires_at})
