"""The caller's profile (me/) and timer settings (me/settings/)."""

import datetime

import pytest

from accounts.models import TimerSettings, User
from events.models import Event
from tests.conftest import assert_problem

pytestmark = pytest.mark.django_db

ME = "/api/v1/me/"
SETTINGS = "/api/v1/me/settings/"
DEFAULT_SETTINGS = {
    "focus_minutes": 25,
    "short_break_minutes": 5,
    "long_break_minutes": 15,
    "long_break_every": 4,
    "auto_start_breaks": False,
    "auto_start_focus": False,
    "daily_goal_minutes": None,
    "stopwatch_max_minutes": 600,
}


def profile_of(user: User) -> dict:
    return {
        "id": user.pk,
        "email": user.email,
        "display_name": user.display_name,
        "timezone": user.timezone,
        "day_starts_at": user.day_starts_at.strftime("%H:%M"),
        "week_starts_on": user.week_starts_on,
        "is_guest": user.is_guest,
        "leaderboard_opt_out": user.leaderboard_opt_out,
    }


def settings_of(user: User) -> dict:
    timer_settings = TimerSettings.objects.get(user=user)
    return {name: getattr(timer_settings, name) for name in DEFAULT_SETTINGS}


def events_of(user: User) -> list[tuple[int, str]]:
    return list(Event.objects.filter(user=user).order_by("seq").values_list("seq", "type"))


# --- me/ ---------------------------------------------------------------------------


def test_me_answers_the_profile(client, user):
    response = client.get(ME)

    assert response.status_code == 200
    assert response.json() == {
        "id": user.pk,
        "email": user.email,
        "display_name": user.display_name,
        "timezone": "UTC",
        "day_starts_at": "00:00",
        "week_starts_on": 0,
        "is_guest": False,
        "leaderboard_opt_out": False,
    }


def test_me_unauthenticated_is_401_not_authenticated(api_client, db):
    response = api_client.get(ME)

    assert_problem(response, 401, "not_authenticated")


def test_patch_me_changes_every_field_and_records_one_event(
    client, user, django_capture_on_commit_callbacks
):
    # given a user with the default profile
    changes = {
        "display_name": "Ann Lee",
        "timezone": "America/New_York",
        "day_starts_at": "04:30",
        "week_starts_on": 6,
        "leaderboard_opt_out": True,
    }

    # when every field is changed
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.patch(ME, changes)

    # then the answer, the database and the event log agree
    assert response.status_code == 200, response.content
    expected = {
        "id": user.pk,
        "email": user.email,
        "is_guest": False,
        **changes,
    }
    assert response.json() == expected
    user.refresh_from_db()
    assert profile_of(user) == expected
    assert user.day_starts_at == datetime.time(4, 30)
    event = Event.objects.get(user=user)
    assert (event.seq, event.type) == (1, "profile.updated")
    assert event.data == {"profile": expected}
    assert len(callbacks) == 1


def test_patch_me_with_one_field_changes_only_that_field(client, user):
    before = profile_of(user)

    response = client.patch(ME, {"display_name": "Ann"})

    assert response.status_code == 200, response.content
    user.refresh_from_db()
    assert profile_of(user) == {**before, "display_name": "Ann"}


def test_patch_me_with_unchanged_values_records_no_event(
    client, user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.patch(ME, {"timezone": "UTC", "day_starts_at": "00:00"})

    assert response.status_code == 200, response.content
    assert response.json() == profile_of(user)
    assert events_of(user) == []
    assert callbacks == []


def test_patch_me_ignores_read_only_fields(client, user):
    # given a client trying to change its id, email and guest flag
    before = profile_of(user)

    # when it patches them
    response = client.patch(ME, {"id": 999, "email": "new@example.com", "is_guest": True})

    # then they are ignored: nothing changes and nothing is recorded
    assert response.status_code == 200, response.content
    assert response.json() == before
    user.refresh_from_db()
    assert profile_of(user) == before
    assert events_of(user) == []


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        (
            {"day_starts_at": "25:00"},
            {"day_starts_at": ["Time has wrong format. Use one of these formats instead: hh:mm."]},
        ),
        (
            {"day_starts_at": "06:30:15"},
            {"day_starts_at": ["Time has wrong format. Use one of these formats instead: hh:mm."]},
        ),
        ({"week_starts_on": 7}, {"week_starts_on": ['"7" is not a valid choice.']}),
        ({"week_starts_on": -1}, {"week_starts_on": ['"-1" is not a valid choice.']}),
        (
            {"timezone": "Europe/Atlantis"},
            {
                "timezone": [
                    "'Europe/Atlantis' is not an IANA time zone name, such as Europe/Paris."
                ]
            },
        ),
        (
            {"display_name": "x" * 101},
            {"display_name": ["Ensure this field has no more than 100 characters."]},
        ),
        (
            # one bad field rejects the whole change
            {"display_name": "Ann", "week_starts_on": 9},
            {"week_starts_on": ['"9" is not a valid choice.']},
        ),
    ],
)
def test_patch_me_rejects_invalid_values_and_changes_nothing(client, user, changes, errors):
    before = profile_of(user)

    response = client.patch(ME, changes)

    body = assert_problem(response, 400, "invalid")
    assert body["errors"] == errors
    user.refresh_from_db()
    assert profile_of(user) == before
    assert events_of(user) == []


def test_patch_me_unauthenticated_is_401_not_authenticated(api_client, db):
    response = api_client.patch(ME, {"display_name": "Ann"})

    assert_problem(response, 401, "not_authenticated")


# --- me/settings/ ------------------------------------------------------------------


def test_settings_start_at_the_defaults(client):
    response = client.get(SETTINGS)

    assert response.status_code == 200
    assert response.json() == DEFAULT_SETTINGS


def test_settings_unauthenticated_is_401_not_authenticated(api_client, db):
    assert_problem(api_client.get(SETTINGS), 401, "not_authenticated")
    assert_problem(api_client.patch(SETTINGS, {"focus_minutes": 30}), 401, "not_authenticated")


def test_patch_settings_changes_every_field_and_records_one_event(
    client, user, django_capture_on_commit_callbacks
):
    changes = {
        "focus_minutes": 50,
        "short_break_minutes": 10,
        "long_break_minutes": 30,
        "long_break_every": 3,
        "auto_start_breaks": True,
        "auto_start_focus": True,
        "daily_goal_minutes": 240,
        "stopwatch_max_minutes": 90,
    }

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.patch(SETTINGS, changes)

    assert response.status_code == 200, response.content
    assert response.json() == changes
    assert settings_of(user) == changes
    event = Event.objects.get(user=user)
    assert (event.seq, event.type) == (1, "settings.updated")
    assert event.data == {"settings": changes}
    assert len(callbacks) == 1


def test_patch_settings_with_one_field_keeps_the_others(client, user):
    response = client.patch(SETTINGS, {"focus_minutes": 45})

    assert response.status_code == 200, response.content
    assert response.json() == {**DEFAULT_SETTINGS, "focus_minutes": 45}
    assert settings_of(user) == {**DEFAULT_SETTINGS, "focus_minutes": 45}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("focus_minutes", 1),
        ("focus_minutes", 240),
        ("short_break_minutes", 1),
        ("short_break_minutes", 240),
        ("long_break_minutes", 1),
        ("long_break_minutes", 240),
        ("long_break_every", 1),
        ("long_break_every", 12),
        ("daily_goal_minutes", 1),
        ("daily_goal_minutes", 1440),
        ("stopwatch_max_minutes", 1),
        ("stopwatch_max_minutes", 1440),
        ("stopwatch_max_minutes", None),
    ],
)
def test_patch_settings_accepts_the_limits_of_each_range(client, user, field, value):
    response = client.patch(SETTINGS, {field: value})

    assert response.status_code == 200, response.content
    assert settings_of(user) == {**DEFAULT_SETTINGS, field: value}


def test_patch_settings_clears_the_daily_goal_with_null(client, user):
    TimerSettings.objects.filter(user=user).update(daily_goal_minutes=120)

    response = client.patch(SETTINGS, {"daily_goal_minutes": None})

    assert response.status_code == 200, response.content
    assert response.json()["daily_goal_minutes"] is None
    assert settings_of(user) == DEFAULT_SETTINGS
    assert events_of(user) == [(1, "settings.updated")]


AT_LEAST_1 = "Ensure this value is greater than or equal to 1."


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("focus_minutes", 0, AT_LEAST_1),
        ("focus_minutes", 241, "Ensure this value is less than or equal to 240."),
        ("short_break_minutes", 0, AT_LEAST_1),
        ("short_break_minutes", 241, "Ensure this value is less than or equal to 240."),
        ("long_break_minutes", 0, AT_LEAST_1),
        ("long_break_minutes", 241, "Ensure this value is less than or equal to 240."),
        ("long_break_every", 0, AT_LEAST_1),
        ("long_break_every", 13, "Ensure this value is less than or equal to 12."),
        ("daily_goal_minutes", 0, AT_LEAST_1),
        ("daily_goal_minutes", 1441, "Ensure this value is less than or equal to 1440."),
        ("stopwatch_max_minutes", 0, AT_LEAST_1),
        ("stopwatch_max_minutes", 1441, "Ensure this value is less than or equal to 1440."),
        ("focus_minutes", None, "This field may not be null."),
        ("focus_minutes", "soon", "A valid integer is required."),
        ("auto_start_breaks", "perhaps", "Must be a valid boolean."),
    ],
)
def test_patch_settings_rejects_out_of_range_values_and_changes_nothing(
    client, user, field, value, message
):
    response = client.patch(SETTINGS, {"focus_minutes": 30, field: value})

    body = assert_problem(response, 400, "invalid")
    assert body["errors"] == {field: [message]}
    assert settings_of(user) == DEFAULT_SETTINGS
    assert events_of(user) == []


def test_patch_settings_with_unchanged_values_records_no_event(
    client, user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.patch(SETTINGS, {"focus_minutes": 25, "daily_goal_minutes": None})

    assert response.status_code == 200, response.content
    assert response.json() == DEFAULT_SETTINGS
    assert events_of(user) == []
    assert callbacks == []


def test_settings_events_continue_the_users_sequence(client, user):
    client.patch(ME, {"display_name": "Ann"})
    client.patch(SETTINGS, {"focus_minutes": 30})
    client.patch(SETTINGS, {"focus_minutes": 35})

    assert events_of(user) == [
        (1, "profile.updated"),
        (2, "settings.updated"),
        (3, "settings.updated"),
    ]


def test_settings_of_another_user_are_untouched(client, user, other_user):
    client.patch(SETTINGS, {"focus_minutes": 30})

    assert settings_of(other_user) == DEFAULT_SETTINGS
    assert events_of(other_user) == []
