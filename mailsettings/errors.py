"""Errors of mail accounts. Services raise them; the API, the pages and the admin render the same sentences."""
from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from config.errors import Conflict, InvalidInput, PermissionDenied


class AddressInUse(Conflict):
    """The address is bound elsewhere (docs/scenarios.md T6). `holder` goes in the body only for an admin of its org."""

    code = "address_in_use"
    # Not a validation error, so no `fields` in the body; pages and the admin put the sentence here.
    field = "address"
    default_message = _(
        "This address is already configured with IMAP/POP3 in another account and can't be used here. "
        "Use a different address, or ask the account that uses it to turn IMAP/POP3 off."
    )


class AccountExists(Conflict):
    code = "account_exists"
    default_message = _(
        "This user already has an active mail account. Turn it off before registering another one."
    )


class AccountChanged(Conflict):
    """The account was turned off between the caller's read and this write: the change was meant for a live one."""

    code = "account_changed"
    default_message = _("This mail account was changed meanwhile. Reload it and try again.")


class NoOwnMailSettings(PermissionDenied):
    """Operators (superusers without an organization) own no mail settings: nothing to show or change."""

    code = "no_mail_settings"
    default_message = _("Mail settings belong to users of an organization; operators have none.")


class PasswordRequired(InvalidInput):
    """A change of where a stored password is sent came without that password (mailsettings.password_rule).
    `fields` names the password field(s) to send with the change."""

    code = "password_required"
    default_message = _(
        "This change decides where your password is sent, so it needs the password again. Enter it with the "
        "change."
    )


class SignInRequired(InvalidInput):
    """A change of where an OAuth2 binding's token is sent (mailsettings.password_rule): the token goes only to the
    servers it was granted for, so other servers need a new sign-in."""

    code = "sign_in_required"
    default_message = _(
        "This account signs in with OAuth2, and its sign-in is sent only to the servers it was granted for. To use "
        "other servers, sign in again with them."
    )
