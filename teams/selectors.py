"""Reads of teams: my teams, members, invites, the live status board and the team
leaderboard. Only state and timing of a member's sessions leave here, never a
session's name, description or task (docs/design.md, Teams, privacy)."""

import datetime
from dataclasses import dataclass
from functools import cache

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import User
from analytics import selectors as analytics
from events.publish import team_group
from sessions_app.models import Session
from teams.models import Invite, Membership

Kind = Session.Kind
State = Session.State


def team_list(*, user: User) -> QuerySet[Membership]:
    """The user's memberships, with their teams, in the order joined."""
    return Membership.objects.filter(user_id=user.pk).select_related("team")


def team_ids_of(*, user_id: int) -> list[int]:
    """The user's teams. Read after every session event of every user (teams.services.
    member_status_publish), so written once as SQL, not compiled by the ORM each time."""
    with connection.cursor() as cursor:
        cursor.execute(_team_ids_of_statement(), [user_id])
        return [team_id for (team_id,) in cursor.fetchall()]


def team_ids_read() -> str:
    """The user's team ids (an array, NULL for none) as an SQL expression over
    `recorded`, the new event row: the event's statement reads them for
    member_status_publish (events.registry, `reads`), which then needs no query of its
    own after the commit."""
    # Not quoted through connection.ops: this is built at start-up (teams.apps), where a
    # management command may run with no database; the name needs no quoting.
    table = Membership._meta.db_table
    return (
        f"(SELECT array_agg(team_id ORDER BY team_id) FROM {table} "
        "WHERE user_id = recorded.user_id)"
    )


@cache
def _team_ids_of_statement() -> str:
    # Built on first use, not at import: management commands import this with no database.
    table = connection.ops.quote_name(Membership._meta.db_table)
    return f"SELECT team_id FROM {table} WHERE user_id = %s"


def team_groups_of(user_id: int) -> set[str]:
    """The channel-layer groups of the user's teams, which the user's sockets join."""
    return {team_group(team_id) for team_id in team_ids_of(user_id=user_id)}


def member_list(*, team_id: int) -> QuerySet[Membership]:
    return Membership.objects.filter(team_id=team_id).select_related("user")


def invite_list(*, team_id: int, now: datetime.datetime | None = None) -> QuerySet[Invite]:
    """The team's invites that can still be used or may be revoked: not revoked, not
    expired (used-up ones included, to show that they are)."""
    now = now or timezone.now()
    return Invite.objects.filter(team_id=team_id, revoked_at__isnull=True, expires_at__gt=now)


# --- Live status ---------------------------------------------------------------------


@dataclass(frozen=True)
class MemberState:
    state: str  # focus | break | paused | idle
    remaining_seconds: int | None


IDLE = MemberState("idle", None)


def member_state(session: Session | None, now: datetime.datetime) -> MemberState:
    """What a team sees of a member's active session: its state and remaining time only.
    A running session past its planned length completed there (the worker may not have
    noticed yet): the member is idle."""
    if session is None or not session.is_active or session.deleted_at is not None:
        return IDLE
    if session.is_due(now):
        return IDLE
    if session.state == State.PAUSED:
        state = "paused"
    elif session.kind in Session.BREAK_KINDS:
        state = "break"
    else:
        state = "focus"
    return MemberState(state, session.remaining_seconds(now))


@dataclass(frozen=True)
class MemberStatus:
    user: User
    state: str
    remaining_seconds: int | None
    today_focus_seconds: int


def team_status(*, team_id: int, now: datetime.datetime | None = None) -> list[MemberStatus]:
    """Every member's state, remaining time and focus time in their own current day.
    Three queries whatever the team's size: members, active sessions, and today's focus
    summed in the database as the team's `today` leaderboard sums it."""
    now = now or timezone.now()
    memberships = list(
        member_list(team_id=team_id)
        .only("user__id", "user__display_name")
        .order_by("joined_at", "pk")
    )
    users = [membership.user for membership in memberships]
    user_ids = [user.pk for user in users]
    active = {
        session.user_id: session
        for session in Session.objects.filter(
            user_id__in=user_ids, state__in=Session.ACTIVE_STATES, deleted_at__isnull=True
        ).only(
            "user_id",
            "kind",
            "state",
            "planned_seconds",
            "target_end_at",
            "running_since",
            "closed_running_time",
            "deleted_at",
        )
    }
    focus = analytics.current_period_focus(user_ids=user_ids, period="today", now=now)
    rows = []
    for user in users:
        state = member_state(active.get(user.pk), now)
        rows.append(MemberStatus(user, state.state, state.remaining_seconds, focus.get(user.pk, 0)))
    return rows


def team_leaderboard(
    *, team_id: int, period: str, now: datetime.datetime | None = None
) -> list[analytics.LeaderboardRow]:
    """The global board's rules (dense ranks, opt-outs left out, each member's own day
    and week) over the team's members only."""
    member_ids = list(Membership.objects.filter(team_id=team_id).values_list("user_id", flat=True))
    return analytics.leaderboard(period=period, user_ids=member_ids, now=now)
