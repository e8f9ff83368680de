"""Every row lock of the timer engine, in one place.

Lock order, always: the user row (only where new time is claimed: create, log),
then tag rows (FOR KEY SHARE by writers that set them, deleted by a tag's deletion:
sessions_app/tags.py), then session rows in primary-key order, then the user's
event stream row (taken last, by event_record, just before commit). Nothing waits for a lock while
holding the event stream row, so no cycle can form. Badges a completed focus
session earns are inserted after that (analytics.services): only a holder of the
stream row inserts one, so that insert never waits for another transaction's.

FOR NO KEY UPDATE (no_key=True), not FOR UPDATE: the plain form would also block
inserts of segments and events, which reference these rows with foreign keys.
"""

from functools import cache

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import QuerySet

from sessions_app.models import Project, Session, Task


@cache
def _user_lock_statement() -> str:
    users = connection.ops.quote_name(get_user_model()._meta.db_table)
    return f"SELECT id FROM {users} WHERE id = %s FOR NO KEY UPDATE"


def locked_user(user_id: int) -> None:
    """Serializes a user's operations that claim new time (creating and logging sessions).
    Written out rather than compiled by the ORM on each call: every create takes it
    (docs/benchmarks.md, "Issue 11: after")."""
    with connection.cursor() as cursor:
        cursor.execute(_user_lock_statement(), [user_id])
        if cursor.fetchone() is None:
            raise get_user_model().DoesNotExist("No such user.")


def locked_sessions() -> QuerySet[Session]:
    return (
        Session.objects.select_for_update(no_key=True)
        .filter(deleted_at__isnull=True)
        .order_by("pk")
    )


def due_sessions_skipping_locked() -> QuerySet[Session]:
    """Running sessions for the timer worker; rows another worker holds are skipped, not awaited."""
    return (
        # of=("self",): the worker joins the user, and must not lock (or skip) user rows.
        Session.objects.select_for_update(no_key=True, skip_locked=True, of=("self",))
        .filter(state=Session.State.RUNNING, deleted_at__isnull=True, target_end_at__isnull=False)
        .order_by("pk")
    )


def locked_owned(model: type[Project] | type[Task], *, user, pk: int) -> Project | Task | None:
    """A live (not deleted) project or task of `user`, locked; None if there is none."""
    return (
        model.objects.select_for_update(no_key=True)
        .filter(pk=pk, user=user, deleted_at__isnull=True)
        .first()
    )
