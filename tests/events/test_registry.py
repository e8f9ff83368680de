"""events.registry: the one list of reactions, run in its order and phase."""

import pytest
from django.db import transaction

from events import registry
from events.log import event_record, events_record
from events.models import Event
from integrations.models import Webhook, WebhookDelivery


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


@pytest.mark.django_db
def test_events_recorded_together_are_numbered_in_order_after_the_others(user):
    hook = Webhook.objects.create(
        user=user, url="https://hooks.example.com/", event_types=["session.logged"], secret="s"
    )
    with transaction.atomic():
        event_record(user=user, type="test.event", data={})
        events = events_record(
            user=user,
            type="session.logged",
            items=[({"n": 1, "text": "é"}, None), ({"n": 2, "text": "👋"}, None)],
        )

    assert [(e.seq, e.type, e.data) for e in events] == [
        (2, "session.logged", {"n": 1, "text": "é"}),
        (3, "session.logged", {"n": 2, "text": "👋"}),
    ]
    stored = Event.objects.filter(user=user).order_by("seq").values_list("pk", "seq", "data")
    assert [(pk, seq) for pk, seq, _ in stored][1:] == [(e.pk, e.seq) for e in events]
    assert [data for _, _, data in stored] == [{}, {"n": 1, "text": "é"}, {"n": 2, "text": "👋"}]
    # the webhook reaction, in the batch's statement: one outbox row per event, in seq order
    deliveries = WebhookDelivery.objects.filter(webhook=hook).order_by("pk")
    assert [(d.event_seq, d.payload) for d in deliveries] == [
        (e.seq, e.as_message()) for e in events
    ]


def test_a_reaction_runs_only_in_the_phase_its_form_fits():
    part = registry.StatementPart(sql="SELECT 1", params=lambda event: {})
    with pytest.raises(TypeError):
        registry.reaction_register("analytics.badges", event_types=frozenset({"x"}), handler=part)
    with pytest.raises(TypeError):
        registry.reaction_register(
            "integrations.webhooks", event_types=frozenset({"x"}), handler=lambda r: None
        )


@pytest.mark.django_db
def test_a_reaction_in_the_statement_rolls_back_with_the_event(user):
    """integrations.webhooks writes its rows in the event's own INSERT statement."""
    Webhook.objects.create(user=user, url="https://hooks.example.com/", event_types=["*"])
    with transaction.atomic():
        kept = event_record(user=user, type="profile.updated", data={"a": 1})
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        event_record(user=user, type="profile.updated", data={})
        1 / 0  # noqa: B018

    (row,) = WebhookDelivery.objects.all()
    assert (row.event_seq, row.payload) == (kept.seq, kept.as_message())
