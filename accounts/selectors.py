"""Reads of accounts: the user behind a token, tokens, the calendar feed, guests due for
deletion."""

import datetime
from functools import cache

from django.db import connection
from django.db.models import Exists, OuterRef, QuerySet
from rest_framework.exceptions import NotFound
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from accounts.models import CalendarFeed, PersonalAccessToken, TimerSettings, User
from accounts.secrets import secret_hash
from events.models import Event
from pomodoro.rows import instance_fetch, instance_from_row, select_list


@cache
def _user_by_id_statement() -> str:
    table = connection.ops.quote_name(User._meta.db_table)
    return f"SELECT {select_list(User)} FROM {table} WHERE id = %s"


def user_by_id(user_id: int) -> User | None:
    """The user with this id, or None. Every authenticated request reads its user: the
    statement is written once here rather than compiled by the ORM on each request
    (pomodoro.rows)."""
    return instance_fetch(User, _user_by_id_statement(), [user_id])


@cache
def _user_with_token_statement() -> str:
    quote = connection.ops.quote_name
    return (
        f"SELECT {select_list(User, 'u')}, t.id, t.scope, t.expires_at, t.last_used_at"
        f" FROM {quote(User._meta.db_table)} u"
        f" JOIN {quote(PersonalAccessToken._meta.db_table)} t ON t.user_id = u.id"
        " WHERE t.token_hash = %s"
    )


def user_with_token(*, token_hash: str) -> tuple[User, tuple] | None:
    """The user owning the personal access token with this hash, and the token's
    (id, scope, expires_at, last_used_at); None for no such token. Written out once, as
    user_by_id is: built by the ORM (a join, select_related) on every request, the
    lookup cost more CPU than a JWT's decoding and user query together
    (bench/account_bench.py)."""
    with connection.cursor() as cursor:
        cursor.execute(_user_with_token_statement(), [token_hash])
        row = cursor.fetchone()
    if row is None:
        return None
    user = instance_from_row(User, row)
    return user, row[len(User._meta.concrete_fields) :]


@cache
def _timer_settings_statement() -> str:
    table = connection.ops.quote_name(TimerSettings._meta.db_table)
    return f"SELECT {select_list(TimerSettings)} FROM {table} WHERE user_id = %s"


def timer_settings_of(user_id: int) -> TimerSettings:
    """The user's timer settings (TimerSettings.DoesNotExist if none), written out for
    the same reason as user_by_id: every session create reads them."""
    found = instance_fetch(TimerSettings, _timer_settings_statement(), [user_id])
    if found is None:
        raise TimerSettings.DoesNotExist("The user has no timer settings.")
    return found


def personal_token_list(*, user: User) -> QuerySet[PersonalAccessToken]:
    return PersonalAccessToken.objects.filter(user=user).order_by("-created_at", "-pk")


def calendar_feed_owner(*, secret: str) -> User:
    """The user whose feed this secret opens; NotFound (404) for any other secret."""
    feed = (
        CalendarFeed.objects.select_related("user")
        .filter(token_hash=secret_hash(secret, purpose="calendar"), user__is_active=True)
        .first()
    )
    if feed is None:
        raise NotFound("No such calendar feed.")
    return feed.user


def inactive_guests(*, cutoff: datetime.datetime) -> QuerySet[User]:
    """Guests that joined before `cutoff` and since then recorded no event and were issued
    no token (a refresh is a sign of use even for a client that only reads)."""
    recent_event = Event.objects.filter(user=OuterRef("pk"), at__gte=cutoff)
    recent_token = OutstandingToken.objects.filter(user=OuterRef("pk"), created_at__gte=cutoff)
    return (
        User.objects.filter(is_guest=True, date_joined__lt=cutoff)
        .exclude(Exists(recent_event))
        .exclude(Exists(recent_token))
        .order_by("pk")
    )
