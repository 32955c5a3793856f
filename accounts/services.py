"""Writes of the accounts app: organizations, users, tokens, audit events."""
from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.errors import EmailTaken, InvalidCredentials, UnknownOrganization
from accounts.models import ApiToken, AuditEvent, Organization, User, normalize_email
from accounts.tokens import token_generate, token_hash
from config.errors import Conflict, InvalidInput, Throttled


def audit_record(
    *,
    action: str,
    actor: User | None,
    organization: Organization | None,
    target: Any = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one audit event. `details` must never hold a secret: callers pass field names, not values."""
    return AuditEvent.objects.create(
        organization=organization,
        actor=actor if actor is not None and actor.pk else None,
        actor_email=getattr(actor, "email", "") or "",
        action=action,
        target_type=target._meta.model_name if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_repr=str(target)[:254] if target is not None else "",
        details=details or {},
    )


def organization_create(*, name: str, admin_email: str, admin_password: str) -> tuple[Organization, User]:
    name = (name or "").strip()
    if not name:
        raise InvalidInput(_("An organization needs a name."), fields={"name": [_("This field is required.")]})
    with transaction.atomic():
        if Organization.objects.filter(name__iexact=name).exists():
            raise Conflict(_("An organization with this name already exists."))
        organization = Organization.objects.create(name=name)
        admin = user_create(
            organization=organization, email=admin_email, password=admin_password, role=User.Role.ADMIN, actor=None
        )
        audit_record(action="organization.created", actor=None, organization=organization, target=organization)
    return organization, admin


def user_create(
    *, organization: Organization, email: str, password: str | None, role: str, actor: User | None
) -> User:
    email = normalize_email(email)
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidInput(
            _("Enter a valid email address."), fields={"email": [_("Enter a valid email address.")]}
        ) from None
    if role not in User.Role.values:
        raise InvalidInput(
            _("The role must be admin or standard."), fields={"role": [_("The role must be admin or standard.")]}
        )
    try:
        with transaction.atomic():
            user = User(email=email, organization=organization, role=role)
            user.set_password(password)
            user.save()
    except IntegrityError:
        raise EmailTaken(fields={"email": [EmailTaken.default_message]}) from None
    audit_record(
        action="user.created", actor=actor, organization=organization, target=user, details={"role": role}
    )
    return user


def organization_by_name(*, name: str) -> Organization:
    organization = Organization.objects.filter(name__iexact=(name or "").strip()).first()
    if organization is None:
        raise UnknownOrganization()
    return organization


def _failure_keys(*, email: str, client_address: str) -> tuple[str, str]:
    digest = hashlib.sha256(normalize_email(email).encode()).hexdigest()[:32]
    return f"signin-fail:email:{digest}", f"signin-fail:addr:{client_address}"


def signin_check_throttle(*, email: str, client_address: str) -> None:
    """Refuse before checking the password once an email or a client address has failed too often."""
    email_key, addr_key = _failure_keys(email=email, client_address=client_address)
    if (cache.get(email_key, 0) >= settings.SIGNIN_FAILURES_PER_EMAIL
            or cache.get(addr_key, 0) >= settings.SIGNIN_FAILURES_PER_ADDRESS):
        raise Throttled(
            _("Too many failed sign-ins. Wait a few minutes before trying again."),
            extra={"retry_after": settings.SIGNIN_FAILURE_WINDOW},
        )


def signin_record_failure(*, email: str, client_address: str) -> None:
    for key in _failure_keys(email=email, client_address=client_address):
        # add() starts the window only on the first failure; incr() keeps it.
        cache.add(key, 0, timeout=settings.SIGNIN_FAILURE_WINDOW)
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, timeout=settings.SIGNIN_FAILURE_WINDOW)


def signin_authenticate(*, request, email: str, password: str, client_address: str) -> User:
    """The one sign-in check for the API and the pages: throttled per email and per address, no enumeration."""
    signin_check_throttle(email=email, client_address=client_address)
    user = authenticate(request, username=normalize_email(email), password=password or "")
    if user is None:
        signin_record_failure(email=email, client_address=client_address)
        raise InvalidCredentials()
    return user


def api_token_issue(*, user: User) -> tuple[ApiToken, str]:
    """Create a token; the plain value is returned once and never stored."""
    plain = token_generate()
    token = ApiToken.objects.create(user=user, key_hash=token_hash(plain), prefix=plain[:8])
    audit_record(action="token.issued", actor=user, organization=user.organization, target=token)
    return token, plain


def api_token_revoke(*, token: ApiToken, actor: User) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(action="token.revoked", actor=actor, organization=token.user.organization, target=token)
    return token


def user_set_language(*, user: User, language: str) -> User:
    if language not in {"", *dict(settings.LANGUAGES)}:
        raise InvalidInput(fields={"language": [_("Choose English, Japanese or the browser's language.")]})
    user.language = language
    user.save(update_fields=["language"])
    return user
