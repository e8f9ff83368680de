"""HTTP endpoints of projects, tasks, sessions and events: validate, call, serialize."""

import re

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import MultiPartParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from accounts import selectors as account_selectors
from accounts.api import PublicAuthView
from pomodoro.converters import ObjectIdConverter
from pomodoro.idempotency import IDEMPOTENCY_HEADER, idempotent
from pomodoro.pagination import cursor_paginator
from pomodoro.parsers import CSVStreamParser
from pomodoro.schema import (
    ACTIVE_SESSION_EXISTS,
    INVALID_TRANSITION,
    NOT_FOUND,
    OVERLAP,
    PAGE_PARAMETERS,
    PAYLOAD_TOO_LARGE,
    VERSION_MISMATCH,
    invalid,
    paginated,
    problem,
)
from pomodoro.validation import validated
from sessions_app import bulk, calendar, export, imports, projects, selectors, services, tags
from sessions_app.serializers import (
    NextStepSerializer,
    ProjectSerializer,
    SessionBulkInput,
    SessionBulkResult,
    SessionCreateInput,
    SessionExportInput,
    SessionExportRowSerializer,
    SessionFilterInput,
    SessionImportInput,
    SessionImportResultSerializer,
    SessionLogInput,
    SessionSerializer,
    SessionStopInput,
    SessionUpdateInput,
    TagSerializer,
    TaskFilterInput,
    TaskSerializer,
    session_representation,
)

# --- Projects and tasks ------------------------------------------------------------


ID_PATTERN = ObjectIdConverter.regex
# The URL pattern is ID_PATTERN; without a queryset drf-spectacular would document the
# id as a string with that pattern, where clients (and the fuzzer) need a number.
ID_PARAMETER = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)
# A body naming something the caller cannot see is bad input; 404 is for the URL's object.
REFERENCE_INVALID = (
    "Validation failed (code `invalid`), also for a task, project or tag in the body that "
    "is not yours (`errors.<field>`)."
)


@extend_schema(tags=["projects"])
class ProjectViewSet(viewsets.ViewSet):
    # Ids are numbers: anything else is an unknown path (404), not a failed lookup (500).
    lookup_value_regex = ID_PATTERN

    @extend_schema(parameters=PAGE_PARAMETERS, responses={200: paginated(ProjectSerializer)})
    def list(self, request):
        paginator = cursor_paginator()
        page = paginator.paginate_queryset(
            selectors.project_list(user=request.user), request, view=self
        )
        return paginator.get_paginated_response(ProjectSerializer(page, many=True).data)

    @extend_schema(request=ProjectSerializer, responses={201: ProjectSerializer, 400: invalid()})
    def create(self, request):
        project = projects.project_create(
            user=request.user, **validated(ProjectSerializer, request.data)
        )
        return Response(ProjectSerializer(project).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[ID_PARAMETER],
        responses={200: ProjectSerializer, 404: problem("No such project.", NOT_FOUND)},
    )
    def retrieve(self, request, pk: int):
        return Response(
            ProjectSerializer(selectors.project_get(user=request.user, project_id=pk)).data
        )

    @extend_schema(
        parameters=[ID_PARAMETER],
        request=ProjectSerializer,
        responses={
            200: ProjectSerializer,
            400: invalid(),
            404: problem("No such project.", NOT_FOUND),
        },
    )
    def partial_update(self, request, pk: int):
        changes = validated(ProjectSerializer, request.data, partial=True)
        project = projects.project_update(user=request.user, project_id=pk, **changes)
        return Response(ProjectSerializer(project).data)

    @extend_schema(
        parameters=[ID_PARAMETER],
        responses={204: None, 404: problem("No such project.", NOT_FOUND)},
    )
    def destroy(self, request, pk: int):
        projects.project_delete(user=request.user, project_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


TAG_NOT_FOUND = problem("No such tag.", NOT_FOUND)


@extend_schema(tags=["tags"])
class TagViewSet(viewsets.ViewSet):
    lookup_value_regex = ID_PATTERN

    @extend_schema(parameters=PAGE_PARAMETERS, responses={200: paginated(TagSerializer)})
    def list(self, request):
        paginator = cursor_paginator()
        page = paginator.paginate_queryset(
            selectors.tag_list(user=request.user), request, view=self
        )
        return paginator.get_paginated_response(TagSerializer(page, many=True).data)

    @extend_schema(
        request=TagSerializer,
        responses={
            201: TagSerializer,
            400: invalid("Also a name you already use, ignoring case (`errors.name`)."),
        },
    )
    def create(self, request):
        tag = tags.tag_create(user=request.user, **validated(TagSerializer, request.data))
        return Response(TagSerializer(tag).data, status=status.HTTP_201_CREATED)

    @extend_schema(parameters=[ID_PARAMETER], responses={200: TagSerializer, 404: TAG_NOT_FOUND})
    def retrieve(self, request, pk: int):
        return Response(TagSerializer(selectors.tag_get(user=request.user, tag_id=pk)).data)

    @extend_schema(
        parameters=[ID_PARAMETER],
        request=TagSerializer,
        responses={
            200: TagSerializer,
            400: invalid("Also a name you already use, ignoring case (`errors.name`)."),
            404: TAG_NOT_FOUND,
        },
    )
    def partial_update(self, request, pk: int):
        changes = validated(TagSerializer, request.data, partial=True)
        tag = tags.tag_update(user=request.user, tag_id=pk, **changes)
        return Response(TagSerializer(tag).data)

    @extend_schema(
        parameters=[ID_PARAMETER],
        responses={204: None, 404: TAG_NOT_FOUND},
        summary="Delete a tag; it leaves every session that had it",
    )
    def destroy(self, request, pk: int):
        tags.tag_delete(user=request.user, tag_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["tasks"])
class TaskViewSet(viewsets.ViewSet):
    lookup_value_regex = ID_PATTERN

    def _task_data(self, request, tasks) -> list[dict]:
        tasks = selectors.task_list_with_focus(user=request.user, tasks=list(tasks))
        return TaskSerializer(tasks, many=True).data

    @extend_schema(
        parameters=[
            OpenApiParameter("archived", OpenApiTypes.BOOL),
            OpenApiParameter("project", OpenApiTypes.INT),
            *PAGE_PARAMETERS,
        ],
        responses={200: paginated(TaskSerializer)},
    )
    def list(self, request):
        filters = validated(TaskFilterInput, request.query_params)
        paginator = cursor_paginator()
        page = paginator.paginate_queryset(
            selectors.task_list(user=request.user, **filters), request, view=self
        )
        return paginator.get_paginated_response(self._task_data(request, page))

    @extend_schema(
        request=TaskSerializer,
        responses={201: TaskSerializer, 400: invalid(REFERENCE_INVALID)},
    )
    def create(self, request):
        task = projects.task_create(user=request.user, **validated(TaskSerializer, request.data))
        return Response(self._task_data(request, [task])[0], status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[ID_PARAMETER],
        responses={200: TaskSerializer, 404: problem("No such task.", NOT_FOUND)},
    )
    def retrieve(self, request, pk: int):
        task = selectors.task_get(user=request.user, task_id=pk)
        return Response(self._task_data(request, [task])[0])

    @extend_schema(
        parameters=[ID_PARAMETER],
        request=TaskSerializer,
        responses={
            200: TaskSerializer,
            400: invalid(REFERENCE_INVALID),
            404: problem("No such task.", NOT_FOUND),
        },
    )
    def partial_update(self, request, pk: int):
        changes = validated(TaskSerializer, request.data, partial=True)
        task = projects.task_update(user=request.user, task_id=pk, **changes)
        return Response(self._task_data(request, [task])[0])

    @extend_schema(
        parameters=[ID_PARAMETER], responses={204: None, 404: problem("No such task.", NOT_FOUND)}
    )
    def destroy(self, request, pk: int):
        projects.task_delete(user=request.user, task_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Sessions ----------------------------------------------------------------------

SESSION_NOT_FOUND = problem("No such session (`not_found`).", NOT_FOUND)
TRANSITION_CONFLICT = problem(
    "The state does not allow this action (`invalid_transition`, with the session).",
    INVALID_TRANSITION,
)
ACTIVE_SESSION_CONFLICT = problem(
    "Another session is active (`active_session_exists`, with it as `active_session`).",
    ACTIVE_SESSION_EXISTS,
)


def session_response(session, *, status_code: int = status.HTTP_200_OK) -> Response:
    body = session_representation(session, now=timezone.now())
    # The version shown, as of server_time (Session.as_of), not necessarily the row's.
    response = Response(body, status=status_code)
    response["ETag"] = f'"{body["version"]}"'
    return response


# Versions are bigints: a longer number is no version (and too long for int() to parse).
IF_MATCH = re.compile(r'^\s*(?:W/)?"?(\d{1,19})"?\s*$')


def expected_version(request) -> int | None:
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return None
    match = IF_MATCH.match(header)
    if match is None:
        raise ValidationError({"If-Match": ['Send the ETag you read, such as "3".']})
    return int(match.group(1))


class ExportNegotiation(BaseContentNegotiation):
    """The export picks its format from its own `format` parameter and answers a stream
    it renders itself; DRF's negotiation would take `format=csv` for a renderer and
    answer 404. Errors still need a renderer: JSON, as problem+json."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None


def _import_upload(request):
    """The CSV of an import: the multipart field `file`, or the text/csv body's stream."""
    upload = request.data.get("file") if hasattr(request.data, "get") else None
    if upload is None or isinstance(upload, str):
        raise ValidationError(
            {"file": ["Send a CSV file as the multipart field file, or as a text/csv body."]}
        )
    if isinstance(upload, UploadedFile):
        imports.file_too_large(upload.size)
    return upload


def _import_fingerprint(request) -> dict:
    """The fingerprint's body of an import with an Idempotency-Key; keeps the upload
    (rewound, or copied when it was the body's stream) for the view to read."""
    body, request.import_upload = imports.upload_fingerprint(
        _import_upload(request), query=request.query_params.dict()
    )
    return body


EXPORT_BOUND_HELP = (
    "A datetime with an offset, or a date (YYYY-MM-DD): the start of your day of that date "
    "(day_starts_at in your timezone)."
)


@extend_schema(tags=["sessions"])
class SessionViewSet(viewsets.ViewSet):
    lookup_value_regex = ID_PATTERN

    @extend_schema(
        parameters=[
            SessionFilterInput,
            OpenApiParameter("from", OpenApiTypes.DATETIME),
            OpenApiParameter("to", OpenApiTypes.DATETIME),
            *PAGE_PARAMETERS,
        ],
        responses={200: paginated(SessionSerializer), 400: invalid()},
        summary="History, newest first",
    )
    def list(self, request):
        filters = validated(SessionFilterInput, request.query_params)
        start, end = filters.pop("from", None), filters.pop("to", None)
        if "period" in filters:
            start, end = selectors.period_range(
                user=request.user, period=filters.pop("period"), day=filters.pop("date", None)
            )
        sessions = selectors.session_list(user=request.user, start=start, end=end, **filters)
        paginator = cursor_paginator(ordering=("-started_at", "-id"))
        page = paginator.paginate_queryset(sessions, request, view=self)
        return paginator.get_paginated_response(SessionSerializer(page, many=True).data)

    @extend_schema(
        request=SessionCreateInput,
        parameters=[IDEMPOTENCY_HEADER],
        responses={
            201: SessionSerializer,
            400: invalid(REFERENCE_INVALID),
            409: ACTIVE_SESSION_CONFLICT,
        },
        summary="Create a session (running unless start is false)",
    )
    @idempotent
    def create(self, request):
        session = services.session_create(
            user=request.user, **validated(SessionCreateInput, request.data)
        )
        return session_response(session, status_code=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[ID_PARAMETER], responses={200: SessionSerializer, 404: SESSION_NOT_FOUND}
    )
    def retrieve(self, request, pk: int):
        return session_response(selectors.session_get(user=request.user, session_id=pk))

    @extend_schema(
        request=SessionUpdateInput,
        parameters=[
            ID_PARAMETER,
            OpenApiParameter("If-Match", OpenApiTypes.STR, OpenApiParameter.HEADER),
        ],
        responses={
            200: SessionSerializer,
            400: invalid(REFERENCE_INVALID),
            404: SESSION_NOT_FOUND,
            409: problem(
                "Corrected times overlap another session (`overlap`, with its id as "
                "`overlapping_session`).",
                OVERLAP,
            ),
            412: problem(
                "The version differs from If-Match (`version_mismatch`, with the session).",
                VERSION_MISMATCH,
            ),
        },
    )
    def partial_update(self, request, pk: int):
        changes = validated(SessionUpdateInput, request.data)
        session = services.session_update(
            user=request.user,
            session_id=pk,
            expected_version=expected_version(request),
            **changes,
        )
        return session_response(session)

    @extend_schema(parameters=[ID_PARAMETER], responses={204: None, 404: SESSION_NOT_FOUND})
    def destroy(self, request, pk: int):
        services.session_delete(user=request.user, session_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        responses={
            200: SessionSerializer,
            204: OpenApiResponse(description="No session is active."),
        },
        summary="The active session, if any",
    )
    @action(detail=False, methods=["get"])
    def active(self, request):
        session = selectors.session_active(user=request.user)
        if session is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return session_response(session)

    def _transition(self, request, service, pk: int) -> Response:
        return session_response(service(user=request.user, session_id=pk))

    @extend_schema(
        request=None,
        parameters=[ID_PARAMETER, IDEMPOTENCY_HEADER],
        responses={200: SessionSerializer, 404: SESSION_NOT_FOUND, 409: TRANSITION_CONFLICT},
        summary="Paused to running",
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def start(self, request, pk: int):
        return self._transition(request, services.session_start, pk)

    @extend_schema(
        request=None,
        parameters=[ID_PARAMETER, IDEMPOTENCY_HEADER],
        responses={200: SessionSerializer, 404: SESSION_NOT_FOUND, 409: TRANSITION_CONFLICT},
        summary="Running to paused",
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def pause(self, request, pk: int):
        return self._transition(request, services.session_pause, pk)

    @extend_schema(
        request=SessionStopInput,
        parameters=[ID_PARAMETER, IDEMPOTENCY_HEADER],
        responses={200: SessionSerializer, 400: invalid(), 404: SESSION_NOT_FOUND},
        summary="End now, or at `at`: completed if the planned length was reached, "
        "else interrupted",
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def stop(self, request, pk: int):
        # No body is the common case: no serializer is built for it (the hot path).
        at = validated(SessionStopInput, request.data).get("at") if request.data else None
        return session_response(services.session_stop(user=request.user, session_id=pk, at=at))

    @extend_schema(
        request=None,
        parameters=[ID_PARAMETER, IDEMPOTENCY_HEADER],
        responses={
            201: SessionSerializer,
            404: SESSION_NOT_FOUND,
            # active_session_exists: another session began as this one ended (a race).
            409: problem(
                "The session has ended already (`invalid_transition`), or another session "
                "became active meanwhile (`active_session_exists`).",
                INVALID_TRANSITION,
                ACTIVE_SESSION_EXISTS,
            ),
        },
        summary="End as interrupted and answer a fresh paused session like it",
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def reset(self, request, pk: int):
        _, fresh = services.session_reset(user=request.user, session_id=pk)
        return session_response(fresh, status_code=status.HTTP_201_CREATED)

    @extend_schema(
        request=SessionLogInput,
        parameters=[IDEMPOTENCY_HEADER],
        responses={
            201: SessionSerializer,
            400: invalid(REFERENCE_INVALID),
            409: problem(
                "Overlaps another session (`overlap`, with its id as `overlapping_session`).",
                OVERLAP,
            ),
        },
        summary="Record past time as a finished manual session",
    )
    @action(detail=False, methods=["post"])
    @idempotent
    def log(self, request):
        session = services.session_log(
            user=request.user, **validated(SessionLogInput, request.data)
        )
        return session_response(session, status_code=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[SessionImportInput, IDEMPOTENCY_HEADER],
        request={
            "multipart/form-data": {
                "type": "object",
                "properties": {
                    "file": {
                        "type": "string",
                        "format": "binary",
                        "maxLength": settings.IMPORT_MAX_BYTES,
                    }
                },
                "required": ["file"],
            },
            "text/csv": {"type": "string", "maxLength": settings.IMPORT_MAX_BYTES},
        },
        responses={
            200: SessionImportResultSerializer,
            400: invalid(
                "No file, a file that is not UTF-8 CSV, or an unknown header (code "
                "`invalid`, with `errors.file`)."
            ),
            413: problem(
                "The file is over 5 MiB or has over 10,000 rows (`payload_too_large`).",
                PAYLOAD_TOO_LARGE,
            ),
        },
        summary="Import history from this API's CSV export or Toggl Track's detailed report",
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        parser_classes=[MultiPartParser, CSVStreamParser],
    )
    @idempotent(body_of=lambda request: _import_fingerprint(request))
    def import_csv(self, request):
        params = validated(SessionImportInput, request.query_params)
        upload = getattr(request, "import_upload", None) or _import_upload(request)
        result = imports.sessions_import(
            user=request.user, stream=upload, dry_run=params["dry_run"]
        )
        return Response(SessionImportResultSerializer(result).data)

    @extend_schema(
        request=SessionBulkInput,
        parameters=[IDEMPOTENCY_HEADER],
        responses={
            200: SessionBulkResult,
            400: invalid(REFERENCE_INVALID),
            404: problem(
                "A session named is not yours or is deleted (`not_found`); nothing changed.",
                NOT_FOUND,
            ),
        },
        summary="Change or delete up to 500 sessions at once, all or nothing",
    )
    @action(detail=False, methods=["post"], url_path="bulk")
    @idempotent
    def bulk(self, request):
        body = validated(SessionBulkInput, request.data)
        if body["action"] == "delete":
            count = bulk.sessions_bulk_delete(user=request.user, ids=body["ids"])
        else:
            count = bulk.sessions_bulk_update(
                user=request.user, ids=body["ids"], changes=body["changes"]
            )
        return Response({"count": count})

    @extend_schema(responses={200: NextStepSerializer}, summary="The next step of the cycle")
    @action(detail=False, methods=["get"], url_path="next")
    def next_step(self, request):
        step = selectors.cycle_next(user=request.user)
        return Response(NextStepSerializer(step).data)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "from",
                OpenApiTypes.STR,
                description=f"Sessions that started at or after this. {EXPORT_BOUND_HELP} "
                "Default: the whole history.",
            ),
            OpenApiParameter(
                "to",
                OpenApiTypes.STR,
                description=f"Sessions that started before this (exclusive). {EXPORT_BOUND_HELP} "
                "Default: no end.",
            ),
            OpenApiParameter(
                "format",
                OpenApiTypes.STR,
                enum=SessionExportInput.FORMATS,
                description="csv (the default) or json.",
            ),
        ],
        responses={
            (200, "text/csv"): OpenApiResponse(
                response=OpenApiTypes.STR,
                description=(
                    "CSV: a header row, then one row a session; JSON: an array of objects "
                    "with the same keys. Oldest first, streamed, as an attachment. Text that "
                    "a spreadsheet would run as a formula gets a leading apostrophe in CSV."
                ),
            ),
            (200, "application/json"): OpenApiResponse(
                response=SessionExportRowSerializer(many=True),
                description="One object a session, oldest first.",
            ),
            400: invalid(),
        },
        summary="Export the history as CSV or JSON, streamed, oldest first",
    )
    @action(
        detail=False,
        methods=["get"],
        url_path="export",
        renderer_classes=[JSONRenderer],
        content_negotiation_class=ExportNegotiation,
    )
    def export_history(self, request):
        user = request.user
        params = validated(SessionExportInput, request.query_params, context={"user": user})
        start, end, file_format = params.get("from"), params.get("to"), params["format"]
        now = timezone.now()
        rows = selectors.session_export(user=user, start=start, end=end)
        return export.export_response(
            rows.iterator(chunk_size=export.READ_CHUNK_ROWS),
            file_format=file_format,
            zone=user.zone,
            now=now,
            filename=export.export_filename(
                user=user, start=start, end=end, now=now, file_format=file_format
            ),
            # Under ASGI a synchronous stream would be read whole before the first byte.
            asynchronous=isinstance(request._request, ASGIRequest),
            tag_names=selectors.tag_names(user=user),
        )


class CalendarFeedView(PublicAuthView):
    """The feed itself: the secret in the URL is its only credential (calendar apps
    subscribe to a URL and send no header)."""

    @extend_schema(
        responses={
            (200, "text/calendar"): OpenApiResponse(
                response=OpenApiTypes.STR,
                description="RFC 5545: one VEVENT per session ended in the last 90 days.",
            ),
            404: problem("No such calendar feed.", NOT_FOUND),
        },
        tags=["integrations"],
        summary="Your sessions as an iCalendar feed",
    )
    def get(self, request, token: str):
        user = account_selectors.calendar_feed_owner(secret=token)
        body = calendar.session_calendar(user=user, now=timezone.now())
        response = HttpResponse(body, content_type=calendar.CONTENT_TYPE)
        response["Cache-Control"] = "private, max-age=300"
        return response
