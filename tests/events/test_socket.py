"""Live updates (issue 4): tickets, the events socket (handshake, hello, replay, live
events, commands, revocation, gap filling), the replay/live hand-over under concurrent
commits, two real server processes on one Redis, and publishing while Redis is down.

Socket tests run the real ASGI application (Origin check, ticket middleware, routing,
consumer) through WebsocketCommunicator; the consumer reaches the database from other
threads, hence transaction=True."""

import asyncio
import contextlib
import copy
import datetime
import json

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import F
from django.test import override_settings
from django.utils import timezone
from prometheus_client import REGISTRY
from websockets.sync.client import connect as ws_connect

from accounts import services as account_services
from accounts.models import User
from accounts.tokens import token_pair_for
from events import consumers, tickets
from events.models import Event, EventStream
from events.publish import flush_broadcasts, user_group
from pomodoro.throttling import window_peek
from sessions_app import projects, services
from sessions_app.models import Session
from tests.conftest import assert_problem, client_for
from tests.events.socket_helpers import (
    QUIET_SECONDS,
    assert_closed_with,
    assert_quiet,
    communicator,
    db,
    free_port,
    http_json,
    open_socket,
    receive,
    receive_many,
    run_async,
    server_processes,
    ws_path,
)
from tests.sessions_app.timer_helpers import API, event_types, parse, session_row
from tests.threads import run_in_threads

realtime = pytest.mark.django_db(transaction=True)

TICKETS = API + "realtime/ticket/"
ALLOWED_ORIGIN = "https://app.example.com"
UNREACHABLE_CACHE = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
    }
}


# --- Setup helpers --------------------------------------------------------------------


def record_events(user, count: int) -> list[dict]:
    """`count` committed events of `user` (a project created, then renamed), as messages."""
    project = projects.project_create(user=user, name="name 0")
    for number in range(1, count):
        projects.project_update(user=user, project_id=project.pk, name=f"name {number}")
    return stored_messages(user)


def stored_messages(user, *, after: int = 0) -> list[dict]:
    return [
        event.as_message()
        for event in Event.objects.filter(user=user, seq__gt=after).order_by("seq")
    ]


def log_without_broadcast(user, seqs: list[int]) -> list[dict]:
    """Events in the log whose broadcast never arrived, as when the channel layer drops
    a message: rows written the way event_record writes them, minus the publish."""
    with transaction.atomic():
        for seq in seqs:
            Event.objects.create(
                user=user, seq=seq, type="project.updated", at=timezone.now(), data={"n": seq}
            )
        EventStream.objects.update_or_create(user=user, defaults={"last_seq": seqs[-1]})
    return stored_messages(user, after=seqs[0] - 1)


async def publish(user, event: dict) -> None:
    """A live event message on the user's group, as events.publish sends it."""
    await get_channel_layer().group_send(
        user_group(user.pk), {"type": "event.message", "event": event}
    )


def session_as_answered(session_id: int, answered: dict) -> dict:
    """The stored session serialized as of the answer's server_time."""
    session = Session.objects.get(pk=session_id)
    return services.session_data(session, now=parse(answered["server_time"]))


def command(action: str, session_id, request_id: str) -> dict:
    return {"action": action, "session": session_id, "request_id": request_id}


# --- Tickets --------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_ticket_is_issued_to_the_caller_for_sixty_seconds(client, user):
    before = timezone.now()

    response = client.post(TICKETS)

    after = timezone.now()
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"ticket", "expires_at"}
    assert len(body["ticket"]) >= 32
    sixty = datetime.timedelta(seconds=60)
    assert before + sixty <= parse(body["expires_at"]) <= after + sixty
    assert tickets.realtime_ticket_redeem(ticket=body["ticket"]) == (user, user.token_generation)


@pytest.mark.django_db
def test_a_ticket_needs_authentication(api_client):
    response = api_client.post(TICKETS)

    assert_problem(response, 401, "not_authenticated")


@realtime
def test_a_ticket_is_redeemed_once_when_several_threads_race_for_it(user):
    ticket, _ = tickets.realtime_ticket_create(user=user)
    count = 8

    results = run_in_threads(
        count, lambda _index: tickets.realtime_ticket_redeem(ticket=ticket), timeout=10
    )

    assert [result for result in results if result is not None] == [(user, user.token_generation)]
    assert results.count(None) == count - 1


# --- Handshake ------------------------------------------------------------------------


def no_ticket(user) -> None:
    return None


def forged_ticket(user) -> str:
    return "forged-" + "x" * 40


def used_ticket(user) -> str:
    ticket, _ = tickets.realtime_ticket_create(user=user)
    assert tickets.realtime_ticket_redeem(ticket=ticket) == (user, user.token_generation)
    return ticket


def expired_ticket(user) -> str:
    ticket, _ = tickets.realtime_ticket_create(user=user)
    # A non-positive timeout expires the entry at once, as 60 s of waiting would.
    assert cache.touch(tickets._ticket_key(ticket), timeout=-1)
    return ticket


def ticket_of_a_disabled_user(user) -> str:
    ticket, _ = tickets.realtime_ticket_create(user=user)
    User.objects.filter(pk=user.pk).update(is_active=False)
    return ticket


def ticket_issued_before_a_password_change(user) -> str:
    ticket, _ = tickets.realtime_ticket_create(user=user)
    User.objects.filter(pk=user.pk).update(token_generation=F("token_generation") + 1)
    return ticket


@realtime
@pytest.mark.parametrize(
    "make_ticket",
    [
        no_ticket,
        forged_ticket,
        used_ticket,
        expired_ticket,
        ticket_of_a_disabled_user,
        ticket_issued_before_a_password_change,
    ],
)
@run_async
async def test_a_socket_without_a_valid_ticket_is_closed_with_4401(user, make_ticket):
    ticket = await db(make_ticket)(user)

    async with communicator(ws_path(ticket=ticket)) as socket_:
        assert await socket_.connect() == (True, None)

        await assert_closed_with(socket_, 4401)


@realtime
@run_async
async def test_a_ticket_opens_one_socket_only(user):
    ticket, _ = await db(tickets.realtime_ticket_create)(user=user)

    async with communicator(ws_path(ticket=ticket)) as first:
        assert await first.connect() == (True, None)
        assert (await receive(first))["type"] == "hello"
        async with communicator(ws_path(ticket=ticket)) as second:
            assert await second.connect() == (True, None)

            await assert_closed_with(second, 4401)


@realtime
@run_async
async def test_a_browser_origin_that_is_not_allowed_is_refused_at_the_handshake(user):
    ticket, _ = await db(tickets.realtime_ticket_create)(user=user)

    with override_settings(WEBSOCKET_ALLOWED_ORIGINS=[ALLOWED_ORIGIN]):
        async with communicator(ws_path(ticket=ticket), origin="https://evil.example") as socket_:
            connected, _ = await socket_.connect()

    assert connected is False


@realtime
@run_async
async def test_a_native_client_without_origin_is_accepted(user):
    with override_settings(WEBSOCKET_ALLOWED_ORIGINS=[ALLOWED_ORIGIN]):
        async with open_socket(user) as (_, hello):
            assert hello["last_seq"] == 0


@realtime
@run_async
async def test_a_browser_origin_that_is_allowed_is_accepted(user):
    with override_settings(WEBSOCKET_ALLOWED_ORIGINS=[ALLOWED_ORIGIN]):
        async with open_socket(user, origin=ALLOWED_ORIGIN) as (_, hello):
            assert hello["last_seq"] == 0


# --- Hello, replay, live ----------------------------------------------------------------


@realtime
@run_async
async def test_hello_tells_the_server_time_and_the_last_seq(user):
    await db(record_events)(user, 3)
    before = timezone.now()

    async with open_socket(user) as (socket_, hello):
        after = timezone.now()
        assert set(hello) == {"type", "server_time", "last_seq"}
        assert hello["type"] == "hello"
        assert hello["last_seq"] == 3
        assert before <= parse(hello["server_time"]) <= after
        await assert_quiet(socket_)  # without `after`, nothing is replayed


@realtime
@run_async
async def test_replay_sends_exactly_the_events_after_the_given_seq_in_order(user):
    logged = await db(record_events)(user, 5)

    async with open_socket(user, after=2) as (socket_, hello):
        assert hello["last_seq"] == 5
        assert await receive_many(socket_, 3) == logged[2:]
        await assert_quiet(socket_)


@realtime
@run_async
async def test_replay_reads_the_log_page_by_page(user):
    logged = await db(record_events)(user, 5)

    with override_settings(EVENTS_PAGE_SIZE=2):
        async with open_socket(user, after=0) as (socket_, _):
            assert await receive_many(socket_, 5) == logged
            await assert_quiet(socket_)


@realtime
@run_async
async def test_replay_after_the_last_seq_sends_nothing(user):
    await db(record_events)(user, 2)

    async with open_socket(user, after=2) as (socket_, hello):
        assert hello["last_seq"] == 2
        await assert_quiet(socket_)


@realtime
@run_async
async def test_an_after_that_is_not_an_ascii_number_is_ignored_not_fatal(user):
    await db(record_events)(user, 2)

    # "²" passes str.isdigit() but not int(): the socket must survive it.
    async with open_socket(user, after="²") as (socket_, hello):
        assert hello["last_seq"] == 2
        await assert_quiet(socket_)  # no replay: `after` was ignored
        await socket_.send_json_to({"action": "ping", "request_id": "p"})
        assert (await receive(socket_))["type"] == "pong"


@realtime
@run_async
async def test_live_events_of_rest_actions_arrive_in_order_once(user):
    client = await db(client_for)(user)

    async with open_socket(user, after=0) as (socket_, hello):
        assert hello["last_seq"] == 0

        def act() -> None:
            client.post(API + "projects/", {"name": "P"}, format="json")
            session = client.post(API + "sessions/", {}, format="json").json()
            client.post(f"{API}sessions/{session['id']}/pause/")

        await db(act)()

        received = await receive_many(socket_, 3)
        assert received == await db(stored_messages)(user)
        assert [message["type"] for message in received] == [
            "project.created",
            "session.started",
            "session.paused",
        ]
        await assert_quiet(socket_)


@realtime
@run_async
async def test_another_users_events_do_not_reach_the_socket(user, other_user):
    async with open_socket(user) as (socket_, _):
        await db(record_events)(other_user, 2)
        await assert_quiet(socket_)

        logged = await db(record_events)(user, 1)

        assert await receive(socket_) == logged[0]


# --- Commands ---------------------------------------------------------------------------


@realtime
@run_async
async def test_start_pause_and_stop_commands_answer_an_ack_with_the_session(user):
    session = await db(services.session_create)(user=user, start=False)

    async with open_socket(user) as (socket_, _):
        for action, state, event_type in [
            ("start", "running", "session.started"),
            ("pause", "paused", "session.paused"),
            ("stop", "interrupted", "session.stopped"),
        ]:
            await socket_.send_json_to(command(action, session.pk, f"r-{action}"))

            ack = await receive(socket_)
            assert ack == {
                "type": "ack",
                "request_id": f"r-{action}",
                "ok": True,
                "session": await db(session_as_answered)(session.pk, ack["session"]),
            }
            assert ack["session"]["state"] == state
            event = await receive(socket_)
            assert (event["type"], event["data"]["session"]["state"]) == (event_type, state)
        await assert_quiet(socket_)


@realtime
@run_async
async def test_the_reset_command_answers_the_fresh_session_as_rest_does(user):
    session = await db(services.session_create)(user=user, start=True)

    async with open_socket(user) as (socket_, _):
        await socket_.send_json_to(command("reset", session.pk, "r-reset"))

        ack = await receive(socket_)
        event = await receive(socket_)
    fresh_id = event["data"]["new_session"]["id"]
    assert ack == {
        "type": "ack",
        "request_id": "r-reset",
        "ok": True,
        "session": await db(session_as_answered)(fresh_id, ack["session"]),
    }
    assert (ack["session"]["state"], ack["session"]["elapsed_seconds"]) == ("paused", 0)
    assert event["type"] == "session.reset"
    assert event["data"]["session"]["state"] == "interrupted"


@realtime
@run_async
async def test_a_command_on_another_users_session_is_not_found(user, other_user):
    theirs = await db(services.session_create)(user=other_user, start=False)
    row_before = await db(session_row)(theirs.pk)
    events_before = await db(event_types)(other_user)

    async with open_socket(user) as (socket_, _):
        await socket_.send_json_to(command("start", theirs.pk, "r-1"))

        ack = await receive(socket_)
        await assert_quiet(socket_)

    client = await db(client_for)(user)
    rest = await db(client.post)(f"{API}sessions/{theirs.pk}/start/")
    assert_problem(rest, 404, "not_found")
    assert ack == {"type": "ack", "request_id": "r-1", "ok": False, "error": rest.json()}
    assert await db(session_row)(theirs.pk) == row_before
    assert await db(event_types)(other_user) == events_before


@realtime
@run_async
async def test_an_invalid_transition_answers_an_error_ack_and_changes_nothing(user):
    session = await db(services.session_create)(user=user, start=True)
    await db(services.session_stop)(user=user, session_id=session.pk)
    row_before = await db(session_row)(session.pk)
    events_before = await db(event_types)(user)

    async with open_socket(user) as (socket_, _):
        await socket_.send_json_to(command("pause", session.pk, "r-1"))

        ack = await receive(socket_)
        await assert_quiet(socket_)

    client = await db(client_for)(user)
    rest = await db(client.post)(f"{API}sessions/{session.pk}/pause/")
    body = assert_problem(rest, 409, "invalid_transition")
    error = ack["error"]
    assert ack == {"type": "ack", "request_id": "r-1", "ok": False, "error": error}
    # As REST answers, but for the session's figures, which are as of each answer's time.
    assert {**error, "session": None} == {**body, "session": None}
    assert error["detail"] == "The session is interrupted; it cannot become paused."
    assert error["session"] == await db(session_as_answered)(session.pk, error["session"])
    assert await db(session_row)(session.pk) == row_before
    assert await db(event_types)(user) == events_before


INVALID = {"type": "about:blank", "status": 400, "code": "invalid", "title": "Invalid command"}
NOT_AN_OBJECT = "Send a JSON object."
NOT_A_SESSION = "session must be a session id."
NO_SUCH_SESSION = {
    "type": "about:blank",
    "status": 404,
    "code": "not_found",
    "title": "Not Found",
    "detail": "No such session.",
}


@realtime
@run_async
async def test_garbage_frames_answer_error_acks_and_the_socket_stays_open(user):
    not_an_object = ("non_field_errors", NOT_AN_OBJECT)
    not_a_session = ("session", NOT_A_SESSION)
    frames = [
        ("not json {", None, not_an_object),
        (b"\x00\x01binary", None, not_an_object),
        ("[1, 2, 3]", None, not_an_object),
        ('"start"', None, not_an_object),
        (
            '{"action": "jump", "session": 1, "request_id": "r-1"}',
            "r-1",
            ("action", "action must be start, pause, stop, reset or ping."),
        ),
        ('{"action": "start", "request_id": "r-2"}', "r-2", not_a_session),
        ('{"action": "start", "session": "7", "request_id": "r-3"}', "r-3", not_a_session),
        ('{"action": "start", "session": true, "request_id": "r-4"}', "r-4", not_a_session),
        ('{"action": "start", "session": 0, "request_id": "r-5"}', "r-5", not_a_session),
    ]
    beyond_bigint = '{"action": "start", "session": 100000000000000000000, "request_id": "r-6"}'

    async with open_socket(user) as (socket_, _):
        for frame, request_id, (field, detail) in frames:
            if isinstance(frame, bytes):
                await socket_.send_to(bytes_data=frame)
            else:
                await socket_.send_to(text_data=frame)

            assert await receive(socket_) == {
                "type": "ack",
                "request_id": request_id,
                "ok": False,
                "error": {**INVALID, "detail": detail, "errors": {field: [detail]}},
            }, frame
        await socket_.send_to(text_data=beyond_bigint)
        assert await receive(socket_) == {
            "type": "ack",
            "request_id": "r-6",
            "ok": False,
            "error": NO_SUCH_SESSION,
        }

        await socket_.send_json_to({"action": "ping", "request_id": "p-1"})
        pong = await receive(socket_)
        assert pong == {"type": "pong", "request_id": "p-1", "server_time": pong["server_time"]}
    assert await db(event_types)(user) == []


# --- Rate limit of commands --------------------------------------------------------------


async def command_and_ack(socket_, action: str, session_id: int, request_id: str) -> dict:
    """Sends a command and answers its ack, skipping the event a successful one causes."""
    await socket_.send_json_to(command(action, session_id, request_id))
    ack = await receive(socket_)
    if ack["ok"]:
        event = await receive(socket_)
        assert event["type"].startswith("session."), event
    return ack


@pytest.mark.redis
@realtime
@run_async
async def test_socket_commands_share_the_rest_write_limit_and_a_refused_one_changes_nothing(
    user, rate_limits
):
    rate_limits(writes_user="3/minute")
    session = await db(services.session_create)(user=user, start=False)
    client = await db(client_for)(user)
    started = await db(client.post)(f"{API}sessions/{session.pk}/start/")  # write 1 of 3
    assert started.status_code == 200, started.content

    async with open_socket(user) as (socket_, _):
        acks = [
            await command_and_ack(socket_, "pause", session.pk, "r-1"),
            await command_and_ack(socket_, "start", session.pk, "r-2"),
        ]
        row_before = await db(session_row)(session.pk)
        events_before = await db(event_types)(user)

        refused = await command_and_ack(socket_, "stop", session.pk, "r-3")
        await assert_quiet(socket_)

    rest = await db(client.post)(f"{API}sessions/{session.pk}/stop/")
    assert [ack["ok"] for ack in acks] == [True, True]
    error = refused["error"]
    assert refused == {"type": "ack", "request_id": "r-3", "ok": False, "error": error}
    assert 1 <= error["retry_after"] <= 60
    assert error == {
        "type": "about:blank",
        "status": 429,
        "code": "throttled",
        "title": "Too Many Requests",
        "detail": f"Request was throttled. Expected available in {error['retry_after']} seconds.",
        "retry_after": error["retry_after"],
    }
    # REST is past the same limit: the socket's commands counted in its budget.
    assert_problem(rest, 429, "throttled")
    assert await db(session_row)(session.pk) == row_before
    assert await db(event_types)(user) == events_before


@pytest.mark.redis
@realtime
@run_async
async def test_with_the_write_limit_off_socket_commands_are_not_counted(user, rate_limits):
    rate_limits(writes_user=None)  # as RATE_LIMIT_WRITES_USER=off or RATE_LIMITS_ENABLED=false
    session = await db(services.session_create)(user=user, start=False)

    async with open_socket(user) as (socket_, _):
        acks = [
            await command_and_ack(socket_, action, session.pk, f"r-{index}")
            for index, action in enumerate(["start", "pause", "start", "pause"])
        ]

    assert [ack["ok"] for ack in acks] == [True] * 4
    counted = await db(window_peek)(f"throttle:writes_user:{user.pk}")
    assert counted.count == 0


@pytest.mark.redis
@realtime
@run_async
async def test_with_redis_down_socket_commands_go_on_unlimited(user, rate_limits, caplog):
    rate_limits(writes_user="1/minute")
    session = await db(services.session_create)(user=user, start=False)

    async with open_socket(user) as (socket_, _):  # the ticket lives in Redis
        with override_settings(CACHES=UNREACHABLE_CACHE):
            acks = [
                await command_and_ack(socket_, "start", session.pk, "r-1"),
                await command_and_ack(socket_, "pause", session.pk, "r-2"),
            ]

    assert [ack["ok"] for ack in acks] == [True, True]
    assert (await db(Session.objects.get)(pk=session.pk)).state == Session.State.PAUSED
    assert caplog.messages.count("rate limit not counted: Redis unavailable") == 2


# --- Revocation -------------------------------------------------------------------------


@realtime
@run_async
async def test_a_password_change_closes_every_socket_of_the_user_with_4401(user, other_user):
    async with (
        open_socket(user) as (first, _),
        open_socket(user) as (second, _),
        open_socket(other_user) as (bystander, _),
    ):
        await db(account_services.user_set_password)(
            user=user, password="another sturdy passphrase 7"
        )

        await assert_closed_with(first, 4401)
        await assert_closed_with(second, 4401)
        await assert_quiet(bystander)


@realtime
@run_async
async def test_a_command_sent_after_the_revocation_close_is_not_run(user):
    session = await db(services.session_create)(user=user, start=False)
    row_before = await db(session_row)(session.pk)

    async with open_socket(user) as (socket_, _):
        await db(account_services.user_set_password)(
            user=user, password="another sturdy passphrase 7"
        )
        await assert_closed_with(socket_, 4401)

        # Already in flight when the server closed: the client has not closed yet.
        await socket_.send_json_to(command("start", session.pk, "r-1"))

        assert await socket_.receive_nothing(QUIET_SECONDS)
    assert await db(session_row)(session.pk) == row_before


@realtime
@run_async
async def test_disabling_a_user_closes_their_socket_with_4401(user):
    async with open_socket(user) as (socket_, _):
        await db(account_services.user_set_active)(user=user, is_active=False)

        await assert_closed_with(socket_, 4401)


@realtime
@run_async
async def test_the_credentials_watchdog_closes_a_socket_when_no_push_arrives(user, monkeypatch):
    monkeypatch.setattr(consumers, "CREDENTIALS_CHECK_SECONDS", 0.2)

    async with open_socket(user) as (socket_, _):
        await asyncio.sleep(0.5)  # the watchdog checked twice and let the socket be
        await socket_.send_json_to({"action": "ping", "request_id": "p-1"})
        assert (await receive(socket_))["type"] == "pong"

        # Revoked behind the services' back: no auth.revoked message is sent.
        await db(User.objects.filter(pk=user.pk).update)(token_generation=F("token_generation") + 1)

        await assert_closed_with(socket_, 4401)


@realtime
@run_async
async def test_a_command_after_a_revocation_without_push_closes_the_socket_and_is_not_run(user):
    session = await db(services.session_create)(user=user, start=False)
    row_before = await db(session_row)(session.pk)

    async with open_socket(user) as (socket_, _):
        # Disabled behind the services' back (as the admin's checkbox does): no push, and
        # the watchdog's next check is up to 30 s away. REST would refuse at once.
        await db(User.objects.filter(pk=user.pk).update)(is_active=False)

        await socket_.send_json_to(command("start", session.pk, "r-1"))

        await assert_closed_with(socket_, 4401)
        assert await socket_.receive_nothing(QUIET_SECONDS)
    assert await db(session_row)(session.pk) == row_before
    assert await db(event_types)(user) == [(1, "session.updated")]


@realtime
@run_async
async def test_a_socket_open_longer_than_the_group_expiry_still_receives_events(user, monkeypatch):
    monkeypatch.setattr(consumers, "CREDENTIALS_CHECK_SECONDS", 0.2)
    layers = copy.deepcopy(settings.CHANNEL_LAYERS)
    layers["default"].setdefault("CONFIG", {})["group_expiry"] = 1

    with override_settings(CHANNEL_LAYERS=layers):
        async with open_socket(user) as (socket_, _):
            await asyncio.sleep(2.2)  # channels_redis counts group ages in whole seconds

            logged = await db(record_events)(user, 1)

            assert await receive(socket_) == logged[0]


# --- Gap filling ------------------------------------------------------------------------


@realtime
@run_async
async def test_a_live_event_that_skips_ahead_comes_after_the_missing_ones_from_the_log(
    user, monkeypatch
):
    monkeypatch.setattr(consumers, "MAX_LIVE_CATCH_UP", 2)
    await db(record_events)(user, 2)

    async with open_socket(user) as (socket_, hello):
        assert hello["last_seq"] == 2
        logged = await db(log_without_broadcast)(user, [3, 4, 5])

        await publish(user, logged[2])  # seq 5: seqs 3 and 4 were lost on the way

        assert await receive_many(socket_, 3) == logged
        await assert_quiet(socket_)


@realtime
@run_async
async def test_a_live_event_already_sent_is_dropped(user):
    await db(record_events)(user, 2)

    async with open_socket(user, after=0) as (socket_, _):
        replayed = await receive_many(socket_, 2)

        await publish(user, replayed[1])
        await publish(user, replayed[0])

        await assert_quiet(socket_)
        logged = await db(record_events)(user, 1)
        assert await receive(socket_) == logged[2]


@realtime
@run_async
async def test_a_gap_too_large_to_fill_live_tells_the_client_to_reconnect(user, monkeypatch):
    monkeypatch.setattr(consumers, "MAX_LIVE_CATCH_UP", 2)
    await db(record_events)(user, 2)

    async with open_socket(user) as (socket_, _):
        logged = await db(log_without_broadcast)(user, [3, 4, 5, 6])

        await publish(user, logged[3])  # three missing: more than MAX_LIVE_CATCH_UP

        assert await receive(socket_) == {"type": "reconnect", "last_seq": 2}
        await assert_closed_with(socket_, 4409)
        await publish(user, logged[3])
        assert await socket_.receive_nothing(QUIET_SECONDS)


# --- Hand-over under concurrent commits --------------------------------------------------


@realtime
@run_async
async def test_replay_hands_over_to_live_without_gap_or_duplicate_under_concurrent_commits(
    user,
):
    renames = 50
    total = renames + 1
    project = await db(projects.project_create)(user=user, name="name 0")

    def keep_committing() -> None:
        try:
            for number in range(1, renames + 1):
                projects.project_update(user=user, project_id=project.pk, name=f"name {number}")
        finally:
            connection.close()

    def last_seq() -> int:
        return EventStream.objects.get(user=user).last_seq

    writer = asyncio.ensure_future(sync_to_async(keep_committing, thread_sensitive=False)())
    async with contextlib.AsyncExitStack() as sockets:
        opened = []
        for threshold in (2, 15, 30):
            while await db(last_seq)() < threshold and not writer.done():
                await asyncio.sleep(0.001)
            opened.append(await sockets.enter_async_context(open_socket(user, after=0)))
        await writer

        for socket_, hello in opened:
            seqs = []
            while not seqs or seqs[-1] < total:
                seqs.append((await receive(socket_))["seq"])
            assert seqs == list(range(1, total + 1)), hello
            await assert_quiet(socket_)
    # At least one socket opened while commits were still coming: the hand-over happened.
    assert min(hello["last_seq"] for _, hello in opened) < total


# --- Two server processes on one Redis ---------------------------------------------------


@pytest.mark.redis
@realtime
def test_two_server_processes_deliver_a_users_events_to_all_their_sockets_and_no_other(
    user, other_user
):
    access = token_pair_for(user)["access"]
    other_access = token_pair_for(other_user)["access"]

    def ticket(server, token: str) -> str:
        status, body = http_json("POST", server.http + TICKETS, access=token)
        assert status == 201, body
        return body["ticket"]

    def socket_url(server, ticket_: str) -> str:
        return server.ws + ws_path(ticket=ticket_)

    with (
        server_processes(2) as (one, two),
        # A ticket from either process opens a socket on either process.
        ws_connect(socket_url(one, ticket(one, access)), open_timeout=5) as first,
        ws_connect(socket_url(two, ticket(one, access)), open_timeout=5) as second,
        ws_connect(socket_url(two, ticket(two, other_access)), open_timeout=5) as bystander,
    ):
        for socket_ in (first, second, bystander):
            hello = json.loads(socket_.recv(timeout=5))
            assert (hello["type"], hello["last_seq"]) == ("hello", 0)

        status, _ = http_json(
            "POST", two.http + API + "projects/", access=access, body={"name": "P"}
        )
        assert status == 201
        status, session = http_json("POST", two.http + API + "sessions/", access=access, body={})
        assert status == 201
        status, _ = http_json(
            "POST", f"{two.http}{API}sessions/{session['id']}/pause/", access=access
        )
        assert status == 200

        logged = stored_messages(user)
        assert [message["type"] for message in logged] == [
            "project.created",
            "session.started",
            "session.paused",
        ]
        for socket_ in (first, second):
            assert [json.loads(socket_.recv(timeout=5)) for _ in logged] == logged
        for socket_ in (first, second, bystander):
            with pytest.raises(TimeoutError):
                socket_.recv(timeout=0.3)


# --- Redis down ---------------------------------------------------------------------------


def broadcast_failures() -> float:
    return REGISTRY.get_sample_value("pomodoro_events_broadcast_failures_total") or 0.0


@realtime
def test_a_rest_action_succeeds_when_the_channel_layer_is_down_and_replay_closes_the_gap(
    client, user
):
    unreachable = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [f"redis://127.0.0.1:{free_port()}/0"]},
        }
    }
    failed_before = broadcast_failures()

    with override_settings(CHANNEL_LAYERS=unreachable):
        response = client.post(API + "projects/", {"name": "offline"}, format="json")
        flush_broadcasts()
        failed_after = broadcast_failures()

    assert response.status_code == 201
    assert failed_after == failed_before + 1
    replay = client.get(API + "events/", {"after": 0})
    assert replay.json() == {
        "results": [
            {
                "seq": 1,
                "type": "project.created",
                "at": replay.json()["results"][0]["at"],
                "data": {"project": response.json()},
            }
        ],
        "last_seq": 1,
    }


@realtime
@run_async
async def test_a_socket_opened_after_a_lost_broadcast_replays_the_event(user):
    unreachable = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [f"redis://127.0.0.1:{free_port()}/0"]},
        }
    }
    with override_settings(CHANNEL_LAYERS=unreachable):
        logged = await db(record_events)(user, 1)
        await sync_to_async(flush_broadcasts, thread_sensitive=False)()

    async with open_socket(user, after=0) as (socket_, hello):
        assert hello["last_seq"] == 1
        assert await receive(socket_) == logged[0]
        await assert_quiet(socket_)


@realtime
@run_async
async def test_an_import_reaches_the_socket_as_every_event_in_order_once(user):
    """An import's events are broadcast as one (the last); the socket reads the others
    from the log."""
    client = await db(client_for)(user)
    header = (
        "User,Email,Client,Project,Task,Description,Billable,Start date,Start time,"
        "End date,End time,Duration,Tags\n"
    )
    rows = "".join(
        f",,,,,Row {n},No,2026-01-05,0{n}:00:00,2026-01-05,0{n}:30:00,00:30:00,\n"
        for n in range(1, 5)
    )

    async with open_socket(user, after=0) as (socket_, hello):
        assert hello["last_seq"] == 0

        def act() -> None:
            response = client.generic(
                "POST", API + "sessions/import/", (header + rows).encode(), content_type="text/csv"
            )
            assert response.json() == {"imported": 4, "skipped": []}

        await db(act)()

        # and the badges the first completed focus sessions earned
        received = await receive_many(socket_, 6)
        assert received == await db(stored_messages)(user)
        assert [message["type"] for message in received] == [
            *["session.logged"] * 4,
            "badge.earned",
            "badge.earned",
        ]
        names = [message["data"]["session"]["name"] for message in received[:4]]
        assert names == ["Row 1", "Row 2", "Row 3", "Row 4"]
        await assert_quiet(socket_)
