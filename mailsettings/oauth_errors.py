"""Errors of OAuth2 sign-in. The API, the pages and the callback render the same sentences."""
from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from config.errors import Conflict, InvalidInput, MailbindError, ServiceUnavailable


class OAuthNotConfigured(InvalidInput):
    code = "oauth_not_configured"
    default_message = _("Sign-in with this provider is not set up here. Use a password, or ask your administrator.")


class OAuthFlowInvalid(MailbindError):
    """Unknown, used, expired, or from another browser: a replayed or forged callback."""

    status_code = 400
    code = "oauth_state_invalid"
    default_message = _("This sign-in link is not valid any more (it was already used, it expired, or it was "
                        "started elsewhere). Nothing was saved. Start again from Email settings.")


class OAuthDenied(MailbindError):
    status_code = 400
    code = "oauth_access_denied"
    default_message = _("You did not allow access to your mailbox, so nothing was saved. To connect it, sign in "
                        "again and choose Allow.")


class OAuthAddressMismatch(Conflict):
    code = "oauth_address_mismatch"
    default_message = _("You signed in as %(signed_in)s, but the address to connect is %(address)s. Nothing was "
                        "saved. Sign in with the account of %(address)s, or change the address.")


class OAuthExchangeFailed(MailbindError):
    """The provider refused the code (replayed, wrong PKCE verifier) or gave no usable token."""

    status_code = 400
    code = "oauth_exchange_failed"
    default_message = _("The provider did not confirm this sign-in, so nothing was saved. Start again from Email "
                        "settings.")


class OAuthProviderUnavailable(ServiceUnavailable):
    code = "oauth_provider_unavailable"
    default_message = _("The sign-in provider did not answer. Nothing was saved. Try again in a minute.")
