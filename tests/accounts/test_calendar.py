"""The calendar feed (me/calendar/, calendar/<token>.ics), read back with vobject, a
calendar parser independent of the icalendar library that writes it."""

import datetime

import pytest
import vobject
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import CalendarFeed
from accounts.secrets import secret_hash
from sessions_app.models import Session
from tests.conftest import assert_problem
from tests.factories import FinishedSessionFactory, TaskFactory

pytestmark = pytest.mark.django_db

CALENDAR = "/api/v1/me/calendar/"
FEED_PREFIX = "http://testserver/api/v1/calendar/"


def subscribe(client) -> str:
    response = client.post(CALENDAR)
    assert response.status_code == 201, response.content
    return response.json()["url"]


def fetch(url: str):
    return APIClient().get(url.removeprefix("http://testserver"))


def parsed_events(url: str) -> list:
    response = fetch(url)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = vobject.readOne(response.content.decode())
    assert calendar.version.value == "2.0"
    return list(getattr(calendar, "vevent_list", []))


def test_the_feed_has_one_event_per_ended_session_of_the_last_90_days(client, user, other_user):
    now = timezone.now().replace(microsecond=0)
    task = TaskFactory(user=user, title="Write the report")
    named = FinishedSessionFactory(
        user=user, name="Deep work", started_at=now - datetime.timedelta(days=2)
    )
    by_task = FinishedSessionFactory(
        user=user,
        task=task,
        state=Session.State.INTERRUPTED,
        started_at=now - datetime.timedelta(days=89),
    )
    plain_break = FinishedSessionFactory(
        user=user,
        kind=Session.Kind.SHORT_BREAK,
        planned_seconds=300,
        started_at=now - datetime.timedelta(hours=3),
    )
    FinishedSessionFactory(user=user, started_at=now - datetime.timedelta(days=91))  # too old
    FinishedSessionFactory(user=user, deleted_at=now, started_at=now - datetime.timedelta(days=1))
    FinishedSessionFactory(user=other_user, started_at=now - datetime.timedelta(days=1))

    events = parsed_events(subscribe(client))

    assert [
        (event.uid.value, event.summary.value, event.dtstart.value, event.dtend.value)
        for event in events
    ] == [
        (
            f"session-{session.pk}@sessions.pomodoro",
            summary,
            session.started_at,
            session.ended_at,
        )
        for session, summary in [
            (by_task, "Write the report"),
            (named, "Deep work"),
            (plain_break, "Short Break"),
        ]
    ]
    assert all(
        event.dtstart.value.tzinfo.utcoffset(None) == datetime.timedelta(0) for event in events
    )


def test_running_and_paused_sessions_are_not_in_the_feed(client, user):
    client.post("/api/v1/sessions/", {"kind": "focus"}, format="json")

    assert parsed_events(subscribe(client)) == []


def test_uids_stay_the_same_from_one_fetch_to_the_next(client, user):
    FinishedSessionFactory(user=user)
    url = subscribe(client)

    first = [event.uid.value for event in parsed_events(url)]
    FinishedSessionFactory(user=user)
    second = [event.uid.value for event in parsed_events(url)]

    assert second[: len(first)] == first
    assert len(second) == 2


def test_the_url_is_secret_and_its_token_stored_only_hashed(client, user):
    url = subscribe(client)

    assert url.startswith(FEED_PREFIX)
    assert url.endswith(".ics")
    token = url.removeprefix(FEED_PREFIX).removesuffix(".ics")
    assert token.startswith("cal_")
    assert len(token) == 47
    assert CalendarFeed.objects.get(user=user).token_hash == secret_hash(token, purpose="calendar")


def test_posting_again_replaces_the_url_and_the_old_one_stops_working(client, user):
    old = subscribe(client)

    new = subscribe(client)

    assert new != old
    assert_problem(fetch(old), 404, "not_found")
    assert fetch(new).status_code == 200
    assert CalendarFeed.objects.filter(user=user).count() == 1


def test_deleting_revokes_the_url(client, user):
    url = subscribe(client)

    response = client.delete(CALENDAR)

    assert response.status_code == 204
    assert_problem(fetch(url), 404, "not_found")
    assert CalendarFeed.objects.count() == 0


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/calendar/cal_unknown.ics",
        "/api/v1/calendar/not-a-token.ics",
        "/api/v1/calendar/cal_x.txt",
    ],
)
def test_an_unknown_token_is_404(path):
    assert_problem(APIClient().get(path), 404, "not_found")


def test_a_disabled_users_feed_is_404(client, user):
    url = subscribe(client)
    type(user).objects.filter(pk=user.pk).update(is_active=False)

    assert_problem(fetch(url), 404, "not_found")


def test_making_a_feed_needs_authentication(api_client):
    assert_problem(api_client.post(CALENDAR), 401, "not_authenticated")
