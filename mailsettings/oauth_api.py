"""The only OAuth2 output of an account: `oauth: {provider, account_email, scopes, expires_at, status}` (never a
token)."""
from __future__ import annotations

from rest_framework import serializers

from mailsettings.models import AuthMethod, MailAccount
from mailsettings.models_oauth import OAuthCredential


class OAuthSummaryOutput(serializers.Serializer):
    provider = serializers.CharField()
    account_email = serializers.CharField()
    scopes = serializers.ListField(child=serializers.CharField())
    expires_at = serializers.DateTimeField(allow_null=True)
    status = serializers.CharField()


def oauth_summary(account: MailAccount) -> dict | None:
    if account.auth_method != AuthMethod.OAUTH2:
        return None
    try:
        credential = account.oauth_credential
    except OAuthCredential.DoesNotExist:
        return None
    return OAuthSummaryOutput({
        "provider": credential.provider, "account_email": credential.account_email,
        "scopes": credential.scope_list, "expires_at": credential.expires_at, "status": credential.status,
    }).data
