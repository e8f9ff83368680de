"""Idempotency-Key on every POST under sessions/: a retry answers the first answer again
and changes nothing (contract, "Conventions"). Concurrent retries: test_concurrency.py."""

import datetime

import pytest
from django.conf import settings
from django.utils import timezone

from events.models import Event
from pomodoro import idempotency
from pomodoro.models import IdempotencyRecord
from sessions_app.models import Session
from tests.conftest import assert_problem

pytestmark = pytest.mark.django_db

SESSIONS = "/api/v1/sessions/"


def post(client, path: str, body: dict | None = None, *, key: str | None = None):
    headers = {"Idempotency-Key": key} if key is not None else {}
    return client.post(path, body or {}, format="json", headers=headers)


def snapshot(user) -> tuple[list, list]:
    """Everything a retry must leave alone: the user's sessions and events."""
    sessions = list(
        Session.objects.filter(user=user)
        .order_by("pk")
        .values_list("pk", "state", "version", "ended_at", "deleted_at")
    )
    events = list(Event.objects.filter(user=user).order_by("seq").values_list("seq", "type"))
    return sessions, events


def test_retry_with_same_key_and_body_replays_the_first_answer(client, user):
    first = post(client, SESSIONS, {"planned_seconds": 600}, key="k-1")
    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first
    before = snapshot(user)

    retry = post(client, SESSIONS, {"planned_seconds": 600}, key="k-1")

    assert retry.status_code == 201
    assert retry.json() == first.json()
    assert retry["ETag"] == first["ETag"] == '"1"'
    assert retry["Idempotent-Replayed"] == "true"
    assert snapshot(user) == before
    assert before[1] == [(1, "session.started")]


def test_same_key_with_another_body_is_refused(client, user):
    post(client, SESSIONS, {"planned_seconds": 600}, key="k-1")
    before = snapshot(user)

    response = post(client, SESSIONS, {"planned_seconds": 601}, key="k-1")

    assert_problem(response, 422, "idempotency_key_reused")
    assert snapshot(user) == before


def test_same_key_on_another_path_is_refused(client, user):
    session_id = post(client, SESSIONS, key="k-1").json()["id"]
    before = snapshot(user)

    response = post(client, f"{SESSIONS}{session_id}/pause/", key="k-1")

    assert_problem(response, 422, "idempotency_key_reused")
    assert snapshot(user) == before


def test_key_of_128_characters_is_accepted(client, user):
    response = post(client, SESSIONS, key="k" * 128)

    assert response.status_code == 201
    assert IdempotencyRecord.objects.get(user=user).key == "k" * 128


def test_key_longer_than_128_characters_is_invalid(client, user):
    response = post(client, SESSIONS, key="k" * 129)

    body = assert_problem(response, 400, "invalid")
    assert list(body["errors"]) == ["Idempotency-Key"]
    assert snapshot(user) == ([], [])
    assert not IdempotencyRecord.objects.exists()


def test_key_is_scoped_per_user(client, user, other_client, other_user):
    mine = post(client, SESSIONS, {"planned_seconds": 600}, key="shared-key")

    theirs = post(other_client, SESSIONS, {"planned_seconds": 600}, key="shared-key")

    assert theirs.status_code == 201
    assert "Idempotent-Replayed" not in theirs
    assert theirs.json()["id"] != mine.json()["id"]
    assert Session.objects.get(pk=theirs.json()["id"]).user == other_user
    assert snapshot(other_user)[1] == [(1, "session.started")]


def test_error_answer_is_replayed_as_the_same_error(client, user):
    active = post(client, SESSIONS).json()
    refused = post(client, SESSIONS, {"kind": "short_break"}, key="k-err")
    body = assert_problem(refused, 409, "active_session_exists")
    assert body["active_session"]["id"] == active["id"]
    # The active session ends, so the request would now succeed if it ran again.
    assert post(client, f"{SESSIONS}{active['id']}/stop/").status_code == 200
    before = snapshot(user)

    retry = post(client, SESSIONS, {"kind": "short_break"}, key="k-err")

    assert_problem(retry, 409, "active_session_exists")
    assert retry.json() == body
    assert retry["Idempotent-Replayed"] == "true"
    assert snapshot(user) == before


def test_key_older_than_24_hours_has_expired_and_the_request_runs_again(client, user):
    first = post(client, SESSIONS, {"planned_seconds": 600}, key="k-old").json()
    post(client, f"{SESSIONS}{first['id']}/stop/")
    IdempotencyRecord.objects.filter(user=user, key="k-old").update(
        created_at=timezone.now() - settings.IDEMPOTENCY_KEY_TTL - datetime.timedelta(seconds=1)
    )

    again = post(client, SESSIONS, {"planned_seconds": 600}, key="k-old")

    assert again.status_code == 201
    assert "Idempotent-Replayed" not in again
    assert again.json()["id"] != first["id"]
    assert Session.objects.get(pk=again.json()["id"]).state == "running"
    # The key now holds the new answer for the next 24 hours.
    replay = post(client, SESSIONS, {"planned_seconds": 600}, key="k-old")
    assert (replay.json(), replay["Idempotent-Replayed"]) == (again.json(), "true")


def test_expired_key_may_carry_another_body(client, user):
    first = post(client, SESSIONS, {"planned_seconds": 600}, key="k-old").json()
    post(client, f"{SESSIONS}{first['id']}/stop/")
    IdempotencyRecord.objects.filter(user=user).update(
        created_at=timezone.now() - datetime.timedelta(hours=25)
    )

    response = post(client, SESSIONS, {"planned_seconds": 700}, key="k-old")

    assert response.status_code == 201
    assert response.json()["planned_seconds"] == 700


def test_retry_while_the_first_is_in_progress_answers_409(client, user):
    body = {"planned_seconds": 600}
    idempotency.idempotency_claim(
        user=user,
        key="k-busy",
        fingerprint=idempotency.request_fingerprint(method="POST", path=SESSIONS, body=body),
    )

    response = post(client, SESSIONS, body, key="k-busy")

    assert_problem(response, 409, "idempotency_in_progress")
    assert snapshot(user) == ([], [])
    assert IdempotencyRecord.objects.get(user=user, key="k-busy").state == "in_progress"


def test_stale_in_progress_claim_is_taken_over(client, user):
    body = {"planned_seconds": 600}
    idempotency.idempotency_claim(
        user=user,
        key="k-dead",
        fingerprint=idempotency.request_fingerprint(method="POST", path=SESSIONS, body=body),
    )
    IdempotencyRecord.objects.filter(user=user, key="k-dead").update(
        updated_at=timezone.now() - settings.IDEMPOTENCY_STALE_AFTER - datetime.timedelta(seconds=1)
    )

    response = post(client, SESSIONS, body, key="k-dead")

    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    record = IdempotencyRecord.objects.get(user=user, key="k-dead")
    assert (record.state, record.response_status, record.response_body) == (
        "done",
        201,
        response.json(),
    )
    assert snapshot(user)[1] == [(1, "session.started")]


def test_pause_with_the_same_key_twice_is_a_replay(client, user):
    session_id = post(client, SESSIONS).json()["id"]
    first = post(client, f"{SESSIONS}{session_id}/pause/", key="k-pause")
    assert (first.status_code, first.json()["state"], first.json()["version"]) == (200, "paused", 2)
    # Resumed in between: a replay must not pause it again.
    assert post(client, f"{SESSIONS}{session_id}/start/").json()["version"] == 3
    before = snapshot(user)

    retry = post(client, f"{SESSIONS}{session_id}/pause/", key="k-pause")

    assert retry.status_code == 200
    assert retry.json() == first.json()
    assert (retry["ETag"], retry["Idempotent-Replayed"]) == ('"2"', "true")
    assert snapshot(user) == before
    assert Session.objects.get(pk=session_id).state == "running"


def test_reset_with_the_same_key_twice_creates_one_fresh_session(client, user):
    session_id = post(client, SESSIONS).json()["id"]
    first = post(client, f"{SESSIONS}{session_id}/reset/", key="k-reset")
    assert first.status_code == 201
    before = snapshot(user)

    retry = post(client, f"{SESSIONS}{session_id}/reset/", key="k-reset")

    assert (retry.status_code, retry.json()) == (201, first.json())
    assert snapshot(user) == before
    assert len(before[0]) == 2


def test_refused_action_is_replayed_as_the_same_error(client, user):
    session_id = post(client, SESSIONS).json()["id"]
    post(client, f"{SESSIONS}{session_id}/stop/")
    refused = post(client, f"{SESSIONS}{session_id}/start/", key="k-start")
    body = assert_problem(refused, 409, "invalid_transition")

    retry = post(client, f"{SESSIONS}{session_id}/start/", key="k-start")

    assert_problem(retry, 409, "invalid_transition")
    assert (retry.json(), retry["Idempotent-Replayed"]) == (body, "true")


def test_log_with_the_same_key_twice_records_one_entry(client, user):
    started_at = timezone.now().replace(microsecond=0) - datetime.timedelta(hours=2)
    entry = {
        "started_at": started_at.isoformat(),
        "ended_at": (started_at + datetime.timedelta(minutes=25)).isoformat(),
    }
    first = post(client, f"{SESSIONS}log/", entry, key="k-log")
    assert first.status_code == 201
    before = snapshot(user)

    retry = post(client, f"{SESSIONS}log/", entry, key="k-log")

    # Without the key this would be 409 overlap: the retry is the first answer instead.
    assert (retry.status_code, retry.json(), retry["Idempotent-Replayed"]) == (
        201,
        first.json(),
        "true",
    )
    assert snapshot(user) == before
    assert before[1] == [(1, "session.logged"), (2, "badge.earned")]


def test_request_without_a_key_is_not_recorded(client, user):
    post(client, SESSIONS)

    assert not IdempotencyRecord.objects.exists()


def test_purge_removes_only_expired_keys(client, user):
    post(client, SESSIONS, key="k-new")
    IdempotencyRecord.objects.create(
        user=user,
        key="k-expired",
        fingerprint="x",
        state="done",
        created_at=timezone.now() - datetime.timedelta(hours=25),
    )

    assert idempotency.idempotency_purge_expired() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["k-new"]
