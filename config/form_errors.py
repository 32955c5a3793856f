"""Putting a product error (config.errors) onto a Django form, for the admin's forms."""
from __future__ import annotations

from typing import Any

from django import forms

from config.errors import MailbindError


def form_add_product_error(form: forms.BaseForm, error: MailbindError, *, message: Any = None) -> None:
    """Each sentence of `error.fields` goes on its field (above the form when the form has no such field).

    An error without `fields` (a conflict, a refusal) is one sentence — `message`, else the error's own — placed
    on the field the error names in its `field` attribute when the form has it, else above the form.
    """
    if error.fields:
        for name, messages in error.fields.items():
            form.add_error(name if name in form.fields else None, [str(m) for m in messages])
        return
    field = getattr(error, "field", None)
    form.add_error(field if field in form.fields else None, str(message if message is not None else error.message))
