from django.urls import path

from pomodoro import converters  # noqa: F401 (registers <id:...>)
from teams import api

urlpatterns = [
    path("teams/", api.TeamListView.as_view(), name="team-list"),
    path("teams/join/", api.TeamJoinView.as_view(), name="team-join"),
    path("teams/<id:team_id>/", api.TeamDetailView.as_view(), name="team-detail"),
    path("teams/<id:team_id>/members/", api.MemberListView.as_view(), name="team-member-list"),
    path(
        "teams/<id:team_id>/members/<id:user_id>/",
        api.MemberDetailView.as_view(),
        name="team-member-detail",
    ),
    path("teams/<id:team_id>/invites/", api.InviteListView.as_view(), name="team-invite-list"),
    path(
        "teams/<id:team_id>/invites/<str:code>/",
        api.InviteDetailView.as_view(),
        name="team-invite-detail",
    ),
    path("teams/<id:team_id>/status/", api.TeamStatusView.as_view(), name="team-status"),
    path(
        "teams/<id:team_id>/leaderboard/",
        api.TeamLeaderboardView.as_view(),
        name="team-leaderboard",
    ),
]
