"""Database helpers shared by the apps' services."""
from __future__ import annotations

import re
from functools import lru_cache

from django.apps import apps
from django.db import IntegrityError, models

# SQLite names an index on expressions and a named CHECK, but only the columns of a (partial) unique index.
_SQLITE_NAMED = re.compile(r"(?:UNIQUE constraint failed: index '([^']+)'|CHECK constraint failed: (\w+)$)")
_SQLITE_COLUMNS = re.compile(r"UNIQUE constraint failed: (.+)$")


@lru_cache(maxsize=1)
def _unique_constraints_by_columns() -> dict[tuple[str, frozenset[str]], str]:
    """(table, {columns}) → the name of the model UniqueConstraint on exactly those columns."""
    found: dict[tuple[str, frozenset[str]], str] = {}
    for model in apps.get_models():
        for constraint in model._meta.constraints:
            if isinstance(constraint, models.UniqueConstraint) and constraint.fields:
                columns = frozenset(model._meta.get_field(name).column for name in constraint.fields)
                found[(model._meta.db_table, columns)] = constraint.name
    return found


def violated_constraint(exc: IntegrityError) -> str | None:
    """The name of the constraint an IntegrityError broke: psycopg's diagnostics on PostgreSQL; on SQLite the
    name in the message, or the model UniqueConstraint on the columns the message lists. None if unknown."""
    diag = getattr(exc.__cause__, "diag", None)
    name = getattr(diag, "constraint_name", None)
    if name:
        return name
    text = str(exc).strip()
    named = _SQLITE_NAMED.search(text)
    if named:
        return named.group(1) or named.group(2)
    listed = _SQLITE_COLUMNS.search(text)
    if listed is None:
        return None
    pairs = [part.strip().rpartition(".") for part in listed.group(1).split(",")]
    tables = {table for table, _dot, _column in pairs}
    if len(tables) != 1 or "" in tables:
        return None
    return _unique_constraints_by_columns().get((tables.pop(), frozenset(column for _t, _d, column in pairs)))
