"""Regression tests of the security review's findings (issue 12, part 8) that are not
about logging in (those are in tests/accounts/test_backends.py)."""

import datetime

import pytest
from django.forms.models import model_to_dict
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tokens import token_pair_for
from events.models import Event
from pomodoro.validation import EARLIEST_DATE, LATEST_DATE
from teams import services as team_services
from teams.models import Invite
from tests.conftest import assert_problem, client_for
from tests.events.socket_helpers import assert_closed_with, db, open_socket, run_async
from tests.factories import UserFactory

DATE_OUT_OF_RANGE = "Give a date from 0002-01-01 to 9998-12-31."
INSTANT_OUT_OF_RANGE = "Give a time from 0002-01-01 to 9998-12-31."


# --- dates at the calendar's edges --------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "errors"),
    [
        ("/api/v1/sessions/export/?to=0001-01-01", {"to": [DATE_OUT_OF_RANGE]}),
        ("/api/v1/sessions/export/?from=9999-12-31", {"from": [DATE_OUT_OF_RANGE]}),
        ("/api/v1/sessions/export/?to=0001-01-01T00:00:00Z", {"to": [INSTANT_OUT_OF_RANGE]}),
        ("/api/v1/sessions/?period=week&date=9999-12-31", {"date": [DATE_OUT_OF_RANGE]}),
        ("/api/v1/sessions/?period=month&date=9999-12-31", {"date": [DATE_OUT_OF_RANGE]}),
        ("/api/v1/sessions/?period=day&date=0001-01-01", {"date": [DATE_OUT_OF_RANGE]}),
        ("/api/v1/sessions/?from=0001-01-01T00:00:00Z", {"from": [INSTANT_OUT_OF_RANGE]}),
        ("/api/v1/sessions/?to=9999-12-31T23:00:00-14:00", {"to": [INSTANT_OUT_OF_RANGE]}),
        ("/api/v1/analytics/summary/?period=day&date=0001-01-01", {"date": [DATE_OUT_OF_RANGE]}),
        ("/api/v1/analytics/summary/?period=day&date=9999-12-31", {"date": [DATE_OUT_OF_RANGE]}),
        ("/api/v1/analytics/summary/?period=week&date=0001-01-01", {"date": [DATE_OUT_OF_RANGE]}),
        ("/api/v1/analytics/summary/?period=week&date=9999-12-31", {"date": [DATE_OUT_OF_RANGE]}),
        ("/api/v1/analytics/summary/?period=month&date=0001-01-01", {"date": [DATE_OUT_OF_RANGE]}),
        ("/api/v1/analytics/summary/?period=month&date=9999-12-31", {"date": [DATE_OUT_OF_RANGE]}),
        (
            "/api/v1/analytics/heatmap/?from=0001-01-01&to=0001-01-02",
            {"from": [DATE_OUT_OF_RANGE], "to": [DATE_OUT_OF_RANGE]},
        ),
        (
            "/api/v1/analytics/heatmap/?from=9999-12-30&to=9999-12-31",
            {"from": [DATE_OUT_OF_RANGE], "to": [DATE_OUT_OF_RANGE]},
        ),
    ],
)  # fmt: skip
def test_dates_at_the_calendars_edges_are_400_invalid(path, errors):
    client = client_for(UserFactory(timezone="Pacific/Kiritimati"))

    body = assert_problem(client.get(path), 400, "invalid")

    assert body["errors"] == errors


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/sessions/export/?from=0002-01-01&to=9998-12-31",
        "/api/v1/sessions/?period=week&date=0002-01-01",
        "/api/v1/sessions/?period=month&date=9998-12-31",
        "/api/v1/analytics/summary/?period=week&date=0002-01-01",
        "/api/v1/analytics/summary/?period=month&date=9998-12-31",
        "/api/v1/analytics/heatmap/?from=9998-12-30&to=9998-12-31",
        "/api/v1/analytics/heatmap/?from=0002-01-01&to=0002-01-02",
    ],
)
@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Pacific/Pago_Pago", "UTC"])
def test_the_first_and_last_accepted_dates_answer_200(path, zone):
    client = client_for(UserFactory(timezone=zone, week_starts_on=6))

    assert client.get(path).status_code == 200


# Date parameters, each drawn near the bounds of Python's calendar, of the API's, or
# anywhere; every answer must be 200 or 400 `invalid`, never a 500.
DATE_PARAMETERS = [
    ("/api/v1/sessions/export/", "from", ""),
    ("/api/v1/sessions/export/", "to", ""),
    ("/api/v1/sessions/", "date", "period=day&"),
    ("/api/v1/sessions/", "date", "period=week&"),
    ("/api/v1/sessions/", "date", "period=month&"),
    ("/api/v1/analytics/summary/", "date", "period=day&"),
    ("/api/v1/analytics/summary/", "date", "period=week&"),
    ("/api/v1/analytics/summary/", "date", "period=month&"),
]
EDGES = [datetime.date.min, datetime.date.max, EARLIEST_DATE, LATEST_DATE]
near_an_edge = st.sampled_from(EDGES).flatmap(
    lambda edge: st.integers(-40, 40).map(
        lambda days: (
            min(max(edge + datetime.timedelta(days=0), datetime.date.min), edge)
            if False
            else _shift(edge, days)
        )
    )
)


def _shift(day: datetime.date, days: int) -> datetime.date:
    try:
        return day + datetime.timedelta(days=days)
    except OverflowError:
        return day


dates = st.one_of(near_an_edge, st.dates())


@pytest.mark.django_db
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    parameter=st.sampled_from(DATE_PARAMETERS),
    day=dates,
    other=dates,
    zone=st.sampled_from(["Pacific/Kiritimati", "Pacific/Pago_Pago", "UTC"]),
    week_starts_on=st.integers(0, 6),
)
def test_fuzzed_dates_at_the_bounds_are_200_or_400_never_500(
    parameter, day, other, zone, week_starts_on
):
    path, name, fixed = parameter
    user = User.objects.filter(email="fuzz@example.com").first() or UserFactory(
        email="fuzz@example.com"
    )
    User.objects.filter(pk=user.pk).update(timezone=zone, week_starts_on=week_starts_on)
    client = client_for(user)

    single = client.get(f"{path}?{fixed}{name}={day.isoformat()}")
    heatmap = client.get(f"/api/v1/analytics/heatmap/?from={day}&to={other}")

    for response in (single, heatmap):
        assert response.status_code in (200, 400), response.content
        if response.status_code == 400:
            assert response.json()["code"] == "invalid"


# --- a NUL in a path ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_nul_in_a_path_parameter_is_400_invalid_and_changes_nothing(user):
    team = team_services.team_create(user=user, name="Squad").team
    invite = team_services.invite_create(user=user, team_id=team.pk)
    events = Event.objects.filter(user=user).count()

    response = client_for(user).delete(f"/api/v1/teams/{team.pk}/invites/a%00b/")

    body = assert_problem(response, 400, "invalid")
    assert body["errors"] == {"path": ["Null characters are not allowed."]}
    assert Invite.objects.get(pk=invite.pk).revoked_at is None
    assert Event.objects.filter(user=user).count() == events


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    ["/api/v1/projects/%00/", "/api/v1/calendar/cal_%00.ics", "/api/v1/me/tokens/1%00/"],
)
def test_a_nul_anywhere_in_an_api_path_is_400_invalid(client, path):
    assert_problem(client.get(path), 400, "invalid")


# --- X-Frame-Options on static files ---------------------------------------------------------


def test_static_files_carry_x_frame_options():
    response = Client().get("/static/web/app.js")

    assert response.status_code == 200
    assert response["X-Frame-Options"] == "DENY"


# --- the admin's user saves go through the services ----------------------------------------------


@pytest.fixture
def staff_client(db) -> Client:
    operator = UserFactory(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(operator)
    return client


def change_form_data(user: User, **changes) -> dict:
    data = {
        key: value
        for key, value in model_to_dict(user).items()
        if key in {"email", "display_name", "timezone", "week_starts_on", "is_staff"}
    }
    data.update(
        day_starts_at="00:00",
        is_active="on",
        **{
            "timer_settings-TOTAL_FORMS": "1",
            "timer_settings-INITIAL_FORMS": "1",
            "timer_settings-MIN_NUM_FORMS": "0",
            "timer_settings-MAX_NUM_FORMS": "1",
            "timer_settings-0-user": str(user.pk),
        },
    )
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


@pytest.mark.django_db(transaction=True)
@run_async
async def test_disabling_a_user_in_the_admin_closes_its_sockets_at_once(staff_client):
    user = await db(UserFactory)()
    data = await db(change_form_data)(user, is_active=None)
    async with open_socket(user) as (socket_, _):
        response = await db(staff_client.post)(f"/admin/accounts/user/{user.pk}/change/", data)
        assert response.status_code == 302, response.content.decode()[:2000]

        await assert_closed_with(socket_, 4401)
    assert not (await db(User.objects.get)(pk=user.pk)).is_active


@pytest.mark.django_db(transaction=True)
@run_async
async def test_a_password_set_in_the_admin_revokes_tokens_and_closes_sockets(staff_client):
    user = await db(UserFactory)()
    pair = await db(token_pair_for)(user)
    new_password = "set by the operator 55"
    async with open_socket(user) as (socket_, _):
        response = await db(staff_client.post)(
            f"/admin/accounts/user/{user.pk}/password/",
            {"password1": new_password, "password2": new_password, "usable_password": "true"},
        )
        assert response.status_code == 302, response.content.decode()[:2000]

        await assert_closed_with(socket_, 4401)
    refreshed = await db(APIClient().post)(
        "/api/v1/auth/refresh/", {"refresh": pair["refresh"]}, format="json"
    )
    assert refreshed.status_code == 401
    assert (await db(User.objects.get)(pk=user.pk)).check_password(new_password)
