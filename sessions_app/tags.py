"""Every change to a user's tags goes through these functions, each in one transaction
with its event (`tag.created`, `tag.updated`, `tag.deleted`).

Sessions hold their tags as an array of ids (`Session.tag_ids`), so nothing in the
database stops a session from naming a deleted tag: the lock order does. A write that
puts tags on sessions first takes FOR KEY SHARE on those tag rows (`tags_share_locked`),
then locks the sessions; deleting a tag first deletes its row (which waits for those
share locks and makes later ones find no row), then takes it off its sessions. Both
take tag rows before session rows (sessions_app/locks.py), so no cycle can form, and a
session written by a transaction that saw the tag is seen by the deletion's next
statement.
"""

from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models.functions import Lower
from rest_framework.exceptions import NotFound, ValidationError

from accounts.models import User
from events.log import event_record
from sessions_app.models import Session, Tag
from sessions_app.serializers import TagSerializer

NAME_TAKEN = "You already have a tag with this name (names ignore case)."


def tag_data(tag: Tag) -> dict:
    return TagSerializer(tag).data


def _ensure_name_free(user: User, name: str, *, other_than: int | None = None) -> None:
    taken = Tag.objects.annotate(lower_name=Lower("name")).filter(
        user=user, lower_name=name.lower()
    )
    if other_than is not None:
        taken = taken.exclude(pk=other_than)
    if taken.exists():
        raise ValidationError({"name": [NAME_TAKEN]})


def _save_unique(tag: Tag, **save_options: Any) -> None:
    """Saves in a savepoint: two requests creating one name at once pass the check
    above together, and the unique index (tag_user_name_ci) refuses the second."""
    try:
        with transaction.atomic():
            tag.save(**save_options)
    except IntegrityError:
        raise ValidationError({"name": [NAME_TAKEN]}) from None


def _locked_tag(user: User, tag_id: int) -> Tag:
    tag = Tag.objects.select_for_update(no_key=True).filter(pk=tag_id, user=user).first()
    if tag is None:
        raise NotFound("No such tag.")
    return tag


@transaction.atomic
def tag_create(*, user: User, name: str, color: str | None = None) -> Tag:
    _ensure_name_free(user, name)
    tag = Tag(user=user, name=name)
    if color:
        tag.color = color
    _save_unique(tag)
    event_record(user=user, type="tag.created", data={"tag": tag_data(tag)})
    return tag


@transaction.atomic
def tag_update(*, user: User, tag_id: int, **changes: Any) -> Tag:
    tag = _locked_tag(user, tag_id)
    changed = [name for name, value in changes.items() if getattr(tag, name) != value]
    if not changed:
        return tag
    if "name" in changed:
        _ensure_name_free(user, changes["name"], other_than=tag.pk)
    for name in changed:
        setattr(tag, name, changes[name])
    _save_unique(tag, update_fields=[*changed, "updated_at"])
    event_record(user=user, type="tag.updated", data={"tag": tag_data(tag)})
    return tag


@transaction.atomic
def tag_delete(*, user: User, tag_id: int) -> list[int]:
    """Deletes the tag and takes it off every session of the user that has it (each
    such session's `version` goes up by one). Records one `tag.deleted` whose
    `data.sessions` lists those sessions' ids, ascending: all a client needs to drop
    the id from the sessions it holds. Answers those ids."""
    tag_id = int(tag_id)  # a URL's id arrives as text; the event records a number
    deleted, _ = Tag.objects.filter(pk=tag_id, user=user).delete()
    if not deleted:
        raise NotFound("No such tag.")
    session_ids = _sessions_untag(user, tag_id)
    event_record(
        user=user, type="tag.deleted", data={"tag": {"id": tag_id}, "sessions": session_ids}
    )
    return session_ids


def _sessions_untag(user: User, tag_id: int) -> list[int]:
    """Takes `tag_id` off the user's sessions (deleted ones too, so no row names a tag
    that is gone), locking them in primary-key order first (sessions_app/locks.py)."""
    table = connection.ops.quote_name(Session._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH locked AS (SELECT id FROM {table} WHERE user_id = %(user)s "
            "AND tag_ids @> ARRAY[%(tag)s]::bigint[] ORDER BY id FOR NO KEY UPDATE) "
            f"UPDATE {table} AS s SET tag_ids = array_remove(s.tag_ids, %(tag)s), "
            "version = s.version + 1, updated_at = now() "
            "FROM locked WHERE s.id = locked.id RETURNING s.id",
            {"user": user.pk, "tag": tag_id},
        )
        return sorted(row[0] for row in cursor.fetchall())


def tags_share_locked(user: User, tag_ids: Iterable[int]) -> list[int]:
    """The ids among `tag_ids` that are tags of `user`, ascending, FOR KEY SHARE: they
    cannot be deleted before this transaction ends (the module docstring says why).
    Taken before any session row."""
    wanted = sorted(set(tag_ids))
    if not wanted:
        return []
    table = connection.ops.quote_name(Tag._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM {table} WHERE user_id = %s AND id = ANY(%s) ORDER BY id FOR KEY SHARE",
            [user.pk, wanted],
        )
        return [row[0] for row in cursor.fetchall()]
