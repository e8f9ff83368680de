"""GET analytics/heatmap/: focus seconds by local weekday and wall-clock hour."""

import pytest

from tests.analytics.helpers import API, add_session, at, set_calendar
from tests.conftest import assert_problem

pytestmark = pytest.mark.django_db
URL = API + "analytics/heatmap/"


def heatmap(client, first, last):
    response = client.get(URL, {"from": first, "to": last})
    assert response.status_code == 200, response.content
    return response.json()["cells"]


def empty():
    return [[0] * 24 for _ in range(7)]


def test_time_is_split_exactly_at_hour_boundaries(user, client):
    add_session(user, (at("2026-11-10 09:40"), at("2026-11-10 11:05")))  # a Tuesday
    add_session(user, (at("2026-11-15 23:50"), at("2026-11-16 00:20")))  # Sunday to Monday

    expected = empty()
    expected[1][9], expected[1][10], expected[1][11] = 1200, 3600, 300
    expected[6][23], expected[0][0] = 600, 1200
    assert heatmap(client, "2026-11-09", "2026-11-16") == expected


def test_half_hour_offsets_are_split_at_local_hours(user, client):
    set_calendar(user, zone="Asia/Kolkata")
    add_session(
        user, (at("2026-11-10 09:30", "Asia/Kolkata"), at("2026-11-10 10:45", "Asia/Kolkata"))
    )

    expected = empty()
    expected[1][9], expected[1][10] = 1800, 2700
    assert heatmap(client, "2026-11-10", "2026-11-10") == expected


def test_the_skipped_hour_gets_nothing_in_spring(user, client):
    set_calendar(user, zone="Europe/Berlin")
    add_session(
        user,
        (at("2026-03-29 00:00", "Europe/Berlin"), at("2026-03-30 00:00", "Europe/Berlin")),
        kind="stopwatch",
    )

    cells = heatmap(client, "2026-03-29", "2026-03-29")

    assert cells[6] == [3600, 3600, 0] + [3600] * 21
    assert sum(map(sum, cells)) == 23 * 3600


def test_the_repeated_hour_gets_both_passes_in_autumn(user, client):
    set_calendar(user, zone="Europe/Berlin")
    add_session(
        user,
        (at("2026-10-25 00:00", "Europe/Berlin"), at("2026-10-26 00:00", "Europe/Berlin")),
        kind="stopwatch",
    )

    cells = heatmap(client, "2026-10-25", "2026-10-25")

    assert cells[6] == [3600, 3600, 7200] + [3600] * 21


def test_only_the_days_of_the_range_count_in_the_users_days(user, client):
    set_calendar(user, day_starts_at="04:00")
    add_session(user, (at("2026-11-11 03:00"), at("2026-11-11 05:00")))  # 10th's day, then 11th

    tenth = heatmap(client, "2026-11-10", "2026-11-10")
    eleventh = heatmap(client, "2026-11-11", "2026-11-11")

    assert (tenth[2][3], tenth[2][4]) == (3600, 0)
    assert (eleventh[2][3], eleventh[2][4]) == (0, 3600)


def test_breaks_and_deleted_sessions_are_not_focus(user, client):
    add_session(user, (at("2026-11-10 09:00"), at("2026-11-10 09:05")), kind="long_break")
    add_session(user, (at("2026-11-10 10:00"), at("2026-11-10 10:05")), deleted=True)

    assert heatmap(client, "2026-11-10", "2026-11-10") == empty()


def test_a_range_of_367_days_is_accepted(client):
    assert heatmap(client, "2025-11-23", "2026-11-24") == empty()


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-11-10", "to": "2026-11-09"}, "to"),
        ({"from": "2025-11-23", "to": "2026-11-25"}, "to"),
        ({"to": "2026-11-09"}, "from"),
        ({"from": "2026-11-10"}, "to"),
        ({"from": "10.11.2026", "to": "2026-11-10"}, "from"),
    ],
)
def test_invalid_ranges_answer_400(client, params, field):
    body = assert_problem(client.get(URL, params), 400, "invalid")
    assert list(body["errors"]) == [field]
