"""HTTP endpoints of analytics: validate, call, serialize."""

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics import selectors
from analytics.serializers import (
    HeatmapInput,
    HeatmapSerializer,
    LeaderboardInput,
    LeaderboardSerializer,
    StreakSerializer,
    SummaryInput,
    SummarySerializer,
    summary_data,
)
from pomodoro.schema import invalid
from pomodoro.validation import validated


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
