"""SeqReplay on its own: every seq after the client's start sent once, in order, from
live broadcasts and the log alike. The log here is a list standing in for the table
(the consumer reads the real one: tests/events/test_socket.py)."""

import asyncio

import pytest

from events.replay import SeqReplay, TooFarBehind


class Log:
    def __init__(self, last: int):
        self.events = [{"seq": seq, "type": "x"} for seq in range(1, last + 1)]
        self.reads: list[tuple[int, int]] = []

    async def read_page(self, after: int, limit: int) -> list[dict]:
        self.reads.append((after, limit))
        return [event for event in self.events if event["seq"] > after][:limit]


def replay_over(log: Log, *, page_size: int = 500, max_live_gap: int = 2000):
    sent: list[int] = []

    async def send(event: dict) -> None:
        sent.append(event["seq"])

    replay = SeqReplay(
        read_page=log.read_page, send=send, page_size=page_size, max_live_gap=max_live_gap
    )
    return replay, sent


def run(coroutine):
    return asyncio.run(coroutine)


def test_the_replay_sends_what_follows_after_in_pages():
    log = Log(last=7)
    replay, sent = replay_over(log, page_size=3)

    replay.begin(after=2, last_seq=7)
    run(replay.fill(7))

    assert sent == [3, 4, 5, 6, 7]
    assert log.reads == [(2, 3), (5, 3)]
    assert replay.last_sent == 7


def test_without_after_only_new_events_are_sent():
    log = Log(last=5)
    replay, sent = replay_over(log)

    replay.begin(after=None, last_seq=5)
    run(replay.fill(5))
    run(replay.live({"seq": 6}))

    assert sent == [6]
    assert log.reads == []


def test_an_after_beyond_the_log_is_held_to_the_last_seq():
    replay, sent = replay_over(Log(last=4))

    replay.begin(after=99, last_seq=4)
    run(replay.live({"seq": 5}))

    assert sent == [5]


def test_a_live_event_the_replay_already_sent_is_dropped():
    log = Log(last=6)
    replay, sent = replay_over(log)
    replay.begin(after=0, last_seq=6)
    run(replay.fill(6))

    run(replay.live({"seq": 5}))
    run(replay.live({"seq": 6}))

    assert sent == [1, 2, 3, 4, 5, 6]


def test_a_live_gap_is_filled_from_the_log_before_the_event():
    log = Log(last=9)
    replay, sent = replay_over(log)
    replay.begin(after=None, last_seq=5)

    run(replay.live({"seq": 9, "type": "x"}))

    assert sent == [6, 7, 8, 9]
    assert log.reads == [(5, 500)]


def test_a_live_gap_larger_than_allowed_is_refused_with_where_the_client_stands():
    log = Log(last=30)
    replay, sent = replay_over(log, max_live_gap=10)
    replay.begin(after=None, last_seq=5)

    with pytest.raises(TooFarBehind) as behind:
        run(replay.live({"seq": 30}))

    assert behind.value.last_sent == 5
    assert sent == []


def test_a_live_event_before_the_start_is_left_to_the_replay():
    log = Log(last=3)
    replay, sent = replay_over(log)

    run(replay.live({"seq": 3}))

    assert sent == []
    assert replay.last_sent is None


def test_concurrent_live_events_out_of_order_go_out_in_order_once():
    log = Log(last=8)
    replay, sent = replay_over(log)
    replay.begin(after=None, last_seq=2)

    async def together():
        await asyncio.gather(*(replay.live({"seq": seq}) for seq in (5, 3, 8, 4, 6, 7, 3)))

    run(together())

    assert sent == [3, 4, 5, 6, 7, 8]
