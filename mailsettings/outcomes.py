"""How an account's last outcome code (MailAccount.last_error_code) reads as a sentence.

The sentences belong to diagnostics, which mailsettings never imports: diagnostics registers its describer at
start-up (DiagnosticsConfig.ready), the same hook pattern as accounts.services.user_management_guard_register.
Without one, the code is shown as it is."""
from __future__ import annotations

from collections.abc import Callable

_describers: list[Callable[[str], object]] = []
_choices: list[Callable[[], list[tuple[str, object]]]] = []


def outcome_describer_register(describe: Callable[[str], object],
                               choices: Callable[[], list[tuple[str, object]]] | None = None) -> None:
    if describe not in _describers:
        _describers.append(describe)
    if choices is not None and choices not in _choices:
        _choices.append(choices)


def outcome_label(code: str) -> object:
    return _describers[-1](code) if _describers else (code or "—")


def outcome_choices() -> list[tuple[str, object]]:
    return _choices[-1]() if _choices else []
