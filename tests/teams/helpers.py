"""Teams built through the services, as users build them, and snapshots that prove a
refused request changed nothing."""

from dataclasses import dataclass

from accounts.models import User
from events.models import Event
from teams import services
from teams.models import Invite, Membership, Team
from tests.factories import UserFactory

API = "/api/v1/"


@dataclass
class TeamWorld:
    team: Team
    owner: User
    admin: User
    member: User
    target: User  # a second plain member, for actions on someone else
    outsider: User

    def by_role(self, role: str) -> User:
        return {
            "owner": self.owner,
            "admin": self.admin,
            "member": self.member,
            "non-member": self.outsider,
        }[role]


def team_with(owner: User, *members: User, name: str = "Squad") -> Team:
    """A team of `owner` that `members` joined with an invite, as plain members."""
    team = services.team_create(user=owner, name=name).team
    if members:
        invite = services.invite_create(user=owner, team_id=team.pk)
        for member in members:
            services.team_join(user=member, code=invite.code)
    return team


def build_world() -> TeamWorld:
    owner, admin, member, target, outsider = UserFactory.create_batch(5)
    team = team_with(owner, admin, member, target)
    services.membership_update_role(user=owner, team_id=team.pk, user_id=admin.pk, role="admin")
    return TeamWorld(team, owner, admin, member, target, outsider)


def team_snapshot(team_id: int) -> dict:
    return {
        "team": list(Team.objects.filter(pk=team_id).values_list("name", flat=True)),
        "members": sorted(
            Membership.objects.filter(team_id=team_id).values_list("user_id", "role")
        ),
        "invites": sorted(
            Invite.objects.filter(team_id=team_id).values_list("code", "uses", "revoked_at")
        ),
        "events": Event.objects.count(),
    }


def team_events(user) -> list[tuple[str, dict]]:
    return [
        (event.type, event.data)
        for event in Event.objects.filter(user=user, type__startswith="team.").order_by("seq")
    ]
