"""Every change to accounts, profiles and timer settings goes through these functions."""

import secrets
from typing import Any

from django.contrib.auth import authenticate, password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from rest_framework.exceptions import ValidationError
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import TimerSettings, User
from accounts.serializers import ProfileSerializer, TimerSettingsSerializer
from accounts.tokens import token_is_current, token_pair_for
from events.log import event_record
from events.publish import publish_on_commit, user_group
from pomodoro.emails import normalize_email
from pomodoro.exceptions import InvalidCredentials, TokenNotValid
from pomodoro.throttling import login_attempt_admit, login_failure_note, login_failures_clear


def _validate_password(password: str, user: User) -> None:
    try:
        password_validation.validate_password(password, user)
    except DjangoValidationError as error:
        raise ValidationError({"password": list(error.messages)}) from error


def _ensure_email_free(email: str, *, except_user: User | None = None) -> None:
    taken = User.objects.filter(email=email)
    if except_user is not None:
        taken = taken.exclude(pk=except_user.pk)
    if taken.exists():
        raise ValidationError({"email": ["An account with this email already exists."]})


@transaction.atomic
def user_create(
    *, email: str | None, password: str | None, is_guest: bool = False, **fields: Any
) -> User:
    """A user and its timer settings, created together. No password checks: see user_register."""
    user = User(email=normalize_email(email) if email else None, is_guest=is_guest, **fields)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    TimerSettings.objects.create(user=user)
    return user


def user_register(
    *, email: str, password: str, display_name: str = "", timezone: str = "UTC"
) -> tuple[User, dict[str, str]]:
    """A new account and its first token pair. Password validators apply."""
    email = normalize_email(email)
    candidate = User(email=email, display_name=display_name)
    _validate_password(password, candidate)
    _ensure_email_free(email)
    try:
        with transaction.atomic():
            user = user_create(
                email=email, password=password, display_name=display_name, timezone=timezone
            )
    except IntegrityError as error:  # a concurrent registration took the email first
        raise ValidationError({"email": ["An account with this email already exists."]}) from error
    return user, token_pair_for(user)


def guest_create() -> tuple[User, dict[str, str]]:
    """An account with no email, usable at once; it can be claimed later."""
    user = user_create(
        email=None,
        password=None,
        is_guest=True,
        display_name=f"Guest {secrets.token_hex(3)}",
    )
    return user, token_pair_for(user)


def guest_claim(*, user: User, email: str, password: str) -> User:
    """Turns a guest into a normal account in place, so everything it tracked stays its own."""
    if not user.is_guest:
        raise ValidationError({"non_field_errors": ["This account is not a guest account."]})
    email = normalize_email(email)
    user.email = email
    _validate_password(password, user)
    _ensure_email_free(email, except_user=user)
    try:
        with transaction.atomic():
            # FOR UPDATE, not NO KEY: changing the email (a unique key) needs it anyway,
            # and taking it first means we never wait for it while holding anything else.
            user = User.objects.select_for_update().get(pk=user.pk)
            if not user.is_guest:
                raise ValidationError(
                    {"non_field_errors": ["This account is not a guest account."]}
                )
            user.email = email
            user.is_guest = False
            user.set_password(password)
            user.save(update_fields=["email", "is_guest", "password", "token_generation"])
            event_record(user=user, type="profile.updated", data={"profile": profile_data(user)})
    except IntegrityError as error:
        raise ValidationError({"email": ["An account with this email already exists."]}) from error
    return user


def auth_login(*, email: str, password: str, client: str | None = None) -> dict[str, str]:
    """A token pair for the right password. Attempts count toward the account's lockout
    (LoginLockedOut, 429, even for the right password; pomodoro.throttling) before the
    password is checked; `client` (the caller's address) is for the lockout's log line."""
    attempts = login_attempt_admit(email=email)
    user = authenticate(None, email=email, password=password)
    if user is None:
        login_failure_note(email=email, attempts=attempts, client=client)
        raise InvalidCredentials()
    login_failures_clear(email=email)
    return token_pair_for(user)


def _valid_refresh_token(raw_token: str) -> RefreshToken:
    try:
        return RefreshToken(raw_token)
    except TokenError as error:
        raise TokenNotValid(str(error)) from error


def _refresh_token_consume(token: RefreshToken) -> OutstandingToken:
    """Blacklists the token; call it inside transaction.atomic() and let its TokenNotValid
    leave the block (which rolls back). The insert is the check: BlacklistedToken.token is
    unique, so of concurrent callers with one token exactly one gets past it; the others,
    and tokens never issued, get TokenNotValid."""
    try:
        outstanding = OutstandingToken.objects.select_related("user").get(jti=token["jti"])
        BlacklistedToken.objects.create(token=outstanding)
    except (OutstandingToken.DoesNotExist, IntegrityError) as error:
        raise TokenNotValid("Token is blacklisted") from error
    return outstanding


def auth_refresh(*, refresh: str) -> dict[str, str]:
    """Consumes the refresh token and issues a new pair (rotation).

    simplejwt's own rotation checks the blacklist and then inserts into it, so two
    concurrent refreshes with one token can both pass. Here the consumption is the
    insert itself (_refresh_token_consume), so exactly one caller wins.
    """
    token = _valid_refresh_token(refresh)
    with transaction.atomic():
        user = _refresh_token_consume(token).user
        if user is None or not token_is_current(token, user):
            raise TokenNotValid("The token was revoked.")
        return token_pair_for(user)


def auth_logout(*, refresh: str) -> None:
    """Blacklists the refresh token, so it cannot be refreshed again."""
    token = _valid_refresh_token(refresh)
    with transaction.atomic():
        _refresh_token_consume(token)


def profile_data(user: User) -> dict:
    return ProfileSerializer(user).data


def settings_data(timer_settings: TimerSettings) -> dict:
    return TimerSettingsSerializer(timer_settings).data


def _changes_apply(instance: Any, changes: dict[str, Any], *, full_clean: bool = False) -> bool:
    """Sets and saves the fields whose value differs (only those columns are written);
    False, with nothing saved, when none does. `full_clean` runs the model's validators
    on the changed instance before the save."""
    changed = [name for name, value in changes.items() if getattr(instance, name) != value]
    if not changed:
        return False
    for name in changed:
        setattr(instance, name, changes[name])
    if full_clean:
        instance.full_clean()
    instance.save(update_fields=changed)
    return True


PROFILE_FIELDS = {
    "display_name",
    "timezone",
    "day_starts_at",
    "week_starts_on",
    "leaderboard_opt_out",
}


@transaction.atomic
def profile_update(*, user: User, **changes: Any) -> User:
    """Applies validated profile changes; records `profile.updated` when anything changed."""
    unknown = set(changes) - PROFILE_FIELDS
    if unknown:
        raise ValueError(f"not profile fields: {sorted(unknown)}")
    user = User.objects.select_for_update(no_key=True).get(pk=user.pk)
    if not _changes_apply(user, changes):
        return user
    event_record(user=user, type="profile.updated", data={"profile": profile_data(user)})
    return user


@transaction.atomic
def timer_settings_update(*, user: User, **changes: Any) -> TimerSettings:
    """Applies validated settings changes; records `settings.updated` when anything changed."""
    timer_settings = TimerSettings.objects.select_for_update(no_key=True).get(user=user)
    if not _changes_apply(timer_settings, changes, full_clean=True):
        return timer_settings
    event_record(
        user=user, type="settings.updated", data={"settings": settings_data(timer_settings)}
    )
    return timer_settings


@transaction.atomic
def user_set_password(*, user: User, password: str) -> User:
    """A new password; every token issued before it stops working."""
    _validate_password(password, user)
    user = User.objects.select_for_update(no_key=True).get(pk=user.pk)
    user.set_password(password)
    user.save(update_fields=["password", "token_generation"])
    _close_open_sockets(user)
    return user


def _close_open_sockets(user: User) -> None:
    """Tells the user's sockets at once that their credentials are gone (after commit).
    Sockets also check by themselves, so a lost message delays this by 30 s at most."""
    publish_on_commit(user_group(user.pk), {"type": "auth.revoked"})


@transaction.atomic
def user_set_active(*, user: User, is_active: bool) -> User:
    User.objects.filter(pk=user.pk).update(is_active=is_active)
    user.is_active = is_active
    if not is_active:
        _close_open_sockets(user)
    return user
