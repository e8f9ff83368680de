"""sessions_app.statements: the written-out hot-path SQL writes what the ORM would."""

import datetime

import pytest
from django.utils import timezone

from pomodoro.exceptions import ActiveSessionExists
from sessions_app import services, statements
from sessions_app.models import Session, SessionSegment

pytestmark = pytest.mark.django_db


def new_session(user, **fields) -> Session:
    now = timezone.now()
    defaults = {"state": Session.State.PAUSED, "planned_seconds": 1500, "started_at": now}
    return Session(user=user, **{**defaults, **fields})


def test_an_insert_writes_every_field_as_save_would(user):
    now = timezone.now()
    session = new_session(
        user,
        state=Session.State.RUNNING,
        started_at=now,
        running_since=now,
        target_end_at=now + datetime.timedelta(seconds=1500),
        name="Essay",
    )

    assert statements.session_insert(session, segment_at=now)

    row = Session.objects.get(pk=session.pk)
    assert (row.user_id, row.state, row.name, row.planned_seconds, row.version) == (
        user.pk,
        "running",
        "Essay",
        1500,
        1,
    )
    assert row.running_since == row.started_at == now
    assert row.created_at is not None and row.updated_at is not None
    assert not session._state.adding
    (segment,) = SessionSegment.objects.filter(session=session)
    assert (segment.user_id, segment.started_at, segment.ended_at) == (user.pk, now, None)


def test_a_paused_insert_opens_no_segment(user):
    session = new_session(user)
    assert statements.session_insert(session)
    assert not SessionSegment.objects.filter(session=session).exists()


def test_an_insert_beside_an_active_session_writes_nothing(user):
    active = services.session_create(user=user)
    second = new_session(user)

    assert not statements.session_insert(second, segment_at=timezone.now())

    assert second.pk is None
    assert list(Session.objects.filter(user=user).values_list("pk", flat=True)) == [active.pk]
    assert SessionSegment.objects.filter(user=user).count() == 1


def test_losing_to_an_active_session_answers_it(user):
    active = services.session_create(user=user)

    with pytest.raises(ActiveSessionExists) as refused:
        services._insert_session(new_session(user), segment_at=timezone.now())

    assert refused.value.extra["active_session"]["id"] == active.pk
