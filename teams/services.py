"""Every change to teams, memberships and invites goes through these functions, and the
live `team.member_status` broadcast of a member's session changes.

A change is: lock the team row, check the caller's role (teams.permissions) under
that lock, check the limits and the "at least one owner" rule, write, record the
events of the users whose membership changed, all in one transaction. The lock
order is written in teams/locks.py.
"""

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from rest_framework.exceptions import NotFound, ValidationError

from accounts.models import User
from events.log import event_record
from events.publish import publish_on_commit, team_group, user_group
from events.registry import Recorded
from pomodoro.exceptions import LastOwner, TeamLimitReached
from sessions_app.locks import locked_user
from teams import permissions
from teams.locks import locked_team_for_delete, locked_teams
from teams.models import Invite, Membership, Team
from teams.selectors import member_state, team_ids_of
from teams.serializers import MembershipSerializer

Role = Membership.Role

INVALID_CODE = "This invite code is unknown, expired, revoked or used up."


# --- Event payloads --------------------------------------------------------------------


def team_summary(team: Team) -> dict:
    return {"id": team.pk, "name": team.name}


def membership_data(membership: Membership) -> dict:
    return MembershipSerializer(membership).data


def _teams_changed(user_id: int) -> None:
    """Tells the user's open sockets to re-read their teams (join or leave team groups).
    Published before the membership event: a socket handles its messages in order, so
    by the time a client sees `team.joined` its socket already follows the team."""
    publish_on_commit(user_group(user_id), {"type": "groups.changed"})


def _membership_event(type: str, membership: Membership, **more) -> None:
    event_record(
        user=membership.user,
        type=type,
        data={
            "team": team_summary(membership.team),
            "membership": membership_data(membership),
            **more,
        },
    )


# --- Checks made under the team's lock ------------------------------------------------


def _locked_membership(*, user: User, team_id: int, action: str) -> Membership:
    """Locks the team and answers the caller's membership of it, allowed to do `action`.
    404 for a non-member, 403 for a role that may not."""
    team = locked_teams().filter(pk=team_id).first()
    if team is None:
        raise NotFound("No such team.")
    membership = permissions.team_membership(user=user, team_id=team_id)
    permissions.ensure_allowed(membership, action)
    membership.team = team
    return membership


def _member(team: Team, user_id: int) -> Membership:
    target = Membership.objects.select_related("user").filter(team=team, user_id=user_id).first()
    if target is None:
        raise NotFound("No such member.")
    target.team = team
    return target


def _ensure_not_last_owner(target: Membership) -> None:
    if target.role != Role.OWNER:
        return
    owners = Membership.objects.filter(team_id=target.team_id, role=Role.OWNER).count()
    if owners <= 1:
        raise LastOwner()


def _ensure_room_for_another_team(user: User) -> None:
    """Call with the user's row locked, so concurrent joins cannot both pass."""
    limit = settings.TEAMS_PER_USER
    if Membership.objects.filter(user_id=user.pk).count() >= limit:
        raise TeamLimitReached(f"You are in {limit} teams, the most allowed. Leave one first.")


def _ensure_room_in_team(team: Team) -> None:
    """Call with the team's row locked."""
    limit = settings.TEAM_MAX_MEMBERS
    if Membership.objects.filter(team=team).count() >= limit:
        raise TeamLimitReached(f"This team has {limit} members, the most allowed.")


# --- Teams ---------------------------------------------------------------------------


@transaction.atomic
def team_create(*, user: User, name: str) -> Membership:
    """Creates a team with the user as its owner; answers the owner's membership."""
    locked_user(user.pk)  # serializes the user's joins and creations (TEAMS_PER_USER)
    _ensure_room_for_another_team(user)
    team = Team.objects.create(name=name)
    membership = Membership.objects.create(team=team, user=user, role=Role.OWNER)
    _teams_changed(user.pk)
    _membership_event("team.joined", membership)
    return membership


@transaction.atomic
def team_rename(*, user: User, team_id: int, name: str) -> Membership:
    membership = _locked_membership(user=user, team_id=team_id, action="team.rename")
    team = membership.team
    if team.name != name:
        team.name = name
        team.save(update_fields=["name"])
    return membership


@transaction.atomic
def team_delete(*, user: User, team_id: int) -> None:
    """Deletes the team, its memberships and invites; the members' sessions, which never
    belonged to the team, stay as they are. Every member gets a `team.deleted` event."""
    team = locked_team_for_delete().filter(pk=team_id).first()
    if team is None:
        raise NotFound("No such team.")
    permissions.ensure_allowed(
        permissions.team_membership(user=user, team_id=team_id), "team.delete"
    )
    # Event stream rows in user-id order: two deletions sharing members lock them in the
    # same order, so they cannot deadlock.
    members = User.objects.filter(team_memberships__team=team).order_by("pk").only("pk")
    summary = team_summary(team)
    for member in members:
        _teams_changed(member.pk)
        event_record(user=member, type="team.deleted", data={"team": summary})
    team.delete()


# --- Members ---------------------------------------------------------------------------


@transaction.atomic
def membership_update_role(*, user: User, team_id: int, user_id: int, role: str) -> Membership:
    """Owners change anyone's role, their own included; the last owner cannot step down."""
    actor = _locked_membership(user=user, team_id=team_id, action="member.change_role")
    target = _member(actor.team, user_id)
    if target.role == role:
        return target
    if role != Role.OWNER:
        _ensure_not_last_owner(target)
    previous = target.role
    target.role = role
    target.save(update_fields=["role"])
    _membership_event("team.role_changed", target, previous_role=previous)
    return target


@transaction.atomic
def membership_remove(*, user: User, team_id: int, user_id: int) -> None:
    """Removes a member (owners anyone, admins members), or the caller itself (leaving).
    The last owner cannot leave: they hand over ownership or delete the team."""
    actor = _locked_membership(user=user, team_id=team_id, action="member.remove")
    target = actor if actor.user_id == user_id else _member(actor.team, user_id)
    permissions.ensure_may_remove(actor, target)
    _ensure_not_last_owner(target)
    if target is actor:
        target.user = user
    data = membership_data(target)
    target.delete()
    _teams_changed(target.user_id)
    event_record(
        user=target.user,
        type="team.left",
        data={
            "team": team_summary(actor.team),
            "membership": data,
            "removed_by": None if target is actor else user.pk,
        },
    )


# --- Invites ---------------------------------------------------------------------------


@transaction.atomic
def invite_create(*, user: User, team_id: int, max_uses: int | None = None) -> Invite:
    """A code valid for seven days (and `max_uses` joins, if given)."""
    membership = permissions.team_membership(user=user, team_id=team_id)
    permissions.ensure_allowed(membership, "invite.create")
    return Invite.objects.create(team_id=team_id, created_by=user, max_uses=max_uses)


@transaction.atomic
def invite_revoke(*, user: User, team_id: int, code: str) -> None:
    """Revoking a revoked invite changes nothing."""
    membership = permissions.team_membership(user=user, team_id=team_id)
    permissions.ensure_allowed(membership, "invite.revoke")
    invite = (
        Invite.objects.select_for_update(no_key=True).filter(team_id=team_id, code=code).first()
    )
    if invite is None:
        raise NotFound("No such invite.")
    if invite.revoked_at is None:
        invite.revoked_at = timezone.now()
        invite.save(update_fields=["revoked_at"])


@transaction.atomic
def team_join(*, user: User, code: str) -> tuple[Membership, bool]:
    """Joins the invite's team as a member. Answers (membership, created): joining a team
    one is already in answers the existing membership and uses nothing up. An unknown,
    expired, revoked or used-up code is one and the same 400, so that it tells a guesser
    nothing."""
    invite = Invite.objects.filter(code=code).only("pk", "team_id").first()
    if invite is None:
        raise ValidationError({"code": [INVALID_CODE]})
    locked_user(user.pk)  # lock order: user, then team (teams/locks.py)
    team = locked_teams().filter(pk=invite.team_id).first()
    # Read again under the team's lock: every join to the team waits for it, so `uses`
    # is exact here.
    invite = Invite.objects.filter(pk=invite.pk).first() if team is not None else None
    if invite is None or not invite.usable(timezone.now()):
        raise ValidationError({"code": [INVALID_CODE]})
    existing = Membership.objects.filter(team=team, user_id=user.pk).first()
    if existing is not None:
        existing.team, existing.user = team, user
        return existing, False
    _ensure_room_in_team(team)
    _ensure_room_for_another_team(user)
    membership = Membership.objects.create(team=team, user=user, role=Role.MEMBER)
    Invite.objects.filter(pk=invite.pk).update(uses=F("uses") + 1)
    _teams_changed(user.pk)
    _membership_event("team.joined", membership)
    return membership, True


# --- Live member status ------------------------------------------------------------------

# Session events after which a member's state or remaining time may differ.
STATUS_EVENT_TYPES = frozenset(
    {
        "session.started",
        "session.paused",
        "session.stopped",
        "session.completed",
        "session.reset",
        "session.deleted",
        "session.updated",
    }
)


MEMBER_STATUS = "teams.member_status"  # the reaction's name in events.registry


def member_status_publish(recorded: Recorded) -> None:
    """Tells the user's teams the user's state after a session event: state and remaining
    time only, no seq, not in the event log. Runs after the commit (events.registry).
    The user's teams were read by the event's own statement (`team_ids_read`: no query
    of its own, no lock taken); without that read, one query here."""
    event_type, session, user = recorded.event.type, recorded.subject, recorded.user
    if event_type == "session.updated" and not session.is_active:
        return  # an edit of an ended session: the member's state did not change
    if MEMBER_STATUS in recorded.reads:
        team_ids = recorded.reads[MEMBER_STATUS] or []
    else:
        team_ids = team_ids_of(user_id=user.pk)
    if not team_ids:
        return
    if event_type == "session.reset":
        # The session ended; a fresh paused one of the same plan took its place.
        remaining = session.planned_seconds
        data = {"state": "paused", "remaining_seconds": remaining}
    else:
        state = member_state(session, recorded.event.at)
        data = {"state": state.state, "remaining_seconds": state.remaining_seconds}
    data = {"user": {"id": user.pk, "display_name": user.display_name}, **data}
    for team_id in team_ids:
        payload = {"type": "team.member_status", "team": team_id, "data": data}
        publish_on_commit(team_group(team_id), {"type": "group.message", "payload": payload})


def member_status_publish_last(records: list[Recorded]) -> None:
    """After events recorded together: the member's state after the last of them."""
    member_status_publish(records[-1])


def teams_hand_over(user: User) -> None:
    """Before `user`'s account is deleted (an accounts.deletion step): each team it is
    the only owner of passes to its longest-standing remaining member, made owner (who
    gets `team.role_changed`), or is deleted when nobody else is in it. Its memberships
    themselves go with the user row. Teams are locked in id order, after the user row,
    as teams.locks says."""
    team_ids = Membership.objects.filter(user=user, role=Role.OWNER).values("team_id")
    for team in locked_teams().filter(pk__in=team_ids):
        others = Membership.objects.filter(team=team).exclude(user=user)
        if others.filter(role=Role.OWNER).exists():
            continue
        successor = others.select_related("user").order_by("joined_at", "pk").first()
        if successor is None:
            team.delete()
            continue
        successor.team = team
        previous = successor.role
        successor.role = Role.OWNER
        successor.save(update_fields=["role"])
        _membership_event("team.role_changed", successor, previous_role=previous)
