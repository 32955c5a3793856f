"""Writes of the accounts app: organizations, users, tokens, audit events."""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate, password_validation
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables
from rest_framework.throttling import BaseThrottle

from accounts.errors import EmailTaken, InvalidCredentials, UnknownOrganization
from accounts.models import ApiToken, AuditEvent, Organization, User, normalize_email
from accounts.tokens import token_generate, token_hash
from config.db import violated_constraint
from config.errors import Conflict, InvalidInput, NotFound, PermissionDenied, Throttled

ORGANIZATION_NAME_CONSTRAINT = "organization_name_unique_ci"
OPERATOR_CONSTRAINT = "user_has_organization_unless_operator"

# --- who may manage users -------------------------------------------------------------------------------------

UserManagementGuard = Callable[[User], None]
# Other apps add reasons to refuse an actor (locks: an admin whose own settings are locked). accounts must not
# import them, so they register here from their AppConfig.ready().
user_management_guards: list[UserManagementGuard] = []


def user_management_guard_register(guard: UserManagementGuard) -> None:
    if guard not in user_management_guards:
        user_management_guards.append(guard)


def user_management_check(*, actor: User | None) -> None:
    """Raise when `actor` may not manage users or locks right now. None is an operator's command at a shell."""
    if actor is None:
        return
    for guard in list(user_management_guards):
        guard(actor)


def _check_manages(*, actor: User | None, organization: Organization | None) -> None:
    """Operators manage every organization, an organization's admins their own; another tenant is a 404."""
    if actor is None or (actor.is_superuser and actor.is_active):
        return
    if organization is None or actor.organization_id != organization.pk:
        raise NotFound()
    if not actor.is_org_admin:
        raise PermissionDenied()


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


def _organization_taken() -> Conflict:
    return Conflict(_("An organization with this name already exists."))


@sensitive_variables("admin_password")
def organization_create(*, name: str, admin_email: str, admin_password: str) -> tuple[Organization, User]:
    name = (name or "").strip()
    if not name:
        raise InvalidInput(_("An organization needs a name."), fields={"name": [_("This field is required.")]})
    with transaction.atomic():
        if Organization.objects.filter(name__iexact=name).exists():
            raise _organization_taken()
        try:
            # Two simultaneous creations both pass the check above: the unique index decides.
            with transaction.atomic():
                organization = Organization.objects.create(name=name)
        except IntegrityError as exc:
            if violated_constraint(exc) != ORGANIZATION_NAME_CONSTRAINT:
                raise
            raise _organization_taken() from None
        admin = user_create(
            organization=organization, email=admin_email, password=admin_password, role=User.Role.ADMIN, actor=None
        )
        audit_record(action="organization.created", actor=None, organization=organization, target=organization)
    return organization, admin


def _clean_email(value: Any) -> str:
    email = normalize_email(value if isinstance(value, str) else "")
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidInput(
            _("Enter a valid email address."), fields={"email": [_("Enter a valid email address.")]}
        ) from None
    return email


def _clean_role(value: Any) -> str:
    if value not in User.Role.values:
        raise InvalidInput(
            _("The role must be admin or standard."), fields={"role": [_("The role must be admin or standard.")]}
        )
    return value


def _clean_language(value: Any) -> str:
    if value not in {"", *dict(settings.LANGUAGES)}:
        raise InvalidInput(fields={"language": [_("Choose English, Japanese or the browser's language.")]})
    return value


def _clean_full_name(value: Any) -> str:
    if not isinstance(value, str) or len(value.strip()) > User._meta.get_field("full_name").max_length:
        raise InvalidInput(fields={"full_name": [_("Enter a name of at most 200 characters.")]})
    return value.strip()


def _clean_flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(fields={name: [_("Choose true or false.")]})
    return value


@sensitive_variables("password")
def user_create(
    *,
    organization: Organization,
    email: str,
    password: str | None,
    role: str,
    actor: User | None,
    full_name: str = "",
    language: str = "",
) -> User:
    """Add a user to `organization`; `actor` None is an operator's command. Audited in the same transaction."""
    _check_manages(actor=actor, organization=organization)
    user_management_check(actor=actor)
    user = User(
        email=_clean_email(email), organization=organization, role=_clean_role(role),
        full_name=_clean_full_name(full_name), language=_clean_language(language),
    )
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
            audit_record(
                action="user.created", actor=actor, organization=organization, target=user, details={"role": role}
            )
    except IntegrityError:
        raise EmailTaken(fields={"email": [EmailTaken.default_message]}) from None
    return user


# Fields user_update changes; the guarded ones are what a locked admin may no longer change.
USER_UPDATE_FIELDS = frozenset({"role", "email", "full_name", "language", "is_active"})
OPERATOR_UPDATE_FIELDS = frozenset({"organization", "is_superuser"})
USER_GUARDED_FIELDS = frozenset({"role", "email", "is_active"}) | OPERATOR_UPDATE_FIELDS

_USER_CLEANERS: dict[str, Callable[[Any], Any]] = {
    "role": _clean_role,
    "email": _clean_email,
    "full_name": _clean_full_name,
    "language": _clean_language,
    "is_active": lambda value: _clean_flag("is_active", value),
    "is_superuser": lambda value: _clean_flag("is_superuser", value),
    "organization": lambda value: value,
}


def user_update(*, actor: User | None, user: User, changes: Mapping[str, Any]) -> User:
    """Change some of a user's fields (only the keys given). Audited with the changed field names, never values.

    Role, email and active state are guarded (user_management_check); the organization and the operator flag
    are the operators' business.
    """
    unknown = set(changes) - USER_UPDATE_FIELDS - OPERATOR_UPDATE_FIELDS
    if unknown:
        raise ValueError(f"user_update cannot change {sorted(unknown)}")
    _check_manages(actor=actor, organization=user.organization)
    if set(changes) & OPERATOR_UPDATE_FIELDS and actor is not None and not actor.is_superuser:
        raise PermissionDenied()
    cleaned = {name: _USER_CLEANERS[name](value) for name, value in changes.items()}
    changed = sorted(name for name, value in cleaned.items() if getattr(user, name) != value)
    if not changed:
        return user  # nothing changed: no write, no audit event
    if "organization" in changed and user.organization_id is not None:
        # Mail accounts, locks and audit history keep the organization they were made in: moving the person
        # would leave them behind (and visible to the old organization's admins).
        raise InvalidInput(fields={"organization": [_(
            "A user can't move to another organization: their mail accounts, locks and history belong to this "
            "one. Create a new user in the other organization instead."
        )]})
    if USER_GUARDED_FIELDS.intersection(changed):
        user_management_check(actor=actor)
    before = {name: getattr(user, name) for name in changed}
    for name in changed:
        setattr(user, name, cleaned[name])
    try:
        with transaction.atomic():
            user.save(update_fields=[f"{name}_id" if name == "organization" else name for name in changed])
            audit_record(
                action="user.updated", actor=actor, organization=user.organization, target=user,
                details={"fields": changed},
            )
    except IntegrityError as exc:
        for name, value in before.items():
            setattr(user, name, value)  # the caller must not keep values the database refused
        if violated_constraint(exc) == OPERATOR_CONSTRAINT:
            raise InvalidInput(fields={"organization": [_("Choose an organization: only operators have none.")]}) \
                from None
        raise EmailTaken(fields={"email": [EmailTaken.default_message]}) from None
    return user


@sensitive_variables("password")
def user_set_password(*, actor: User | None, user: User, password: str | None) -> User:
    """Set a user's password (None: password sign-in turned off). Audited "user.password_set", never the value."""
    _check_manages(actor=actor, organization=user.organization)
    user_management_check(actor=actor)
    if password is None:
        user.set_unusable_password()
    else:
        if not isinstance(password, str) or not password:
            raise InvalidInput(fields={"password": [_("Enter the password.")]})
        try:
            password_validation.validate_password(password, user)
        except ValidationError as exc:
            raise InvalidInput(fields={"password": list(exc.messages)}) from None
        user.set_password(password)
    with transaction.atomic():
        user.save(update_fields=["password"])
        audit_record(
            action="user.password_set", actor=actor, organization=user.organization, target=user,
            details={"usable": password is not None},
        )
    return user


def organization_by_name(*, name: str) -> Organization:
    organization = Organization.objects.filter(name__iexact=(name or "").strip()).first()
    if organization is None:
        raise UnknownOrganization()
    return organization


def client_address(request) -> str:
    """The client's address, for throttling sign-ins per address (pages and API alike), by DRF's own rule (its
    throttles' get_ident): REMOTE_ADDR unless NUM_PROXIES (TRUSTED_PROXY_COUNT) proxies stand in front of the app;
    then the N-th address from the right of X-Forwarded-For, the one the outermost trusted proxy saw (anything
    further left is the client's own claim)."""
    return BaseThrottle().get_ident(request) or request.META.get("REMOTE_ADDR") or "unknown"


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


@sensitive_variables("password")
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
    with transaction.atomic():
        token = ApiToken.objects.create(user=user, key_hash=token_hash(plain), prefix=plain[:8])
        audit_record(action="token.issued", actor=user, organization=user.organization, target=token)
    return token, plain


def api_token_revoke(*, token: ApiToken, actor: User) -> ApiToken:
    if token.revoked_at is None:
        with transaction.atomic():
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            audit_record(action="token.revoked", actor=actor, organization=token.user.organization, target=token)
    return token


def user_set_language(*, user: User, language: str) -> User:
    user.language = _clean_language(language)
    user.save(update_fields=["language"])
    return user
