"""HTTP endpoints of analytics: validate, call, serialize."""

from django.http import StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics import reports, selectors
from analytics.serializers import (
    HeatmapInput,
    HeatmapSerializer,
    LeaderboardInput,
    LeaderboardSerializer,
    ReportInput,
    ReportSerializer,
    StreakSerializer,
    SummaryInput,
    SummarySerializer,
    report_data,
    summary_data,
)
from pomodoro.schema import invalid
from pomodoro.validation import validated
from sessions_app.api import ExportNegotiation


class SummaryView(APIView):
    @extend_schema(
        parameters=[SummaryInput],
        responses={200: SummarySerializer, 400: invalid()},
        tags=["analytics"],
        summary="Focus and break time of a day, week or month, by task and by day",
    )
    def get(self, request):
        params = validated(SummaryInput, request.query_params)
        summary = selectors.focus_summary(
            user=request.user, period=params["period"], day=params.get("date")
        )
        return Response(summary_data(summary))


class HeatmapView(APIView):
    @extend_schema(
        parameters=[HeatmapInput],
        responses={200: HeatmapSerializer, 400: invalid()},
        tags=["analytics"],
        summary="Focus time by local weekday and hour over a range of days",
    )
    def get(self, request):
        params = validated(HeatmapInput, request.query_params)
        cells = selectors.focus_heatmap(user=request.user, first=params["from"], last=params["to"])
        return Response(HeatmapSerializer({"cells": cells}).data)


class ReportView(APIView):
    renderer_classes = [JSONRenderer]
    # `format=csv` is the report's own parameter, not a choice of renderer.
    content_negotiation_class = ExportNegotiation

    @extend_schema(
        parameters=[ReportInput],
        responses={
            (200, "application/json"): ReportSerializer,
            (200, "text/csv"): OpenApiResponse(
                response=OpenApiTypes.STR,
                description=(
                    "With format=csv: a header row (`<key>_key`, `<key>_label` for each "
                    "key, then `seconds`, `sessions`), then one row per group of the last "
                    "key; a null key is an empty cell."
                ),
            ),
            400: invalid(
                "Validation failed (code `invalid`): an unknown key, `to` before `from` "
                "or more than 366 days after it."
            ),
        },
        tags=["analytics"],
        summary="Time by project, task, tag, day, week or month over a range of days",
    )
    def get(self, request):
        params = validated(ReportInput, request.query_params)
        group_by = params["group_by"]
        report = reports.time_report(
            user=request.user,
            first=params["from"],
            last=params["to"],
            group_by=group_by,
            project=params.get("project"),
            task=params.get("task"),
            tag=params.get("tag"),
            kind=params.get("kind"),
        )
        if params["format"] == "csv":
            response = StreamingHttpResponse(
                reports.report_csv(report, group_by), content_type="text/csv; charset=utf-8"
            )
            response["Content-Disposition"] = (
                f'attachment; filename="{reports.report_filename(report)}"'
            )
            return response
        return Response(report_data(report))


class StreakView(APIView):
    @extend_schema(
        responses={200: StreakSerializer},
        tags=["analytics"],
        summary="Current and longest streak of days with a completed focus session, and badges",
    )
    def get(self, request):
        now = timezone.now()
        records = selectors.focus_records(user=request.user, now=now)
        streak = selectors.streak_summary(user=request.user, records=records, now=now)
        return Response(StreakSerializer(streak).data)


class LeaderboardView(APIView):
    @extend_schema(
        parameters=[LeaderboardInput],
        responses={200: LeaderboardSerializer, 400: invalid()},
        tags=["analytics"],
        summary="Top 100 users by focus time today, this week or all time (each in their own days)",
    )
    def get(self, request):
        period = validated(LeaderboardInput, request.query_params)["period"]
        return Response({"results": selectors.leaderboard_cached(period=period)})
