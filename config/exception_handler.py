"""One exception handler turns every error — DRF's, Django's and ours — into one body:
`{"error": {"code": ..., "message": ..., "fields": {...}}}`. No view formats errors by hand."""
from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from rest_framework import exceptions as drf
from rest_framework.response import Response

from config import errors
from config.request_guards import TOO_MANY_FIELDS

logger = logging.getLogger(__name__)

# DRF's own exceptions, mapped to our stable codes and sentences.
_DRF_CODES: list[tuple[type[Exception], type[errors.MailbindError]]] = [
    (drf.NotAuthenticated, errors.NotAuthenticated),
    (drf.AuthenticationFailed, errors.NotAuthenticated),
    (drf.PermissionDenied, errors.PermissionDenied),
    (drf.NotFound, errors.NotFound),
    (drf.Throttled, errors.Throttled),
]


def _flatten(detail: Any) -> list[str]:
    if isinstance(detail, dict):
        return [m for v in detail.values() for m in _flatten(v)]
    if isinstance(detail, list):
        return [m for v in detail for m in _flatten(v)]
    return [str(detail)]


def _validation_error(exc: drf.ValidationError) -> errors.MailbindError:
    detail = exc.detail
    fields: dict[str, list[str]] = {}
    message = None
    if isinstance(detail, dict):
        for name, value in detail.items():
            messages = _flatten(value)
            if name in ("non_field_errors", "__all__"):
                message = " ".join(messages)
            else:
                fields[name] = messages
    else:
        message = " ".join(_flatten(detail))
    return errors.InvalidInput(message, fields=fields)


def as_product_error(exc: Exception) -> errors.MailbindError | None:
    """Translate any known exception into the product's error family; None for a bug (a 500)."""
    if isinstance(exc, errors.MailbindError):
        return exc
    if isinstance(exc, drf.ValidationError):
        return _validation_error(exc)
    if isinstance(exc, Http404):
        return errors.NotFound()
    # A form body DRF parses itself (PATCH, PUT) meets Django's limits there, past the request guard middleware.
    if isinstance(exc, RequestDataTooBig):
        return errors.PayloadTooLarge()
    if isinstance(exc, TooManyFieldsSent):
        return errors.InvalidInput(TOO_MANY_FIELDS)
    if isinstance(exc, DjangoPermissionDenied):
        return errors.PermissionDenied()
    for drf_class, ours in _DRF_CODES:
        if isinstance(exc, drf_class):
            if isinstance(exc, drf.Throttled) and exc.wait:
                return ours(extra={"retry_after": int(exc.wait)})
            return ours()
    if isinstance(exc, drf.APIException):
        # Method not allowed, unsupported media type, parse errors...: DRF's code and message are fine.
        error = errors.MailbindError(exc.detail if isinstance(exc.detail, str) else _("The request is not valid."))
        error.status_code = exc.status_code
        error.code = "invalid" if isinstance(exc, drf.ParseError) else exc.default_code
        return error
    return None


def handle_exception(exc: Exception, context: dict[str, Any]) -> Response | None:
    error = as_product_error(exc)
    if error is None:
        logger.exception("unhandled error in %s", context.get("view").__class__.__name__)
        error = errors.MailbindError(_("Something went wrong on our side. Try again; if it persists, tell support."))
        error.status_code = 500
        error.code = "server_error"
    response = Response(error.as_body(), status=error.status_code)
    if isinstance(exc, drf.Throttled) and exc.wait:
        response["Retry-After"] = str(int(exc.wait))
    if isinstance(exc, (drf.NotAuthenticated, drf.AuthenticationFailed)):
        response["WWW-Authenticate"] = 'Token realm="api"'
    return response


def json_404(request, exception=None) -> JsonResponse:
    return JsonResponse(errors.NotFound().as_body(), status=404)
