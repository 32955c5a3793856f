"""OAuth2 sign-ins in progress, and the binding they end in.

`oauth_flow_begin` checks everything a registration checks (access and lock, the settings, the one-binding rules)
before the person leaves for the provider, and keeps the pending binding with a hashed `state` and an encrypted PKCE
verifier. `oauth_flow_take` consumes it once (a replayed or forged callback finds nothing). `mail_account_oauth_bind`
stores the tokens and registers the account, or switches / renews the owner's own binding of the same address,
only when the provider vouches for that address.
"""
from __future__ import annotations

import datetime
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from typing import Any

from authlib.common.security import generate_token
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables

from accounts.models import User
from accounts.services import audit_record
from config.errors import InvalidInput
from mailsettings.access import mail_settings_check_access
from mailsettings.addresses import AddressError, normalize_address
from mailsettings.models import AccountStatus, AuthMethod, MailAccount
from mailsettings.models_oauth import OAuthCredential, OAuthFlow
from mailsettings.oauth_errors import OAuthAddressMismatch, OAuthFlowInvalid, OAuthNotConfigured
from mailsettings.oauth_providers import OAuthSetup, oauth_setup
from mailsettings.oauth_tokens import oauth_credential_fill
from mailsettings.services import _check_free, _row_locked, _save_audited
from mailsettings.validation import mail_account_clean


def state_hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def _own_active(owner: User) -> MailAccount | None:
    return MailAccount.objects.filter(owner=owner, disabled_at__isnull=True).first()


def _check_bindable(*, actor: User, owner: User, address_normalized: str) -> None:
    """The one-binding rules, with one exception: the owner's own binding of this very address may switch to
    OAuth2 or sign in again."""
    own = _own_active(owner)
    if own is not None and own.address_normalized == address_normalized:
        return
    _check_free(actor=actor, owner=owner, address_normalized=address_normalized)


@sensitive_variables("state", "verifier")
def oauth_flow_begin(
    *, actor: User, owner: User, provider_id: Any, data: Mapping[str, Any], redirect_uri: str, via_api: bool
) -> tuple[OAuthFlow, OAuthSetup, str, str]:
    """Start a sign-in for `owner`'s binding of data["address"]. Returns (flow, setup, state, code_verifier); the
    state and verifier exist in plain text only in this return value (the flow keeps a hash and ciphertext)."""
    mail_settings_check_access(actor=actor, owner=owner)
    if owner.organization_id is None:
        raise InvalidInput(fields={"owner": [_("Mail accounts belong to users of an organization.")]})
    setup = oauth_setup(provider_id=str(provider_id or ""), organization_id=owner.organization_id)
    if setup is None:
        raise OAuthNotConfigured(fields={"provider": [OAuthNotConfigured.default_message]})
    own = _own_active(owner)
    address = data.get("address")
    if own is not None and (not address or normalize_address_or_none(address) == own.address_normalized):
        # Signing in again (or switching to OAuth2): the binding keeps its settings.
        pending = {"address": own.address, "address_normalized": own.address_normalized, "renew": own.pk}
    else:
        cleaned = mail_account_clean(data=data, auth_method=AuthMethod.OAUTH2)
        _check_bindable(actor=actor, owner=owner, address_normalized=cleaned["address_normalized"])
        pending = dict(cleaned)
    state = secrets.token_urlsafe(32)
    verifier = generate_token(64)
    now = timezone.now()
    flow = OAuthFlow.objects.create(
        state_hash=state_hash(state), actor=actor, owner=owner, organization_id=owner.organization_id,
        provider=setup.provider.id, client=setup.client, code_verifier=verifier, pending=pending,
        redirect_uri=redirect_uri, via_api=via_api, created_at=now,
        expires_at=now + datetime.timedelta(seconds=settings.OAUTH_FLOW_TTL),
    )
    audit_record(action="mail_account.oauth_started", actor=actor, organization=owner.organization,
                 target=own, details={"provider": setup.provider.id, "owner_id": owner.pk,
                                      "address": pending["address_normalized"]})
    # Forget sign-ins abandoned long ago (their verifiers are secrets with no use left).
    OAuthFlow.objects.filter(expires_at__lt=now - datetime.timedelta(days=1)).delete()
    return flow, setup, state, verifier


def normalize_address_or_none(address: Any) -> str | None:
    try:
        return normalize_address(address)
    except AddressError:
        return None


@sensitive_variables("state", "session_state")
def oauth_flow_take(*, state: Any, session_state: str | None) -> OAuthFlow:
    """Consume the flow a callback names. Refused: an unknown, used or expired state, and a flow started in a
    browser session whose state is not this one (a callback from another browser). Consumed once, atomically."""
    if not isinstance(state, str) or not state or len(state) > 200:
        raise OAuthFlowInvalid()
    flow = OAuthFlow.objects.select_related("actor", "owner", "client").filter(state_hash=state_hash(state)).first()
    if flow is None:
        raise OAuthFlowInvalid()
    if not flow.via_api and not (session_state and hmac.compare_digest(session_state, state)):
        raise OAuthFlowInvalid()
    taken = OAuthFlow.objects.filter(pk=flow.pk, used_at__isnull=True, expires_at__gt=timezone.now()).update(
        used_at=timezone.now()
    )
    if not taken:
        raise OAuthFlowInvalid()
    return flow


def oauth_flow_setup(flow: OAuthFlow) -> OAuthSetup:
    setup = oauth_setup(provider_id=flow.provider, organization_id=flow.organization_id, client=flow.client)
    if setup is None:
        raise OAuthNotConfigured()
    return setup


@sensitive_variables("token")
def mail_account_oauth_bind(*, flow: OAuthFlow, token: Mapping[str, Any], vouched_email: str) -> MailAccount:
    """Store the tokens of a completed sign-in and bind the account. The address is the one the provider vouches
    for (ID token or userinfo): a different one is refused and nothing is saved. The lock and the one-binding rules
    are checked again: they may have changed while the person was at the provider."""
    actor, owner = flow.actor, flow.owner
    mail_settings_check_access(actor=actor, owner=owner)
    pending = dict(flow.pending)
    vouched = normalize_address_or_none(vouched_email)
    if vouched is None or vouched != pending["address_normalized"]:
        message = OAuthAddressMismatch.default_message % {"signed_in": vouched_email or "?",
                                                          "address": pending["address"]}
        raise OAuthAddressMismatch(message, extra={"signed_in": vouched_email})
    with transaction.atomic():
        own = _own_active(owner)
        if own is not None and own.address_normalized == vouched:
            account = _switch_to_oauth(actor=actor, account=own)
            action = "mail_account.oauth_signed_in"
        else:
            pending.pop("renew", None)
            if "incoming_host" not in pending:
                raise OAuthFlowInvalid()  # a renewal of a binding that was turned off meanwhile
            _check_free(actor=actor, owner=owner, address_normalized=vouched)
            account = MailAccount(owner=owner, organization_id=owner.organization_id, status=AccountStatus.PENDING,
                                  auth_method=AuthMethod.OAUTH2, **pending)
            _save_audited(actor=actor, account=account, action="mail_account.registered",
                          fields=[*pending, "auth_method"], details={"provider": flow.provider})
            action = ""
        credential = OAuthCredential.objects.filter(account=account).first() or OAuthCredential(account=account)
        credential.provider, credential.client = flow.provider, flow.client
        credential.account_email = vouched_email
        if not credential.scopes:
            credential.scopes = ""
        oauth_credential_fill(credential, token)
        if not credential.scopes:
            credential.scopes = " ".join(oauth_flow_setup(flow).provider.scopes)
        credential.save()
        if action:
            audit_record(action=action, actor=actor, organization=account.organization, target=account,
                         details={"provider": flow.provider, "owner_id": owner.pk})
    return account


def _switch_to_oauth(*, actor: User, account: MailAccount) -> MailAccount:
    """The owner's binding of the same address now signs in with OAuth2: no password is kept, sending uses the
    same sign-in, and it must be checked again."""
    fresh = _row_locked(account)
    changes = {"auth_method": AuthMethod.OAUTH2, "incoming_password": "", "smtp_password": "",
               "smtp_same_credentials": True, "smtp_username": "", "status": AccountStatus.PENDING,
               "last_error_code": ""}
    for name, value in changes.items():
        setattr(fresh, name, value)
    fresh.save(update_fields=[*changes, "updated_at"])
    return fresh
