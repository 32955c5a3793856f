"""The API's JSON parser, guarded: a body over DATA_UPLOAD_MAX_MEMORY_SIZE is 413 payload_too_large (DRF reads the
stream without Django's limit), JSON nested too deep for the decoder is 400 invalid (a RecursionError otherwise:
a 500), and a NUL character in any string, key or value, is 400 invalid (PostgreSQL refuses NUL in text)."""
from __future__ import annotations

import io
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from config.errors import InvalidInput, PayloadTooLarge
from config.request_guards import NUL, NUL_MESSAGE


class GuardedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None) -> Any:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1 if limit is not None else -1) if stream is not None else b""
        if limit is not None and len(raw) > limit:
            raise PayloadTooLarge()
        try:
            data = super().parse(io.BytesIO(raw), media_type, parser_context)
        except RecursionError:
            raise ParseError(_("The JSON is nested too deeply. Send a flat object of fields.")) from None
        where = _first_nul(data)
        if where is not None:
            raise InvalidInput(fields={where: [NUL_MESSAGE]})
        return data


def _first_nul(data: Any) -> str | None:
    """The top-level field holding a NUL character anywhere inside ("" for the body itself), else None."""
    stack: list[tuple[str, Any]] = [("", data)]
    while stack:
        top, value = stack.pop()
        if isinstance(value, str):
            if NUL in value:
                return top
        elif isinstance(value, dict):
            for key, item in value.items():
                field = top or key.replace(NUL, "\\0")
                if NUL in key:
                    return field
                stack.append((field, item))
        elif isinstance(value, list):
            stack.extend((top, item) for item in value)
    return None
