"""The live status board and the team leaderboard: each state, each member's own day,
privacy, and query counts that do not grow with the team."""

import datetime

import pytest
from django.utils import timezone

from accounts.models import User
from sessions_app import services as session_services
from sessions_app.models import Session
from teams import selectors
from tests.conftest import client_for
from tests.factories import FinishedSessionFactory, TaskFactory, UserFactory
from tests.teams.helpers import API, team_with

pytestmark = pytest.mark.django_db


def user_ref(user) -> dict:
    return {"id": user.pk, "display_name": user.display_name}


def status_rows(team, now) -> list[tuple]:
    return [
        (row.user.pk, row.state, row.remaining_seconds, row.today_focus_seconds)
        for row in selectors.team_status(team_id=team.pk, now=now)
    ]


def test_each_state_of_a_member(user):
    focus, brk, paused, stopwatch, idle = UserFactory.create_batch(5)
    team = team_with(user, focus, brk, paused, stopwatch, idle)
    running = session_services.session_create(user=focus, planned_seconds=1500)
    session_services.session_create(user=brk, kind="short_break", planned_seconds=300)
    session_services.session_create(user=paused, planned_seconds=1200, start=False)
    session_services.session_create(user=stopwatch, kind="stopwatch")
    now = running.started_at + datetime.timedelta(seconds=100)
    brk_session = Session.objects.get(user=brk)
    stopwatch_session = Session.objects.get(user=stopwatch)

    assert status_rows(team, now) == [
        (user.pk, "idle", None, 0),
        (focus.pk, "focus", 1400, 100),
        (brk.pk, "break", 300 - int((now - brk_session.started_at).total_seconds()), 0),
        (paused.pk, "paused", 1200, 0),
        (stopwatch.pk, "focus", None, int((now - stopwatch_session.started_at).total_seconds())),
        (idle.pk, "idle", None, 0),
    ]


def test_a_session_past_its_planned_length_is_idle_before_the_worker_notices(user):
    member = UserFactory()
    team = team_with(user, member)
    session = session_services.session_create(user=member, planned_seconds=60)

    rows = status_rows(team, session.started_at + datetime.timedelta(seconds=90))

    assert rows[1] == (member.pk, "idle", None, 60)


def test_the_api_answers_every_member(user, client):
    member = UserFactory()
    team = team_with(user, member)
    session_services.session_create(user=member, planned_seconds=900, start=False)

    response = client.get(API + f"teams/{team.pk}/status/")

    assert response.status_code == 200
    assert response.json() == {
        "members": [
            {
                "user": user_ref(user),
                "state": "idle",
                "remaining_seconds": None,
                "today_focus_seconds": 0,
            },
            {
                "user": user_ref(member),
                "state": "paused",
                "remaining_seconds": 900,
                "today_focus_seconds": 0,
            },
        ]
    }


def test_today_focus_is_in_each_members_own_day(user):
    now = timezone.now()
    recent_day, older_day = UserFactory.create_batch(2)
    # One member's day began about 30 minutes ago, the other's about 3 hours ago.
    for member, hours in ((recent_day, 0.5), (older_day, 3)):
        User.objects.filter(pk=member.pk).update(
            day_starts_at=(now - datetime.timedelta(hours=hours))
            .time()
            .replace(second=0, microsecond=0)
        )
        FinishedSessionFactory(
            user=member, started_at=now - datetime.timedelta(hours=2), planned_seconds=3600
        )
        FinishedSessionFactory(
            user=member, started_at=now - datetime.timedelta(minutes=20), planned_seconds=600
        )
    team = team_with(user, recent_day, older_day)

    rows = status_rows(team, now)

    assert [(row[0], row[3]) for row in rows] == [
        (user.pk, 0),
        (recent_day.pk, 600),
        (older_day.pk, 4200),
    ]


def test_nothing_a_teammate_reads_names_a_session_or_task(user):
    member = UserFactory()
    team = team_with(user, member)
    task = TaskFactory(user=member, title="Hidden task title")
    session_services.session_create(
        user=member, task=task.pk, name="Secret session name", description="Private description"
    )
    reader = client_for(user)

    for path in ("", "members/", "status/", "leaderboard/?period=today", "leaderboard/?period=all"):
        content = reader.get(API + f"teams/{team.pk}/{path}").content.decode()
        for secret in ("Hidden task title", "Secret session name", "Private description", '"task"'):
            assert secret not in content, (path, secret)


def test_the_team_leaderboard_ranks_members_only_by_the_global_rules(user, client):
    tied, first, opted_out, idle = UserFactory.create_batch(4)
    outsider = UserFactory()
    team = team_with(user, tied, first, opted_out, idle)
    User.objects.filter(pk=opted_out.pk).update(leaderboard_opt_out=True)
    started = timezone.now() - datetime.timedelta(hours=1, minutes=30)
    for member, length in (
        (user, 600),
        (tied, 600),
        (first, 1200),
        (opted_out, 3000),
        (outsider, 3600),
    ):
        FinishedSessionFactory(user=member, started_at=started, planned_seconds=length)

    response = client.get(API + f"teams/{team.pk}/leaderboard/", {"period": "all"})

    assert response.json() == {
        "results": [
            {"rank": 1, "user": user_ref(first), "focus_seconds": 1200},
            {"rank": 2, "user": user_ref(user), "focus_seconds": 600},
            {"rank": 2, "user": user_ref(tied), "focus_seconds": 600},
        ]
    }


def test_an_unknown_period_is_400(user, client):
    team = team_with(user)

    response = client.get(API + f"teams/{team.pk}/leaderboard/", {"period": "year"})

    assert response.status_code == 400
    assert response.json()["errors"] == {"period": ['"year" is not a valid choice.']}


def team_of(size: int):
    owner, *members = UserFactory.create_batch(size)
    team = team_with(owner, *members)
    for index, member in enumerate(members):
        if index % 3 == 0:
            session_services.session_create(user=member, planned_seconds=1500)
        elif index % 3 == 1:
            FinishedSessionFactory(user=member)
    return owner, team


@pytest.mark.parametrize(
    "path",
    [
        "status/",
        "leaderboard/?period=today",
        "leaderboard/?period=week",
        "leaderboard/?period=all",
        "members/",
    ],
)
def test_queries_do_not_grow_with_the_team(path, django_assert_max_num_queries):
    small_owner, small = team_of(3)
    large_owner, large = team_of(30)

    with django_assert_max_num_queries(8) as few:
        assert client_for(small_owner).get(API + f"teams/{small.pk}/{path}").status_code == 200
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client_for(large_owner).get(API + f"teams/{large.pk}/{path}").status_code == 200
