"""Row locks of teams. Lock order, always: the user row (sessions_app.locks.locked_user,
only where a user's number of teams is checked: create, join), then the team row, then
(written by event_record at the end) event stream rows in user-id order.

A team row is locked FOR NO KEY UPDATE wherever its members or roles change, so that
member counts and the "at least one owner" rule are checked against a stable team;
FOR NO KEY UPDATE still lets other transactions insert rows that reference the team."""

from django.db.models import QuerySet

from teams.models import Team


def locked_teams() -> QuerySet[Team]:
    return Team.objects.select_for_update(no_key=True).order_by("pk")


def locked_team_for_delete() -> QuerySet[Team]:
    # FOR UPDATE (not NO KEY): the row is about to be deleted, which takes it anyway;
    # taking it first makes concurrent joins wait and then find no team.
    return Team.objects.select_for_update().order_by("pk")
