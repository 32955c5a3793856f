"""Filters shared by the API's lists."""
from __future__ import annotations

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

# The range of a database id (a signed 64-bit integer): SQLite cannot even compare with a larger number.
ID_MIN = -(2**63)
ID_MAX = 2**63 - 1


@extend_schema_field({"type": "integer", "minimum": ID_MIN, "maximum": ID_MAX})
class IdFilter(django_filters.NumberFilter):
    """A filter on an id: a whole number within the database's range, else 400 `invalid` on the field."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("min_value", ID_MIN)
        kwargs.setdefault("max_value", ID_MAX)
        super().__init__(*args, **kwargs)


class StrictBooleanField(forms.Field):
    """true/false (also True/False, 1/0); empty means "not filtered"; anything else is a sentence, not ignored."""

    widget = forms.TextInput
    _VALUES = {"true": True, "1": True, "false": False, "0": False}

    def to_python(self, value):
        if value in (None, ""):
            return None
        if isinstance(value, bool):
            return value
        try:
            return self._VALUES[str(value).strip().lower()]
        except KeyError:
            raise ValidationError(_("Choose true or false."), code="invalid") from None


@extend_schema_field(OpenApiTypes.BOOL)
class StrictBooleanFilter(django_filters.BooleanFilter):
    """A yes/no filter that answers 400 to ?locked=maybe (django-filter's own would silently ignore it)."""

    field_class = StrictBooleanField
