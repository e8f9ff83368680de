"""What the apps above the event log add to it, in one place.

The event log sits at the bottom of the layers and imports no app; the apps above
register here, in their AppConfig.ready(), what it must call:

- Reactions: a rule of a higher app that follows a recorded event. They run in the
  order of REACTIONS below, each in the phase written there:
    0. "integrations.webhooks", in the event's own statement: one outbox row per
       endpoint of the user that wants the event (integrations.services), written by
       the statement that inserts the event (no round trip of its own), committed with
       it, sent by the webhook worker after the commit.
    1. "analytics.badges", in the transaction: a completed focus session (or any other
       change that can earn a badge) records the badge, and its `badge.earned` event,
       exactly once and together with the change (rolled back with it).
    2. "teams.member_status", after the commit: the member's new state is pushed to
       the user's teams. The pushes need no lock, so they run outside the
       transaction; the user's teams are read by the event's own statement (its
       `reads`), which costs no round trip and takes no lock.
  A reaction registered under a name not listed here is refused at start-up, so this
  list is the whole truth.
- Socket commands: the actions a client may send over the events socket
  (sessions_app registers start, pause, stop and reset).
- Socket groups: the channel-layer groups a user's socket joins besides the user's
  own (teams registers the user's team groups).
"""

import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.db import transaction

logger = logging.getLogger("pomodoro.events")


class Phase(enum.Enum):
    # SQL added to the statement that inserts the event (a StatementPart): for a
    # reaction that is only a write depending on the event row, on every event, where a
    # statement of its own would cost a round trip (docs/benchmarks.md, "Issue 11: after").
    IN_STATEMENT = "in the event's statement"
    IN_TRANSACTION = "in the transaction"
    AFTER_COMMIT = "after commit"


REACTIONS: tuple[tuple[str, Phase], ...] = (
    # The webhook outbox rows of the event, with it (rolled back with it). First, so
    # that a badge.earned recorded by the next reaction gets its rows after this
    # event's: the worker sends an endpoint's rows in the order they were written.
    ("integrations.webhooks", Phase.IN_STATEMENT),
    ("analytics.badges", Phase.IN_TRANSACTION),
    ("teams.member_status", Phase.AFTER_COMMIT),
)


@dataclass(frozen=True)
class Recorded:
    """A recorded event as a reaction sees it: the user, the event row, and the object
    the event is about (a session) as it was written, or None."""

    user: Any
    event: Any
    subject: Any = None
    # What each reaction's `reads` expression gave, read by the event's statement.
    reads: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StatementPart:
    """A reaction run inside the event's INSERT statement (Phase.IN_STATEMENT).

    `sql` is the body of a data-modifying CTE (an INSERT ... SELECT) that reads the
    CTE `recorded`, the new event rows (id, user_id, seq, type, at, data: one row, or
    one per event of a batch), and its own named parameters (`%(name)s`, prefixed to
    stay apart from the others'), which `params(event)` gives for the unsaved Event (no
    id or seq yet; for a batch, an Event with only the type and moment they share)."""

    sql: str
    params: Callable[[Any], dict]


@dataclass(frozen=True)
class Reaction:
    name: str
    phase: Phase
    event_types: frozenset[str]
    # A StatementPart for Phase.IN_STATEMENT, else a function of the Recorded event.
    handler: Callable[[Recorded], None] | StatementPart
    # The reaction to many events of one type recorded at once (events.log.events_record);
    # without one, `handler` runs for each. (A StatementPart serves both: its SQL reads
    # every row of `recorded`.)
    batch_handler: Callable[[list[Recorded]], None] | None = None
    # An SQL expression the event's statement evaluates for this reaction (it may read
    # `recorded`, the new event row); the handler finds its value in Recorded.reads.
    # For a reaction after commit that needs a read: it costs no round trip there.
    # Not read for a batch: there the handler reads for itself.
    reads: str | None = None


_reactions: dict[str, Reaction] = {}
_by_type: dict[str, tuple[Reaction, ...]] = {}


def reaction_register(
    name: str,
    *,
    event_types: frozenset[str],
    handler: Callable[[Recorded], None] | StatementPart,
    batch_handler: Callable[[list[Recorded]], None] | None = None,
    reads: str | None = None,
) -> None:
    """Registers the reaction `name` (one of REACTIONS) to the events of `event_types`:
    a StatementPart for a reaction listed IN_STATEMENT, a function for the others,
    optionally with its form for a batch of events of one type (`batch_handler`) and
    `reads` (see Reaction) if it needs a value read with the event."""
    phases = dict(REACTIONS)
    if name not in phases:
        raise LookupError(f"{name!r} is not in events.registry.REACTIONS")
    if isinstance(handler, StatementPart) != (phases[name] is Phase.IN_STATEMENT):
        raise TypeError(f"{name!r} runs {phases[name].value}: a StatementPart there only")
    if name in _reactions and _reactions[name].handler is not handler:
        raise ValueError(f"reaction {name!r} is registered already")
    _reactions[name] = Reaction(
        name, phases[name], frozenset(event_types), handler, batch_handler, reads
    )
    _by_type.clear()


def reactions_for(event_type: str) -> tuple[Reaction, ...]:
    """The reactions to `event_type`, in the order of REACTIONS."""
    found = _by_type.get(event_type)
    if found is None:
        found = tuple(
            _reactions[name]
            for name, _phase in REACTIONS
            if name in _reactions and event_type in _reactions[name].event_types
        )
        _by_type[event_type] = found
    return found


def statement_parts_for(event_type: str) -> tuple[Reaction, ...]:
    """The reactions to `event_type` that run in the event's statement, in order."""
    return tuple(r for r in reactions_for(event_type) if r.phase is Phase.IN_STATEMENT)


def readers_for(event_type: str) -> tuple[Reaction, ...]:
    """The reactions to `event_type` with a `reads` expression, in order."""
    return tuple(r for r in reactions_for(event_type) if r.reads is not None)


def reactions_run(recorded: Recorded) -> None:
    """Runs the reactions to a just-recorded event: those of the transaction now (an
    exception rolls the change back with them), those after commit once it commits.
    (Those of the statement ran with the event's insert.)"""
    for reaction in reactions_for(recorded.event.type):
        if reaction.phase is not Phase.IN_STATEMENT:
            _run_in_phase(reaction, recorded.event.type, partial(reaction.handler, recorded))


def reactions_run_batch(records: list[Recorded]) -> None:
    """`reactions_run` for events of one type recorded together: each reaction's batch
    handler runs once for them all (or its handler for each), in the same phases.
    (Those of the statement ran with the events' insert.)"""
    if not records:
        return
    event_type = records[0].event.type
    for reaction in reactions_for(event_type):
        if reaction.phase is Phase.IN_STATEMENT:
            continue
        if reaction.batch_handler is None:
            run = [partial(reaction.handler, recorded) for recorded in records]
        else:
            run = [partial(reaction.batch_handler, records)]
        for call in run:
            _run_in_phase(reaction, event_type, call)


def _run_in_phase(reaction: Reaction, event_type: str, call: Callable[[], None]) -> None:
    """Runs `call` now (in the transaction: an exception rolls the change back) or once
    the transaction commits, as the reaction's phase says."""
    if reaction.phase is Phase.IN_TRANSACTION:
        call()
    else:
        transaction.on_commit(partial(_after_commit, reaction, event_type, call))


def _after_commit(reaction: Reaction, event_type: str, call: Callable[[], None]) -> None:
    # The change is committed: whatever goes wrong here must not fail the request.
    try:
        call()
    except Exception:
        logger.warning(
            "reaction failed after commit",
            extra={"reaction": reaction.name, "event_type": event_type},
            exc_info=True,
        )


# --- The events socket ---------------------------------------------------------------

# action -> function(user=, session_id=) answering the session object the ack carries.
SocketCommand = Callable[..., dict]
_socket_commands: dict[str, SocketCommand] = {}
_socket_group_sources: dict[str, Callable[[int], set[str]]] = {}


def socket_command_register(action: str, command: SocketCommand) -> None:
    _socket_commands[action] = command


def socket_commands() -> dict[str, SocketCommand]:
    return _socket_commands


def socket_groups_register(name: str, groups_of: Callable[[int], set[str]]) -> None:
    """`groups_of(user_id)` names the groups the user's sockets join besides the user's
    own; sockets re-read it when told `groups.changed` and every watchdog round."""
    _socket_group_sources[name] = groups_of


def socket_groups_of(user_id: int) -> set[str]:
    groups: set[str] = set()
    for groups_of in _socket_group_sources.values():
        groups |= groups_of(user_id)
    return groups
