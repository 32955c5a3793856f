"""Codes as sentences in the reader's language: a run's or an account's outcome is its advice title.

Used by every admin page (lists, filters, details), the health page, the CSV export and the emails; the code
itself stays available beside the sentence for support."""
from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from diagnostics.advice import advice_for
from diagnostics.judge import _RUN_ERRORS  # the run-level outcomes' own titles (one list, kept in judge)

_NO_PROBLEM = _("No problem found")


def outcome_title(code: str | None):
    """The sentence for an outcome code (lazy where it can be); the code itself when it is unknown."""
    code = (code or "").strip()
    if code in ("", "ok"):
        return _NO_PROBLEM
    if code in _RUN_ERRORS:
        return _RUN_ERRORS[code]
    try:
        return advice_for(code).title
    except (ValueError, KeyError):
        return code


def known_outcomes() -> list[tuple[str, object]]:
    """Every outcome code a check can record, with its sentence (choices of filters)."""
    from diagnostics.results import Code

    codes = [str(code) for code in Code if code != Code.OK] + list(_RUN_ERRORS)
    return [(code, outcome_title(code)) for code in codes]
