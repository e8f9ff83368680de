"""The teams section of the account export (accounts.export), registered in
TeamsConfig.ready()."""

import datetime
from collections.abc import Iterator

from accounts.export import export_dumps, export_time
from accounts.models import User
from teams.models import Membership


def teams_section(user: User, now: datetime.datetime) -> Iterator[str]:
    memberships = (
        Membership.objects.filter(user=user).select_related("team").order_by("joined_at", "pk")
    )
    yield export_dumps(
        [
            {
                "id": membership.team_id,
                "name": membership.team.name,
                "role": membership.role,
                "joined_at": export_time(membership.joined_at),
            }
            for membership in memberships
        ]
    )
