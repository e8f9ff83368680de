"""Who may do what to a team: the one place that decides.

Every team endpoint goes through `TeamAccess` (a DRF permission), and every team
service checks again under the team's lock with `team_membership` and
`ensure_allowed`, so a role changed between the two checks still counts.

- A user who is not a member sees nothing of a team: 404 `not_found`.
- A member whose role does not allow the action: 403 `permission_denied`.

The table (docs/design.md, Teams, repeats it) is `ALLOWED` below; removing a member
has one more rule, `ensure_may_remove`.
"""

from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.permissions import BasePermission

from teams.models import Membership

Role = Membership.Role
EVERY_ROLE = frozenset(Role)
OWNERS_AND_ADMINS = frozenset({Role.OWNER, Role.ADMIN})

ALLOWED: dict[str, frozenset[str]] = {
    "team.read": EVERY_ROLE,
    "team.rename": OWNERS_AND_ADMINS,
    "team.delete": frozenset({Role.OWNER}),
    "members.read": EVERY_ROLE,
    "member.change_role": frozenset({Role.OWNER}),
    # Owners remove anyone, admins members only, anyone themselves (ensure_may_remove).
    "member.remove": EVERY_ROLE,
    "invites.read": OWNERS_AND_ADMINS,
    "invite.create": OWNERS_AND_ADMINS,
    "invite.revoke": OWNERS_AND_ADMINS,
    "status.read": EVERY_ROLE,
    "leaderboard.read": EVERY_ROLE,
}


def team_membership(*, user, team_id: int) -> Membership:
    """The user's membership of the team, with the team; 404 for a non-member (or no
    such team: the two look the same from outside)."""
    membership = (
        Membership.objects.select_related("team").filter(team_id=team_id, user_id=user.pk).first()
    )
    if membership is None:
        raise NotFound("No such team.")
    return membership


def ensure_allowed(membership: Membership, action: str) -> None:
    if membership.role not in ALLOWED[action]:
        raise PermissionDenied(f"A team {membership.role} cannot do this ({action}).")


def ensure_may_remove(actor: Membership, target: Membership) -> None:
    """Anyone may leave; an owner removes anyone; an admin removes members only."""
    if actor.user_id == target.user_id or actor.role == Role.OWNER:
        return
    if actor.role == Role.ADMIN and target.role == Role.MEMBER:
        return
    raise PermissionDenied(f"A team {actor.role} cannot remove a team {target.role}.")


class TeamAccess(BasePermission):
    """For views under teams/{team_id}/: `team_actions` maps each HTTP method to an
    action of ALLOWED. The caller's membership is left on `request.team_membership`."""

    def has_permission(self, request, view) -> bool:
        team_id = view.kwargs.get("team_id")
        if team_id is None:
            return True
        action = view.team_actions.get(request.method)
        if action is None:
            # A method the view does not answer (TRACE, PUT): the dispatcher answers 405;
            # OPTIONS describes the view, not the team.
            return True
        membership = team_membership(user=request.user, team_id=int(team_id))
        ensure_allowed(membership, action)
        request.team_membership = membership
        return True
