"""The API's OpenAPI schema, truthful about errors: every operation documents the error statuses it can answer,
each with the one error body (config.errors), so a client generated from the schema (or a fuzzer checking the
schema against the answers, tests/config/test_schema_fuzz.py) meets no undocumented answer.

Statuses that follow from the operation itself are added here: 401 where a sign-in is needed, 403 for unsafe
methods of signed-in operations (a session without its CSRF token is refused), 400 where a body or a query
parameter is read, 413 where a body is read, 404 where the path names an object or a page is asked for. The
rest is declared by the view, per method, in `error_statuses` (409 conflicts, 429 rates, 503 queue, 403 where a
lock or a role refuses a read).
"""
from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework import serializers

ERROR_SCHEMA = {
    "type": "object",
    "description": "The one error body: a stable `code`, a sentence a person can act on, the fields concerned.",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string", "minLength": 1, "description": "stable, snake_case"},
                "message": {"type": "string", "minLength": 1},
                "fields": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                    "description": "sentences per field, for invalid input",
                },
            },
            "required": ["code", "message"],
            # Some errors add facts: retry_after (429), holder (409 address_in_use), locked_by/locked_at (403).
            "additionalProperties": True,
        },
    },
    "required": ["error"],
    "additionalProperties": False,
}

DESCRIPTIONS = {
    400: "The request is not valid (`invalid` with `fields`, `password_required`, ...).",
    401: "Not signed in, or the token is unknown (`not_authenticated`); wrong sign-in (`invalid_credentials`).",
    403: "Refused (`permission_denied`, `settings_locked`, ...).",
    404: "Not found, or another organization's (`not_found`).",
    409: "Conflicts with the current state (`address_in_use`, `account_exists`, `already_locked`, ...).",
    413: "The body is over the upload limit (`payload_too_large`).",
    429: "Too many requests (`throttled`, with `retry_after` seconds).",
    503: "The task queue is unreachable (`queue_unavailable`).",
}
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class MailbindAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        component = ResolvedComponent(name="Error", type=ResolvedComponent.SCHEMA, schema=ERROR_SCHEMA,
                                      object="mailbind-error-body")
        self.registry.register_on_missing(component)
        for status in sorted(self.error_statuses()):
            responses.setdefault(str(status), {
                "content": {"application/json": {"schema": component.ref}},
                "description": DESCRIPTIONS[status],
            })
        return responses

    def error_statuses(self) -> set[int]:
        statuses = set(getattr(self.view, "error_statuses", {}).get(self.method.lower(), ()))
        parameters = self._get_parameters()
        has_body = self.method in UNSAFE and self.get_request_serializer() is not None
        if self.get_auth():
            statuses.add(401)
            if self.method in UNSAFE:
                statuses.add(403)
        if has_body:
            statuses |= {400, 413}
        if any(p["in"] == "query" for p in parameters):
            statuses.add(400)
        if any(p["in"] == "path" or p["name"] == "page" for p in parameters):
            statuses.add(404)
        return statuses

    def _get_serializer_field_meta(self, field, direction):
        meta = super()._get_serializer_field_meta(field, direction)
        if (direction == "request" and isinstance(field, serializers.CharField) and not field.allow_blank
                and field.trim_whitespace):
            meta["pattern"] = r"\S"  # spaces alone are trimmed to a blank value, which is refused
        return meta
