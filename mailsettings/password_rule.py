"""The password rule: a stored password goes only to the place it was entered for.

Whoever may edit an account (its owner, an admin of the organization, an operator, or a stolen token of one of
them) could otherwise point it at a server of their own and receive the stored password at the next check.
So a password is bound to where it is sent:

- the incoming password to the incoming server (protocol, host, port, security) under the incoming username,
  and, while sending uses the same credentials, to the outgoing server as well;
- the outgoing password to the outgoing server (host, port, security) under the outgoing username.

A change to any of those needs, in the same request, the password that would be sent to the new place:
- someone acting on their own account must give it (PasswordRequired names the field);
- an admin or operator changing someone else's account may not know it: the password that would have gone to
  the new place is cleared instead, and the account waits for its owner (status needs_password).

An OAuth2 binding has no password but a token, sent the same way (XOAUTH2): a change of its servers is refused
to the owner (SignInRequired: sign in again with the new servers) and discards the tokens for anyone else (status
reauth_required: the owner signs in again).

The service (mailsettings.services.mail_account_update) applies the rule for the API, the pages and the admin;
the forms ask the same functions, so a person sees the requirement before saving.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext_lazy as _

from mailsettings.errors import PasswordRequired, SignInRequired
from mailsettings.models import AuthMethod

INCOMING_BINDING = ("protocol", "incoming_host", "incoming_port", "incoming_security", "incoming_username")
OUTGOING_BINDING = ("smtp_host", "smtp_port", "smtp_security", "smtp_same_credentials")
# Which fields decide where each password field's value is sent, for the forms' "required as soon as one of
# these changes" (the outgoing username counts only while sending has its own login; same credentials: the
# incoming password goes to the outgoing server too).
FORM_BINDING = {
    "incoming_password": (*INCOMING_BINDING, *OUTGOING_BINDING),
    "smtp_password": (*OUTGOING_BINDING, "smtp_username"),
}

REASONS = {
    "incoming_password": _(
        "Enter the password again: a stored password is sent only to the server it was entered for, and this "
        "change decides where it goes."
    ),
    "smtp_password": _(
        "Enter the outgoing password again: a stored password is sent only to the server it was entered for, "
        "and this change decides where it goes."
    ),
}


def passwords_missing(*, account: Any, cleaned: Mapping[str, Any]) -> list[str]:
    """The password fields a change of `account` to the `cleaned` values must bring and does not, in form order.

    `cleaned` holds model values (mailsettings.validation.mail_account_clean); a password field in it is a new
    password typed in this request (except the outgoing one emptied by a switch to the same credentials).
    """

    if account.auth_method != AuthMethod.PASSWORD:
        return []  # an OAuth2 binding has no password (its tokens are the OAuth2 code's business)

    def changed(name: str) -> bool:
        return name in cleaned and cleaned[name] != getattr(account, name)

    same = cleaned.get("smtp_same_credentials", account.smtp_same_credentials)
    needed: list[str] = []
    if any(changed(name) for name in INCOMING_BINDING):
        needed.append("incoming_password")
    outgoing_moved = (
        any(changed(name) for name in OUTGOING_BINDING)
        or (same and changed("incoming_username"))
        or (not same and changed("smtp_username"))
    )
    if outgoing_moved:
        needed.append("incoming_password" if same else "smtp_password")
    given = {name for name in ("incoming_password", "smtp_password") if cleaned.get(name)}
    return [name for name in dict.fromkeys(needed) if name not in given]


def password_required_error(missing: list[str]) -> PasswordRequired:
    return PasswordRequired(fields={name: [REASONS[name]] for name in missing})


def passwords_clear(account: Any, missing: list[str]) -> list[str]:
    """Empty the stored passwords that would have gone to the new place; returns the fields changed.

    With the same credentials for sending there is one password: clearing it stops both sign-ins until the owner
    enters it again, which is what "one password" means."""
    cleared = []
    for name in missing:
        if getattr(account, name):
            setattr(account, name, "")
            cleared.append(name)
    return cleared



def token_moved(*, account: Any, cleaned: Mapping[str, Any]) -> list[str]:
    """The fields of an OAuth2 binding whose change would send its token somewhere else ([] for a password one)."""
    if account.auth_method != AuthMethod.OAUTH2:
        return []
    return [name for name in (*INCOMING_BINDING, *OUTGOING_BINDING)
            if name in cleaned and cleaned[name] != getattr(account, name)]


def sign_in_required_error(moved: list[str]) -> SignInRequired:
    return SignInRequired(fields={name: [SignInRequired.default_message] for name in moved})
