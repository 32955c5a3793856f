"""Which "Sign in with ..." button a page offers: configuration, local knowledge and the last check; no network."""
from __future__ import annotations

import logging
from typing import Any

from mailsettings.addresses import AddressError, parse_address
from mailsettings.discovery import detect
from mailsettings.models import AuthMethod, MailAccount
from mailsettings.models_oauth import OAuthCredential
from mailsettings.oauth_providers import oauth_option

logger = logging.getLogger(__name__)

# Advice after which a page shows the sign-in button.
SIGN_IN_CODES = frozenset({"auth_basic_auth_disabled", "reauth_required", "oauth_token_invalid",
                           "oauth_scope_missing"})


def oauth_offer_for_account(account: MailAccount | None) -> dict | None:
    """The sign-in button an account's page offers: its own provider for an OAuth2 binding ("Sign in again"), the
    provider of its address's domain for a password binding ("Sign in ... instead"), None when none is set up."""
    if account is None:
        return None
    if account.auth_method == AuthMethod.OAUTH2:
        try:
            provider_id = account.oauth_credential.provider
        except OAuthCredential.DoesNotExist:
            provider_id = None
        if provider_id == "generic":
            return oauth_option(mail_provider_id=None, domain=account.address_normalized.rpartition("@")[2],
                                organization_id=account.organization_id)
        mail_provider = {"google": "gmail", "microsoft": "microsoft_365"}.get(provider_id or "")
        return oauth_option(mail_provider_id=mail_provider, domain="", organization_id=account.organization_id)
    domain = account.address_normalized.rpartition("@")[2]
    provider_id = _provider_of_last_check(account)
    if provider_id is None:
        try:
            detection = detect(account.address_normalized, protocol=account.protocol, network=False)
        except Exception:  # a page never fails for want of a button
            logger.warning("provider detection for the sign-in button failed", exc_info=True)
            return None
        provider_id = detection.provider.id if detection.provider else None
    return oauth_option(mail_provider_id=provider_id, domain=domain, organization_id=account.organization_id)


def _provider_of_last_check(account: MailAccount) -> str | None:
    """The provider the last check's domain step found (custom domains on Google or Microsoft are known by their
    MX, which local knowledge alone does not have); None when there is no such check."""
    from diagnostics.models import DiagnosticStep

    details = (DiagnosticStep.objects.filter(run__account=account, name="domain").order_by("-id")
               .values_list("details", flat=True).first())
    provider = (details or {}).get("provider")
    return provider.get("id") if isinstance(provider, dict) else None


def oauth_offer_for_address(address: Any, organization_id: int | None) -> dict | None:
    """From local knowledge only (our table, the bundled ISPDB): no network while a page renders."""
    try:
        parse_address(address)
        detection = detect(address, network=False)
    except (AddressError, TypeError, ValueError):
        return None
    except Exception:
        logger.warning("provider detection for the sign-in button failed", exc_info=True)
        return None
    return oauth_offer_for_detection(detection, organization_id)


def oauth_offer_for_detection(detection: Any, organization_id: int | None) -> dict | None:
    if detection is None:
        return None
    return oauth_option(mail_provider_id=detection.provider.id if detection.provider else None,
                        domain=detection.domain, organization_id=organization_id)
