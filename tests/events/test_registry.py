"""events.registry: the one list of reactions, run in its order and phase."""

import pytest
from django.db import transaction

from events import registry
from events.log import event_record, events_record
from events.models import Event


def test_the_apps_register_every_listed_reaction_in_its_phase():
    registered = {name: reaction.phase for name, reaction in registry._reactions.items()}

    assert registered == dict(registry.REACTIONS)


def test_session_completion_writes_webhook_rows_then_badges_then_team_status():
    names = [reaction.name for reaction in registry.reactions_for("session.completed")]

    assert names == ["integrations.webhooks", "analytics.badges", "teams.member_status"]


def test_a_reaction_not_listed_is_refused():
    with pytest.raises(LookupError):
        registry.reaction_register(
            "somewhere.else", event_types=frozenset({"x"}), handler=lambda recorded: None
        )


def test_the_socket_commands_are_the_session_actions():
    assert sorted(registry.socket_commands()) == ["pause", "reset", "start", "stop"]


@pytest.mark.django_db(transaction=True)
def test_an_after_commit_reaction_runs_only_once_committed_and_cannot_fail_the_change(user):
    seen: list[str] = []

    def note(recorded):
        seen.append(recorded.event.type)
        raise RuntimeError("a reaction failing after commit")

    name = next(n for n, phase in registry.REACTIONS if phase is registry.Phase.AFTER_COMMIT)
    original = registry._reactions[name]
    registry._reactions[name] = registry.Reaction(
        name, registry.Phase.AFTER_COMMIT, frozenset({"test.event"}), note
    )
    registry._by_type.clear()
    try:
        with transaction.atomic():
            event_record(user=user, type="test.event", data={})
            assert seen == []
        assert seen == ["test.event"]
        with pytest.raises(ZeroDivisionError), transaction.atomic():
            event_record(user=user, type="test.event", data={})
            1 / 0  # noqa: B018
        assert seen == ["test.event"]
    finally:
        registry._reactions[name] = original
        registry._by_type.clear()
    assert list(Event.objects.filter(user=user).values_list("seq", "type")) == [(1, "test.event")]


@pytest.mark.django_db(transaction=True)
def test_a_batch_takes_consecutive_seqs_and_each_reaction_once_or_per_event(user):
    """events_record: one statement numbers the batch after what is there; a reaction
    with a batch handler sees the batch once, one without sees each event; the after
    commit ones run once committed."""
    seen: list[tuple[str, object]] = []
    names = [name for name, _phase in registry.REACTIONS]
    originals = {name: registry._reactions[name] for name in names[:2]}
    registry._reactions[names[0]] = registry.Reaction(
        names[0],
        registry.Phase.IN_TRANSACTION,
        frozenset({"test.event"}),
        lambda recorded: seen.append(("one", recorded.event.seq)),
        lambda batch: seen.append(("batch", [r.subject for r in batch])),
    )
    registry._reactions[names[1]] = registry.Reaction(
        names[1],
        registry.Phase.IN_TRANSACTION,
        frozenset({"test.event"}),
        lambda recorded: seen.append(("each", recorded.event.seq)),
    )
    registry._by_type.clear()
    try:
        with transaction.atomic():
            event_record(user=user, type="other.event", data={})
            recorded = events_record(
                user=user, type="test.event", items=[({"n": n}, f"s{n}") for n in range(3)]
            )
        assert [event.seq for event in recorded] == [2, 3, 4]
        assert seen == [("batch", ["s0", "s1", "s2"]), ("each", 2), ("each", 3), ("each", 4)]
    finally:
        registry._reactions.update(originals)
        registry._by_type.clear()
    stored = Event.objects.filter(user=user).order_by("seq").values_list("seq", "type", "data")
    assert list(stored) == [
        (1, "other.event", {}),
        (2, "test.event", {"n": 0}),
        (3, "test.event", {"n": 1}),
        (4, "test.event", {"n": 2}),
    ]
