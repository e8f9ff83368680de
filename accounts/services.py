"""Every change to accounts, profiles and timer settings goes through these functions."""

import datetime
import secrets
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import authenticate, password_validation
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts import deletion, settings_followers
from accounts.models import CalendarFeed, PersonalAccessToken, TimerSettings, User
from accounts.secrets import secret_hash, secret_new, secret_prefix
from accounts.selectors import inactive_guests
from accounts.serializers import ProfileSerializer, TimerSettingsSerializer
from accounts.tokens import PAT_MARKER, token_is_current, token_pair_for
from events.log import event_record
from events.publish import publish_on_commit, user_group
from pomodoro.emails import normalize_email
from pomodoro.exceptions import InvalidCredentials, TokenNotValid
from pomodoro.throttling import (
    login_attempt_admit,
    login_failures_clear,
    login_ip_admit,
)


def _validate_password(password: str, user: User, *, field: str = "password") -> None:
    try:
        password_validation.validate_password(password, user)
    except DjangoValidationError as error:
        raise ValidationError({field: list(error.messages)}) from error


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
    user = account_register(
        email=email, password=password, display_name=display_name, timezone=timezone
    )
    return user, token_pair_for(user)


def account_register(
    *, email: str, password: str, display_name: str = "", timezone: str = "UTC"
) -> User:
    """A new account, no tokens (the web app signs in with a session cookie). Password
    validators apply."""
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
    return user


def guest_create() -> tuple[User, dict[str, str]]:
    """An account with no email, usable at once; it can be claimed later."""
    user = guest_account_create()
    return user, token_pair_for(user)


def guest_account_create() -> User:
    """A guest account, no tokens (the web app signs in with a session cookie)."""
    return user_create(
        email=None,
        password=None,
        is_guest=True,
        display_name=f"Guest {secrets.token_hex(3)}",
    )


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


def auth_login(*, request: HttpRequest, email: str, password: str) -> dict[str, str]:
    """A token pair for the right password. The guess limits apply (accounts.backends:
    the address's limit and the account's lockout, 429 even for the right password);
    `request` is what they count by."""
    return token_pair_for(account_authenticate(request=request, email=email, password=password))


def account_authenticate(*, request: HttpRequest, email: str, password: str) -> User:
    """The user with this email and password, under the same guess limits as auth_login;
    InvalidCredentials (401) otherwise."""
    user = authenticate(request, email=email, password=password)
    if user is None:
        raise InvalidCredentials()
    return user


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
    if "stopwatch_max_minutes" in changes:
        # The user row first, as creating a session takes it: a stopwatch created
        # meanwhile is then either committed (and its stop moved by the follower below)
        # or created after this commits, reading the new limit.
        User.objects.select_for_update(no_key=True).only("pk").get(pk=user.pk)
    timer_settings = TimerSettings.objects.select_for_update(no_key=True).get(user=user)
    changed = {name for name, value in changes.items() if getattr(timer_settings, name) != value}
    if not _changes_apply(timer_settings, changes, full_clean=True):
        return timer_settings
    # Before the event: a follower may lock session rows, which come before the user's
    # event stream row in the lock order (accounts.settings_followers).
    for follower in settings_followers.timer_settings_followers():
        follower(user=user, timer_settings=timer_settings, changed=changed)
    event_record(
        user=user, type="settings.updated", data={"settings": settings_data(timer_settings)}
    )
    return timer_settings


@transaction.atomic
def user_set_password(*, user: User, password: str, field: str = "password") -> User:
    """A new password (validators apply; an error is reported under `field`); every
    token issued before it stops working and the user's sockets close at once."""
    _validate_password(password, user, field=field)
    user = User.objects.select_for_update(no_key=True).get(pk=user.pk)
    user.set_password(password)
    user.save(update_fields=["password", "token_generation"])
    _close_open_sockets(user)
    return user


@transaction.atomic
def user_password_disable(*, user: User) -> User:
    """No password login any more (an operator's choice in the admin); every token issued
    before stops working and the user's sockets close at once."""
    user = User.objects.select_for_update(no_key=True).get(pk=user.pk)
    user.set_unusable_password()
    user.token_generation += 1
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


# --- Password change and reset --------------------------------------------------------

WRONG_CURRENT_PASSWORD = "This is not your current password."
INVALID_RESET_TOKEN = "This reset link is unknown, used or expired. Ask for a new one."


def password_change(
    *, request: HttpRequest, user: User, current_password: str, new_password: str
) -> dict[str, str]:
    """A new password for a caller who knows the current one, and a fresh token pair for
    it; every token issued before (other devices' too) stops working and the user's
    sockets close. The current password is checked by authenticate(), so it counts as a
    guess under the login limits (accounts.backends)."""
    if (
        user.email is None
        or authenticate(request, email=user.email, password=current_password) != user
    ):
        raise ValidationError({"current_password": [WRONG_CURRENT_PASSWORD]})
    user = user_set_password(user=user, password=new_password, field="new_password")
    return token_pair_for(user)


# The reset token is the user's id and Django's PasswordResetTokenGenerator token:
# "<uidb64>-<timestamp>-<hash>". The hash covers the password hash and last_login, so the
# token stops working once used (the password changed) or after any other password change;
# PASSWORD_RESET_TIMEOUT (1 hour) bounds its age.
RESET_TOKEN_SEPARATOR = "-"
MAX_ID = 2**63 - 1  # a bigint: a larger id in a forged token names nobody


def password_reset_token(user: User) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return f"{uid}{RESET_TOKEN_SEPARATOR}{default_token_generator.make_token(user)}"


def _password_reset_user(token: str) -> User | None:
    """The user the token names (valid or not), None when it names nobody."""
    parts = token.rsplit(RESET_TOKEN_SEPARATOR, 2)
    if len(parts) != 3:
        return None
    try:
        user_id = int(urlsafe_base64_decode(parts[0]).decode())
    except (ValueError, UnicodeDecodeError):
        return None
    if not 0 < user_id <= MAX_ID:
        return None
    return User.objects.filter(pk=user_id, is_active=True, email__isnull=False).first()


def _reset_token_valid(user: User, token: str) -> bool:
    return default_token_generator.check_token(user, token.split(RESET_TOKEN_SEPARATOR, 1)[1])


def password_reset_request(*, email: str, web_app_url: str) -> bool:
    """Emails a reset link when an active account with a usable password has this email;
    does nothing otherwise. True when an email went out.

    How long this takes tells whether the account exists, so the API runs it after its
    (always identical) 202 has been sent (pomodoro.after_response), never before."""
    user = User.objects.filter(email=normalize_email(email), is_active=True).first()
    if user is None or not user.has_usable_password():
        return False
    token = password_reset_token(user)
    link = f"{web_app_url.rstrip('/')}/reset-password/?{urlencode({'token': token})}"
    hours = settings.PASSWORD_RESET_TIMEOUT // 3600
    send_mail(
        subject="Reset your Pomodoro password",
        message=(
            "Someone asked to reset the password of your Pomodoro account.\n\n"
            f"To choose a new password, open this link within {hours} hour"
            f"{'' if hours == 1 else 's'}:\n\n{link}\n\n"
            "The link works once. If you did not ask for it, ignore this email: "
            "your password stays as it is.\n"
        ),
        from_email=None,
        recipient_list=[user.email],
    )
    return True


def password_reset_confirm(*, request: HttpRequest, token: str, new_password: str) -> None:
    """Sets the new password if the token is valid (once: using it changes the password
    the token is bound to); every token of the user stops working and its sockets close.
    Each try counts as a password guess, for the address and for the account it names."""
    login_ip_admit(request)
    user = _password_reset_user(token)
    if user is not None:
        login_attempt_admit(email=user.email)
    if user is None or not _reset_token_valid(user, token):
        raise ValidationError({"token": [INVALID_RESET_TOKEN]})
    with transaction.atomic():
        # Checked again under the row's lock: of two concurrent uses, the second finds
        # the password already changed and its token no longer valid.
        locked = User.objects.select_for_update(no_key=True).get(pk=user.pk)
        if not _reset_token_valid(locked, token):
            raise ValidationError({"token": [INVALID_RESET_TOKEN]})
        user_set_password(user=locked, password=new_password, field="new_password")
    login_failures_clear(email=user.email)


# --- Personal access tokens ---------------------------------------------------------------


def personal_token_create(
    *, user: User, name: str, scope: str, expires_at: datetime.datetime | None = None
) -> tuple[PersonalAccessToken, str]:
    """A new token and its secret, which is returned this once and stored only hashed."""
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": ["Choose a time in the future."]})
    secret = secret_new(marker=PAT_MARKER)
    token = PersonalAccessToken.objects.create(
        user=user,
        name=name,
        scope=scope,
        prefix=secret_prefix(secret, marker=PAT_MARKER),
        token_hash=secret_hash(secret, purpose="pat"),
        expires_at=expires_at,
    )
    return token, secret


def personal_token_delete(*, user: User, token_id: int) -> None:
    """Revokes the token at once: the next request with it finds no row."""
    deleted, _ = PersonalAccessToken.objects.filter(pk=token_id, user=user).delete()
    if not deleted:
        raise NotFound("No such token.")


# --- Calendar feed ----------------------------------------------------------------------

CALENDAR_MARKER = "cal_"


def calendar_feed_create(*, user: User) -> str:
    """A new secret feed token for the user, replacing (and so revoking) the old one."""
    secret = secret_new(marker=CALENDAR_MARKER)
    CalendarFeed.objects.update_or_create(
        user=user,
        defaults={
            "token_hash": secret_hash(secret, purpose="calendar"),
            "created_at": timezone.now(),
        },
    )
    return secret


def calendar_feed_delete(*, user: User) -> None:
    CalendarFeed.objects.filter(user=user).delete()


# --- Account deletion ---------------------------------------------------------------------


@transaction.atomic
def user_delete(*, user: User, password: str | None, request: HttpRequest | None = None) -> None:
    """Deletes the account and everything it owns at once. A normal account confirms with
    its password (a wrong one is 400 and changes nothing); a guest, which has none, with
    nothing. The steps other apps registered (accounts.deletion: a team's hand-over) run
    first, under the user's row lock; the rows that reference the user go with it by
    their foreign keys' cascades. Its sockets close after the commit; its tokens stop
    working with the row. The password counts as a guess, as at login."""
    if not user.is_guest and (
        password is None or authenticate(request, email=user.email, password=password) != user
    ):
        raise ValidationError({"password": ["This is not your password."]})
    # FOR UPDATE (not NO KEY): the row is about to be deleted, which takes it anyway;
    # taking it first makes the user's concurrent writes wait and then find no user.
    locked = User.objects.select_for_update().get(pk=user.pk)
    for step in deletion.user_deletion_steps():
        step(locked)
    # simplejwt's outstanding tokens are SET_NULL on the user: deleted here, not orphaned.
    OutstandingToken.objects.filter(user=locked).delete()
    _close_open_sockets(locked)
    locked.delete()


def guests_delete_inactive(*, inactive_for: datetime.timedelta, limit: int = 500) -> int:
    """Deletes guest accounts with no activity (no event recorded, not joined) for
    `inactive_for`; returns how many. Guests cannot sign in again once their tokens are
    gone, so an idle guest is data nobody can reach."""
    cutoff = timezone.now() - inactive_for
    deleted = 0
    for guest in inactive_guests(cutoff=cutoff)[:limit]:
        user_delete(user=guest, password=None)
        deleted += 1
    return deleted
