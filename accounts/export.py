"""The account export (GET me/export/): one JSON document with everything a user owns,
streamed a chunk at a time.

Memory stays flat whatever the history: sessions are read in key order a batch at a
time (a keyset walk, not OFFSET), each batch with its segments in one more query, as
plain tuples (no model instances), and each batch leaves as text before the next is
read. The small parts (profile, settings, teams) are read whole.
"""

import datetime
import json
from collections.abc import Callable, Iterable, Iterator

from django.http import StreamingHttpResponse

from accounts.models import User
from accounts.services import profile_data, settings_data
from pomodoro.streaming import pulled_in_thread
from pomodoro.timefmt import isoformat_utc

# Rows read per query.
BATCH_ROWS = 2000

# The document's parts after profile and settings, in order. The apps that own them
# register each in their AppConfig.ready() (accounts sits below them and imports none):
# sessions_app the projects, tasks, tags and sessions, analytics the badges, teams the
# teams. A section's producer yields the JSON text of its value.
SECTIONS = ("projects", "tasks", "tags", "sessions", "badges", "teams")
ExportSection = Callable[[User, datetime.datetime], Iterator[str]]
_sections: dict[str, ExportSection] = {}


def export_section_register(name: str, producer: ExportSection) -> None:
    if name not in SECTIONS:
        raise LookupError(f"{name!r} is not in accounts.export.SECTIONS")
    _sections[name] = producer


def export_time(moment: datetime.datetime | str | None) -> str | None:
    if moment is None or isinstance(moment, str):
        return moment
    return isoformat_utc(moment)


def export_dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def export_keyset(queryset, columns: tuple) -> Iterator[list[tuple]]:
    """The rows of `queryset` as tuples of `columns` (the first is the primary key), in
    key order, a batch at a time."""
    last_id = 0
    while True:
        batch = list(
            queryset.filter(pk__gt=last_id).order_by("pk").values_list(*columns)[:BATCH_ROWS]
        )
        if not batch:
            return
        yield batch
        last_id = batch[-1][0]


def export_array(batches: Iterable[list], item) -> Iterator[str]:
    """A JSON array of item(row) for every row, one chunk of text per batch (encoded in
    one call: a call per row cost more than the encoding)."""
    yield "["
    separator = ""
    for batch in batches:
        yield separator + export_dumps([item(row) for row in batch])[1:-1]
        separator = ","
    yield "]"


def account_export_chunks(*, user: User, now: datetime.datetime) -> Iterator[str]:
    """The export document's text, in order: {exported_at, profile, settings, projects,
    tasks, tags, sessions, badges, teams}."""
    yield (
        f'{{"exported_at":{export_dumps(isoformat_utc(now))},'
        f'"profile":{export_dumps(profile_data(user))},'
        f'"settings":{export_dumps(settings_data(user.timer_settings))}'
    )
    for name in SECTIONS:
        yield f',"{name}":'
        yield from _sections[name](user, now)
    yield "}"


def account_export_response(
    *, user: User, now: datetime.datetime, asynchronous: bool
) -> StreamingHttpResponse:
    chunks = account_export_chunks(user=user, now=now)
    response = StreamingHttpResponse(
        pulled_in_thread(chunks) if asynchronous else chunks, content_type="application/json"
    )
    response["Content-Disposition"] = f'attachment; filename="pomodoro-account-{now:%Y%m%d}.json"'
    return response
