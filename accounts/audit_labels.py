"""Audit actions as sentences in the reader's language ("settings_lock.created" → "Locked mail settings").

Each app names its own actions: accounts here, the others from their AppConfig.ready(), so accounts never imports
them. An action nobody named is shown as its code."""
from __future__ import annotations

from collections.abc import Mapping

from django.utils.translation import gettext_lazy as _

_LABELS: dict[str, object] = {}


def audit_action_register(labels: Mapping[str, object]) -> None:
    _LABELS.update(labels)


def audit_action_label(action: str) -> object:
    return _LABELS.get(action, action)


def audit_action_choices() -> list[tuple[str, object]]:
    return sorted(_LABELS.items(), key=lambda item: str(item[1]))


audit_action_register({
    "organization.created": _("Organization created"),
    "user.created": _("User added"),
    "user.updated": _("User changed"),
    "user.password_set": _("Sign-in password set"),
    "token.issued": _("API token issued"),
    "token.revoked": _("API token revoked"),
})
