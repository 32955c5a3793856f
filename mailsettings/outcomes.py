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


def outcome_choices_present(*, actor) -> list[tuple[str, object]]:
    """The choices of a "problem" filter: only the outcomes the actor's active accounts have now (the full list is
    long, and most of it would filter to nothing)."""
    from mailsettings.models import MailAccount

    accounts = MailAccount.objects.filter(disabled_at__isnull=True).exclude(last_error_code="")
    if not actor.is_superuser:
        accounts = accounts.filter(organization_id=actor.organization_id)
    present = set(accounts.order_by().values_list("last_error_code", flat=True).distinct())
    return [(code, label) for code, label in outcome_choices() if code in present]
