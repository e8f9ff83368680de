"""Drill: kill -9 the timer worker mid-batch; after a restart every due session is
completed exactly once.

Seeds DRILL_DUE_SESSIONS (default 2,000) running focus sessions of as many users, all
already due (a quarter of them had a pause, so their target is not start + plan), half
of the users with auto-started breaks. Starts the worker (batches of 200), kills it
with SIGKILL while a batch transaction is open, checks that only whole batches were
committed, restarts two workers at once (rows one holds are skipped by the other),
and checks, per session: completed, ended_at equal to the target_end_at it had,
exactly one session.completed event, the planned length run; one auto-started break
per user who asked for it (when completed within the grace period), none for the
others; every invariant of drills/invariants.py.

    .venv/bin/python -m drills.worker_kill
"""

import datetime
import os
import random
import sys
import time

from drills.harness import Drill, wait_until

DUE_SESSIONS = int(os.environ.get("DRILL_DUE_SESSIONS", "2000"))
BATCH = int(os.environ.get("DRILL_WORKER_BATCH", "200"))
PLANNED_SECONDS = 1500


def seed_due_sessions(count: int, *, now: datetime.datetime, prefix: str = "drill") -> list[int]:
    """`count` users, each with one running focus session already due and its
    session.started event (seq 1). Answers the session ids. Needs Django set up."""
    from accounts.models import TimerSettings, User
    from events.models import Event, EventStream
    from sessions_app.models import Session, SessionSegment
    from sessions_app.services import session_data

    rng = random.Random(7)
    users = User.objects.bulk_create(
        User(email=None, is_guest=True, display_name=f"{prefix} {index}", password="!")
        for index in range(count)
    )
    TimerSettings.objects.bulk_create(
        TimerSettings(user=user, auto_start_breaks=index % 2 == 0)
        for index, user in enumerate(users)
    )
    sessions, segments = [], []
    for index, user in enumerate(users):
        target = now - datetime.timedelta(seconds=rng.uniform(0.5, 20))
        planned = datetime.timedelta(seconds=PLANNED_SECONDS)
        if index % 4 == 0:  # ran 600 s, paused 300 s, running again since
            first_run = datetime.timedelta(seconds=600)
            running_since = target - (planned - first_run)
            started_at = running_since - first_run - datetime.timedelta(seconds=300)
            segments.append((index, started_at, started_at + first_run))
        else:
            first_run = datetime.timedelta(0)
            started_at = running_since = target - planned
        segments.append((index, running_since, None))
        sessions.append(
            Session(
                user=user,
                kind=Session.Kind.FOCUS,
                state=Session.State.RUNNING,
                planned_seconds=PLANNED_SECONDS,
                started_at=started_at,
                running_since=running_since,
                closed_running_time=first_run,
                target_end_at=target,
            )
        )
    Session.objects.bulk_create(sessions)
    SessionSegment.objects.bulk_create(
        SessionSegment(session=sessions[index], user_id=sessions[index].user_id, started_at=start,
                       ended_at=end)
        for index, start, end in segments
    )  # fmt: skip
    Event.objects.bulk_create(
        Event(
            user_id=session.user_id,
            seq=1,
            type="session.started",
            at=session.started_at,
            data={"session": session_data(session, now=session.started_at)},
        )
        for session in sessions
    )
    EventStream.objects.bulk_create(EventStream(user=user, last_seq=1) for user in users)
    return [session.pk for session in sessions]


def run() -> bool:
    with Drill("worker_kill", redis=True) as drill:
        os.environ.update(drill.env)
        os.environ["DJANGO_SETTINGS_MODULE"] = "pomodoro.settings.production"
        import django

        django.setup()
        from django.db import connection

        from sessions_app.models import Session

        seeded_at = time.monotonic()
        session_ids = seed_due_sessions(DUE_SESSIONS, now=datetime.datetime.now(datetime.UTC))
        targets = dict(
            Session.objects.filter(pk__in=session_ids).values_list("pk", "target_end_at")
        )
        connection.close()
        drill.figures["due_sessions"] = len(session_ids)
        drill.figures["seed_seconds"] = round(time.monotonic() - seeded_at, 1)

        database = drill.pg.connect()

        def completed_count() -> int:
            return database.execute(
                "SELECT count(*) FROM sessions_app_session"
                " WHERE id = ANY(%s) AND state = 'completed'",
                [session_ids],
            ).fetchone()[0]

        def worker_in_transaction() -> bool:
            return bool(
                database.execute(
                    "SELECT 1 FROM pg_stat_activity WHERE application_name = 'worker-1'"
                    " AND xact_start IS NOT NULL"
                ).fetchone()
            )

        worker = drill.start_worker(name="worker-1", batch=BATCH)
        started = time.monotonic()
        # Killed once two batches are in and a third is open.
        wait_until(
            lambda: completed_count() >= 2 * BATCH and worker_in_transaction(),
            timeout=120, interval=0.01, what="the worker to be inside its third batch",
        )  # fmt: skip
        worker.kill_group()
        killed_after = time.monotonic() - started
        at_kill = completed_count()
        time.sleep(0.5)  # PostgreSQL notices the dead client and rolls its batch back
        after_kill = completed_count()
        locks_left = database.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'worker-1'"
        ).fetchone()[0]
        drill.figures.update(
            killed_after_s=round(killed_after, 2),
            completed_when_killed=at_kill,
            completed_after_kill=after_kill,
        )
        drill.check(after_kill % BATCH == 0, f"only whole batches committed ({after_kill})")
        drill.check(after_kill < len(session_ids), "the kill came before the end")
        drill.check(locks_left == 0, "the killed worker's connection is gone")

        restarted = time.monotonic()
        drill.start_worker(name="worker-2a", batch=BATCH)
        drill.start_worker(name="worker-2b", batch=BATCH)
        wait_until(
            lambda: completed_count() == len(session_ids),
            timeout=900, interval=0.1, what="every due session to complete",
        )  # fmt: skip
        drill.figures["restart_to_all_completed_s"] = round(time.monotonic() - restarted, 2)
        for process in drill.processes:
            process.stop()

        rows = database.execute(
            """
            SELECT s.id, s.state, s.ended_at, s.closed_running_time,
                   (SELECT count(*) FROM events_event e WHERE e.user_id = s.user_id
                      AND e.type = 'session.completed'
                      AND (e.data->'session'->>'id')::bigint = s.id),
                   (SELECT min(e.at) FROM events_event e WHERE e.user_id = s.user_id
                      AND e.type = 'session.completed'),
                   (SELECT count(*) FROM sessions_app_session f WHERE f.user_id = s.user_id
                      AND f.id <> s.id),
                   t.auto_start_breaks
            FROM sessions_app_session s JOIN accounts_timersettings t ON t.user_id = s.user_id
            WHERE s.id = ANY(%s)
            """,
            [session_ids],
        ).fetchall()
        wrong_end = [r[0] for r in rows if r[2] != targets[r[0]]]
        not_once = [r[0] for r in rows if r[4] != 1]
        short = [r[0] for r in rows if r[3] != datetime.timedelta(seconds=PLANNED_SECONDS)]
        # A break is auto-started when the completion came within 60 s of ended_at; the
        # worker's clock for that is its batch's start, a few seconds before the event.
        surely_in, surely_out = datetime.timedelta(seconds=50), datetime.timedelta(seconds=70)
        wrong_followers = [
            r[0]
            for r in rows
            if r[6] > 1
            or (r[6] == 1 and not r[7])
            or (r[7] and r[5] - r[2] < surely_in and r[6] != 1)
            or (r[5] - r[2] > surely_out and r[6] != 0)
        ]
        drill.figures["auto_started_breaks"] = sum(r[6] for r in rows)
        drill.check(not wrong_end, f"ended_at == target_end_at (wrong: {wrong_end[:5]})")
        drill.check(not not_once, f"one session.completed each (wrong: {not_once[:5]})")
        drill.check(not short, f"ran exactly the planned length (wrong: {short[:5]})")
        drill.check(
            not wrong_followers,
            f"one auto-started break where asked (wrong: {wrong_followers[:5]})",
        )
        drill.check_invariants(database)
        database.close()
        return drill.report()


if __name__ == "__main__":
    sys.exit(0 if run() else 1)
