"""Real threads against PostgreSQL: bulk changes racing single edits and tag deletions.
Each thread has its own client and database connection; every interleaving the
database allows must leave each change applied once, in every session, with one event
each and no gap in `seq`."""

from collections import Counter

import pytest

from events.models import Event
from sessions_app import tags as tag_services
from sessions_app.models import Session
from tests.conftest import client_for
from tests.factories import FinishedSessionFactory, TagFactory, UserFactory
from tests.threads import run_in_threads

pytestmark = pytest.mark.django_db(transaction=True)

SESSIONS = "/api/v1/sessions/"


def types_and_sessions(user) -> list[tuple[int, str, int | None]]:
    return [
        (event.seq, event.type, event.data.get("session", {}).get("id"))
        for event in Event.objects.filter(user=user).order_by("seq")
    ]


def test_a_bulk_tagging_racing_single_edits_keeps_both():
    """Thread 0 tags 30 sessions in one bulk change while threads 1 to 6 each rename
    five of them one by one, in the opposite order. Every session ends with the tag and
    its new name, its version counts its two changes, and every change has its event."""
    user = UserFactory()
    tag = TagFactory(user=user)
    sessions = [FinishedSessionFactory(user=user).pk for _ in range(30)]
    clients = [client_for(user) for _ in range(7)]

    def work(index: int) -> list[int]:
        if index == 0:
            body = {"ids": sessions, "action": "update", "changes": {"add_tags": [tag.pk]}}
            return [clients[0].post(SESSIONS + "bulk/", body, format="json").status_code]
        mine = sessions[(index - 1) * 5 : index * 5]
        return [
            clients[index]
            .patch(f"{SESSIONS}{pk}/", {"name": f"edit {pk}"}, format="json")
            .status_code
            for pk in reversed(mine)
        ]

    results = run_in_threads(7, work)

    assert results == [[200]] + [[200] * 5] * 6
    stored = Session.objects.filter(pk__in=sessions).values_list("pk", "tag_ids", "name", "version")
    assert sorted(stored) == [(pk, [tag.pk], f"edit {pk}", 3) for pk in sessions]
    recorded = types_and_sessions(user)
    assert [seq for seq, _, _ in recorded] == list(range(1, 61))
    assert sorted(pk for _, kind, pk in recorded if kind == "session.updated") == sorted(
        sessions * 2
    )
    # The bulk change's 30 events (one moment, `at`) are consecutive: one transaction.
    moments = Counter(Event.objects.filter(user=user).values_list("at", flat=True))
    bulk_at = next(at for at, count in moments.items() if count == 30)
    bulk_seqs = list(
        Event.objects.filter(user=user, at=bulk_at).order_by("seq").values_list("seq", flat=True)
    )
    assert bulk_seqs == list(range(bulk_seqs[0], bulk_seqs[0] + 30))


def test_a_bulk_delete_racing_single_edits_is_all_or_nothing_per_edit():
    """Each single edit lands either before the bulk delete (200, then deleted with the
    rest) or after it (404, nothing written)."""
    user = UserFactory()
    sessions = [FinishedSessionFactory(user=user).pk for _ in range(20)]
    clients = [client_for(user) for _ in range(5)]

    def work(index: int) -> list[int]:
        if index == 0:
            body = {"ids": sessions, "action": "delete"}
            return [clients[0].post(SESSIONS + "bulk/", body, format="json").status_code]
        mine = sessions[(index - 1) * 5 : index * 5]
        return [
            clients[index].patch(f"{SESSIONS}{pk}/", {"name": "late"}, format="json").status_code
            for pk in reversed(mine)
        ]

    results = run_in_threads(5, work)

    assert results[0] == [200]
    edits = [status for statuses in results[1:] for status in statuses]
    assert set(edits) <= {200, 404}
    assert Session.objects.filter(pk__in=sessions, deleted_at__isnull=True).count() == 0
    recorded = types_and_sessions(user)
    assert [seq for seq, _, _ in recorded] == list(range(1, len(recorded) + 1))
    updated = [pk for _, kind, pk in recorded if kind == "session.updated"]
    assert len(updated) == edits.count(200)
    assert sorted(pk for _, kind, pk in recorded if kind == "session.deleted") == sessions
    # An edit that landed is followed by its session's deletion, never the reverse.
    position = {(kind, pk): seq for seq, kind, pk in recorded}
    for pk in updated:
        assert position[("session.updated", pk)] < position[("session.deleted", pk)]


def test_tagging_racing_the_tags_deletion_leaves_no_deleted_tag_behind():
    """Bulk tagging and single PATCHes put a tag on sessions while another thread deletes
    it: whichever wins, no session names the deleted tag afterwards."""
    user = UserFactory()
    tag = TagFactory(user=user)
    sessions = [FinishedSessionFactory(user=user).pk for _ in range(20)]
    clients = [client_for(user) for _ in range(4)]

    def work(index: int) -> int:
        if index == 0:
            tag_services.tag_delete(user=user, tag_id=tag.pk)
            return 204
        if index == 1:
            body = {"ids": sessions, "action": "update", "changes": {"add_tags": [tag.pk]}}
            return clients[1].post(SESSIONS + "bulk/", body, format="json").status_code
        pk = sessions[index]
        return (
            clients[index].patch(f"{SESSIONS}{pk}/", {"tags": [tag.pk]}, format="json").status_code
        )

    results = run_in_threads(4, work)

    assert results[0] == 204
    assert set(results[1:]) <= {200, 400}
    assert not Session.objects.filter(tag_ids__contains=[tag.pk]).exists()
    recorded = types_and_sessions(user)
    assert [seq for seq, _, _ in recorded] == list(range(1, len(recorded) + 1))
