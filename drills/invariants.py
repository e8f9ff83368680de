"""The timer engine's invariants, checked in SQL against the database itself.

Used by the drills after a fault (on their own PostgreSQL) and by tests (on the test
database, through Django's cursor). Each check is a query answering the rows that
break it; `violations(cursor)` runs them all and answers {check: [rows]} for the
ones that found anything. The rules come from sessions_app/models.py and services.py:
a session's derived fields agree with its segments, a transition and its event are
one transaction, and each user's event log is 1, 2, 3, ... with no gap.
"""

CHECKS: dict[str, str] = {
    # The partial unique index holds this; checked anyway, it is the headline rule.
    "at most one active session per user": """
        SELECT user_id, count(*) FROM sessions_app_session
        WHERE state IN ('running', 'paused') AND deleted_at IS NULL
        GROUP BY user_id HAVING count(*) > 1
    """,
    "a running session has exactly one open segment, begun at running_since": """
        SELECT s.id FROM sessions_app_session s
        LEFT JOIN sessions_app_sessionsegment g ON g.session_id = s.id AND g.ended_at IS NULL
        WHERE s.state = 'running'
        GROUP BY s.id, s.running_since
        HAVING count(g.id) <> 1 OR min(g.started_at) <> s.running_since
    """,
    "a paused or ended session has no open segment": """
        SELECT s.id, s.state FROM sessions_app_session s
        JOIN sessions_app_sessionsegment g ON g.session_id = s.id AND g.ended_at IS NULL
        WHERE s.state <> 'running'
    """,
    "closed_running_time is the sum of the closed segments": """
        SELECT s.id FROM sessions_app_session s
        LEFT JOIN sessions_app_sessionsegment g ON g.session_id = s.id AND g.ended_at IS NOT NULL
        WHERE s.source = 'timer'
        GROUP BY s.id, s.closed_running_time
        HAVING s.closed_running_time <> coalesce(sum(g.ended_at - g.started_at), interval '0')
    """,
    "target_end_at is where the open segment reaches the plan, or a stopwatch the user's "
    "stopwatch_max_minutes (null unless running)": """
        SELECT s.id FROM sessions_app_session s
        JOIN accounts_timersettings t ON t.user_id = s.user_id
        WHERE (s.state <> 'running' AND s.target_end_at IS NOT NULL)
           OR (s.state = 'running' AND s.target_end_at IS DISTINCT FROM
               s.running_since + greatest(
                   CASE WHEN s.planned_seconds IS NOT NULL
                        THEN make_interval(secs => s.planned_seconds)
                        ELSE make_interval(mins => t.stopwatch_max_minutes) END
                   - s.closed_running_time, interval '0'))
    """,
    "an ended session ends at or after its last segment": """
        SELECT s.id FROM sessions_app_session s
        JOIN sessions_app_sessionsegment g ON g.session_id = s.id
        WHERE s.ended_at IS NOT NULL AND g.ended_at > s.ended_at
    """,
    "a completed timed session ran its planned length": """
        SELECT id FROM sessions_app_session
        WHERE state = 'completed' AND source = 'timer' AND planned_seconds IS NOT NULL
          AND closed_running_time < make_interval(secs => planned_seconds)
    """,
    "each user's event seqs are 1..N with no gap or duplicate": """
        SELECT user_id, min(seq), max(seq), count(*), count(DISTINCT seq)
        FROM events_event GROUP BY user_id
        HAVING min(seq) <> 1 OR max(seq) <> count(*) OR count(DISTINCT seq) <> count(*)
    """,
    "each user's event stream counter equals the last seq in the log": """
        SELECT coalesce(e.user_id, t.user_id), e.last, t.last_seq
        FROM (SELECT user_id, max(seq) AS last FROM events_event GROUP BY user_id) e
        FULL JOIN events_eventstream t ON t.user_id = e.user_id
        WHERE e.last IS DISTINCT FROM t.last_seq AND NOT (e.last IS NULL AND t.last_seq = 0)
    """,
    "each session version was announced by exactly one event": """
        SELECT data->'session'->>'id', data->'session'->>'version', count(*)
        FROM events_event
        WHERE type LIKE 'session.%%' AND type <> 'session.deleted'
        GROUP BY 1, 2 HAVING count(*) > 1
    """,
    "a session's current version is the last one its events announced": """
        SELECT s.id, s.version, max((e.data->'session'->>'version')::int)
        FROM sessions_app_session s
        JOIN events_event e ON e.user_id = s.user_id AND e.type LIKE 'session.%%'
             AND (e.data->'session'->>'id')::bigint = s.id
        GROUP BY s.id, s.version
        HAVING max((e.data->'session'->>'version')::int) <> s.version
    """,
    "every session was announced by an event": """
        SELECT s.id FROM sessions_app_session s
        WHERE NOT EXISTS (
            SELECT 1 FROM events_event e
            WHERE e.user_id = s.user_id AND e.type LIKE 'session.%%'
              AND ((e.data->'session'->>'id')::bigint = s.id
                   OR (e.data->'new_session'->>'id')::bigint = s.id))
    """,
    "exactly one session.completed event per completed-by-time session": """
        SELECT (data->'session'->>'id')::bigint, count(*) FROM events_event
        WHERE type = 'session.completed' GROUP BY 1 HAVING count(*) > 1
    """,
}


def violations(cursor) -> dict[str, list[tuple]]:
    """{check: offending rows} for every check that found any (empty: all hold)."""
    found = {}
    for name, sql in CHECKS.items():
        cursor.execute(sql)
        rows = cursor.fetchall()
        if rows:
            found[name] = [tuple(row) for row in rows[:10]]
    return found
