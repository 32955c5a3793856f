"""The one family of product errors.

Each error declares its HTTP status, a stable snake_case `code` and a sentence a person can act on. Services raise
them; the API's exception handler, the pages and the admin all render the same objects, so a person reads the same
sentence everywhere.
"""
from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _


class MailbindError(Exception):
    status_code = 400
    code = "invalid"
    default_message = _("The request is not valid.")

    def __init__(
        self,
        message: Any = None,
        *,
        fields: dict[str, list[str]] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.message = message if message is not None else self.default_message
        self.fields = fields or {}
        self.extra = extra or {}
        super().__init__(str(self.code))

    def __str__(self) -> str:
        return str(self.message)

    def as_body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": str(self.message)}
        if self.fields:
            error["fields"] = {name: [str(m) for m in msgs] for name, msgs in self.fields.items()}
        error.update(self.extra)
        return {"error": error}


class InvalidInput(MailbindError):
    status_code = 400
    code = "invalid"
    default_message = _("Some of the values are not valid. Correct the fields marked and try again.")


class PayloadTooLarge(MailbindError):
    status_code = 413
    code = "payload_too_large"
    default_message = _("The request is too large. Send less data at once.")


class NotAuthenticated(MailbindError):
    status_code = 401
    code = "not_authenticated"
    default_message = _("Sign in first: send a valid token or session.")


class PermissionDenied(MailbindError):
    status_code = 403
    code = "permission_denied"
    default_message = _("You don't have permission to do this. Contact your organization's administrator.")


class NotFound(MailbindError):
    status_code = 404
    code = "not_found"
    default_message = _("Nothing was found here. Check the address or the id.")


class Conflict(MailbindError):
    status_code = 409
    code = "conflict"
    default_message = _("This conflicts with the current state. Reload and try again.")


class Throttled(MailbindError):
    status_code = 429
    code = "throttled"
    default_message = _("Too many attempts. Wait a few minutes and try again.")


class ServiceUnavailable(MailbindError):
    status_code = 503
    code = "service_unavailable"
    default_message = _("The service is not available right now. Try again in a minute.")
