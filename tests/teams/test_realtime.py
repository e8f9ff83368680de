"""team.member_status on teammates' sockets: on REST transitions, on completion by the
timer worker, and after joining a team while connected. Real sockets on the real ASGI
application (see tests.events.socket_helpers.py)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sessions_app import services as session_services
from sessions_app.models import Session
from teams import services
from tests.conftest import client_for
from tests.events.socket_helpers import assert_quiet, db, open_socket, receive, run_async
from tests.factories import UserFactory
from tests.sessions_app.timer_helpers import API, move_into_past
from tests.teams.helpers import team_with

realtime = pytest.mark.django_db(transaction=True)


def status_message(team, user, state: str, remaining) -> dict:
    return {
        "type": "team.member_status",
        "team": team.pk,
        "data": {
            "user": {"id": user.pk, "display_name": user.display_name},
            "state": state,
            "remaining_seconds": remaining,
        },
    }


async def next_status(socket_) -> dict:
    """The next team.member_status, skipping the user's own events (they have a seq)."""
    while True:
        message = await receive(socket_)
        if message["type"] == "team.member_status":
            return message


@realtime
@run_async
async def test_rest_transitions_reach_teammates_without_names_or_tasks():
    owner, member, outsider = await db(UserFactory.create_batch)(3)
    team = await db(team_with)(owner, member)
    member_client = await db(client_for)(member)

    async with open_socket(owner) as (teammate, _), open_socket(outsider) as (stranger, _):
        created = await db(member_client.post)(
            API + "sessions/",
            {"planned_seconds": 1500, "name": "Secret", "description": "Private"},
            format="json",
        )
        session_id = created.json()["id"]
        started = await next_status(teammate)
        await db(member_client.post)(API + f"sessions/{session_id}/pause/")
        paused = await next_status(teammate)
        await db(member_client.post)(API + f"sessions/{session_id}/stop/")
        stopped = await next_status(teammate)

        assert started["data"]["state"] == "focus"
        assert started["data"]["remaining_seconds"] in (1500, 1499)
        assert started == status_message(
            team, member, "focus", started["data"]["remaining_seconds"]
        )
        remaining = paused["data"]["remaining_seconds"]
        assert paused == status_message(team, member, "paused", remaining)
        assert stopped == status_message(team, member, "idle", None)
        await assert_quiet(teammate)
        await assert_quiet(stranger)


@realtime
@run_async
async def test_completion_by_the_worker_reaches_teammates():
    owner, member = await db(UserFactory.create_batch)(2)
    team = await db(team_with)(owner, member)
    session = await db(session_services.session_create)(user=member, planned_seconds=60)
    await db(move_into_past)(session.pk, 120)

    async with open_socket(owner) as (teammate, _):
        completed = await db(session_services.sessions_complete_due)()

        assert completed == (1, [])
        assert await next_status(teammate) == status_message(team, member, "idle", None)
        await assert_quiet(teammate)
    assert await db(Session.objects.get)(pk=session.pk) is not None


@realtime
@run_async
async def test_a_socket_follows_teams_joined_and_left_while_open():
    owner, newcomer = await db(UserFactory.create_batch)(2)
    team = await db(team_with)(owner)
    invite = await db(services.invite_create)(user=owner, team_id=team.pk)

    async with open_socket(newcomer) as (socket_, _):
        await db(services.team_join)(user=newcomer, code=invite.code)
        joined = await receive(socket_)
        assert joined["type"] == "team.joined"
        await db(session_services.session_create)(user=owner, planned_seconds=600, start=False)

        assert await next_status(socket_) == status_message(team, owner, "paused", 600)

        await db(services.membership_remove)(user=newcomer, team_id=team.pk, user_id=newcomer.pk)
        left = await receive(socket_)
        assert left["type"] == "team.left"
        active = await db(Session.objects.get)(user=owner)
        await db(session_services.session_start)(user=owner, session_id=active.pk)
        await assert_quiet(socket_)


@pytest.mark.django_db(transaction=True)
def test_a_members_teams_are_read_by_the_events_own_statement():
    """No query of its own after the commit: events.registry `reads`, teams.selectors
    team_ids_read. (The push itself: the tests above.)"""
    owner, member = UserFactory.create_batch(2)
    team_with(owner, member)

    with CaptureQueriesContext(connection) as queries:
        session_services.session_create(user=member)

    statements = [query["sql"] for query in queries]
    membership_reads = [sql for sql in statements if "teams_membership" in sql]
    assert len(membership_reads) == 1
    assert membership_reads[0].startswith("WITH owner AS")  # the event's insert
