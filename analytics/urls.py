from django.urls import path

from analytics import api

urlpatterns = [
    path("analytics/summary/", api.SummaryView.as_view(), name="analytics-summary"),
    path("analytics/heatmap/", api.HeatmapView.as_view(), name="analytics-heatmap"),
    path("analytics/report/", api.ReportView.as_view(), name="analytics-report"),
    path("analytics/streak/", api.StreakView.as_view(), name="analytics-streak"),
    path("leaderboard/", api.LeaderboardView.as_view(), name="leaderboard"),
]
