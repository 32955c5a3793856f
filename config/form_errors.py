"""Putting a product error (config.errors) onto a Django form: the pages' forms and the admin's alike."""
from __future__ import annotations

from typing import Any

from django import forms

from config.errors import MailbindError


def form_add_product_error(
    form: forms.BaseForm,
    error: MailbindError,
    *,
    message: Any = None,
    field_map: dict[str, str] | None = None,
    summary: bool = False,
) -> None:
    """Each sentence of `error.fields` goes on its field (renamed through `field_map`; above the form when the form
    has no such field): none is lost.

    An error without `fields` (a conflict, a refusal) is one sentence — `message`, else the error's own — placed on the
    field the error names in its `field` attribute (address_in_use, docs/scenarios.md T6) when the form has it, else
    above the form. `summary` also puts the error's general sentence above the form, unless it only repeats a field's.
    """
    field_map = field_map or {}
    text = str(message if message is not None else error.message)
    fields = error.fields or {}
    if not fields and getattr(error, "field", None):
        fields = {error.field: [text]}
    placed: set[str] = set()
    for name, messages in fields.items():
        target = field_map.get(name, name)
        sentences = [str(m) for m in messages]
        if target in form.fields:
            form.add_error(target, sentences)
            placed.update(sentences)
        else:
            form.add_error(None, sentences)
    if (summary or not fields) and text not in placed:
        form.add_error(None, text)
