"""Filters shared by the API's lists."""
from __future__ import annotations

import django_filters
from django import forms

# The range of a database id (a signed 64-bit integer): SQLite cannot even compare with a larger number.
ID_MIN = -(2**63)
ID_MAX = 2**63 - 1


class IdFilter(django_filters.NumberFilter):
    """A filter on an id: a whole number within the database's range, else 400 `invalid` on the field."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("min_value", ID_MIN)
        kwargs.setdefault("max_value", ID_MAX)
        super().__init__(*args, **kwargs)
