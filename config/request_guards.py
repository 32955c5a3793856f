"""Hostile requests get a 4xx in the product's error shape, never a 500: bodies over the upload limit (413
payload_too_large), more form fields than DATA_UPLOAD_MAX_NUMBER_FIELDS (400 invalid), a NUL character in a query
parameter or a form field (400 invalid: PostgreSQL refuses NUL in text, so it would reach the database as a 500).

One middleware for the API, the pages and the Django admin alike, before anything reads the body (CSRF does).
JSON bodies are guarded by config.parsers.GuardedJSONParser (size, nesting, NUL), which sees what this cannot.
"""
from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from config.errors import InvalidInput, MailbindError, PayloadTooLarge

NUL = "\x00"
NUL_MESSAGE = _("This value contains a NUL character (\\0), which no field accepts. Remove it and try again.")
TOO_MANY_FIELDS = _("The request has more fields than any form here sends. Send only the fields of the form.")


def nul_fields(pairs: Iterable[tuple[str, str]]) -> dict[str, list]:
    """{name: [sentence]} for every name or value holding a NUL character."""
    return {name.replace(NUL, "\\0"): [NUL_MESSAGE] for name, value in pairs if NUL in name or NUL in value}


def request_refusal(request: HttpRequest) -> MailbindError | None:
    """The product error a hostile request earns before any view sees it; None for an ordinary request."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if limit is not None and length > limit:
        return PayloadTooLarge()
    try:
        fields = nul_fields(_pairs(request.GET))
        if request.method == "POST":  # Django parses form bodies of POST only; DRF parses the others
            fields.update(nul_fields(_pairs(request.POST)))
    except TooManyFieldsSent:
        return InvalidInput(TOO_MANY_FIELDS)
    except RequestDataTooBig:
        return PayloadTooLarge()
    if fields:
        return InvalidInput(fields=fields)
    return None


def _pairs(data: QueryDict) -> list[tuple[str, str]]:
    return [(name, value) for name, values in data.lists() for value in values if isinstance(value, str)]


def refusal_response(request: HttpRequest, error: MailbindError) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse(error.as_body(), status=error.status_code)
    if error.fields:  # a page shows one sentence: the field's, which says what to fix
        error = type(error)(next(iter(error.fields.values()))[0])
    return render(request, "error.html", {"error": error, "back_url": "/"}, status=error.status_code)


class RequestGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        error = request_refusal(request)
        if error is not None:
            return refusal_response(request, error)
        return self.get_response(request)
