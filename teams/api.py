"""HTTP endpoints of teams: validate, call, serialize. Every view under teams/{team_id}/
is guarded by teams.permissions.TeamAccess (404 for non-members, 403 by role)."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics.serializers import LeaderboardSerializer
from pomodoro.pagination import paginated_response
from pomodoro.schema import (
    LAST_OWNER,
    LIMIT_REACHED,
    NOT_FOUND,
    PAGE_PARAMETERS,
    PERMISSION_DENIED,
    invalid,
    paginated,
    problem,
)
from pomodoro.throttling import JoinIpThrottle, JoinUserThrottle, WriteUserThrottle
from pomodoro.validation import validated
from teams import selectors, services
from teams.permissions import TeamAccess
from teams.serializers import (
    InviteInput,
    InviteSerializer,
    JoinInput,
    MembershipSerializer,
    RoleInput,
    TeamInput,
    TeamLeaderboardInput,
    TeamSerializer,
    TeamStatusSerializer,
)

TEAM_NOT_FOUND = problem(
    "Not a member of this team, or no such team (code `not_found`).", NOT_FOUND
)
FORBIDDEN = problem(
    "Your role in the team does not allow this (code `permission_denied`).", PERMISSION_DENIED
)
LAST_OWNER_LEAVES = problem(
    "The team's last owner cannot step down or leave (`invalid_transition`).", LAST_OWNER
)
LIMIT = problem(
    "Too many members in the team, or teams for you (code `limit_reached`).", LIMIT_REACHED
)


class TeamView(APIView):
    permission_classes = [IsAuthenticated, TeamAccess]
    team_actions: dict[str, str] = {}


class TeamListView(TeamView):
    @extend_schema(
        operation_id="teams_list",
        parameters=PAGE_PARAMETERS,
        responses={200: paginated(TeamSerializer)},
        tags=["teams"],
        summary="Your teams",
    )
    def get(self, request):
        teams = selectors.team_list(user=request.user)
        return paginated_response(self, request, teams, TeamSerializer)

    @extend_schema(
        request=TeamInput,
        responses={201: TeamSerializer, 400: invalid(), 409: LIMIT},
        tags=["teams"],
        summary="Create a team; you are its owner",
    )
    def post(self, request):
        name = validated(TeamInput, request.data)["name"]
        membership = services.team_create(user=request.user, name=name)
        return Response(TeamSerializer(membership).data, status=status.HTTP_201_CREATED)


class TeamDetailView(TeamView):
    team_actions = {"GET": "team.read", "PATCH": "team.rename", "DELETE": "team.delete"}

    @extend_schema(
        responses={200: TeamSerializer, 404: TEAM_NOT_FOUND}, tags=["teams"], summary="A team"
    )
    def get(self, request, team_id):
        return Response(TeamSerializer(request.team_membership).data)

    @extend_schema(
        request=TeamInput,
        responses={200: TeamSerializer, 400: invalid(), 403: FORBIDDEN, 404: TEAM_NOT_FOUND},
        tags=["teams"],
        summary="Rename a team (owners and admins)",
    )
    def patch(self, request, team_id):
        name = validated(TeamInput, request.data)["name"]
        membership = services.team_rename(user=request.user, team_id=team_id, name=name)
        return Response(TeamSerializer(membership).data)

    @extend_schema(
        responses={204: None, 403: FORBIDDEN, 404: TEAM_NOT_FOUND},
        tags=["teams"],
        summary="Delete a team (owners); members' sessions stay",
    )
    def delete(self, request, team_id):
        services.team_delete(user=request.user, team_id=team_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MemberListView(TeamView):
    team_actions = {"GET": "members.read"}

    @extend_schema(
        operation_id="teams_members_list",
        parameters=PAGE_PARAMETERS,
        responses={200: paginated(MembershipSerializer), 404: TEAM_NOT_FOUND},
        tags=["teams"],
        summary="The team's members, in the order they joined",
    )
    def get(self, request, team_id):
        members = selectors.member_list(team_id=team_id)
        return paginated_response(self, request, members, MembershipSerializer)


class MemberDetailView(TeamView):
    team_actions = {"PATCH": "member.change_role", "DELETE": "member.remove"}

    @extend_schema(
        request=RoleInput,
        responses={
            200: MembershipSerializer,
            400: invalid(),
            403: FORBIDDEN,
            404: TEAM_NOT_FOUND,
            409: LAST_OWNER_LEAVES,
        },
        tags=["teams"],
        summary="Change a member's role (owners)",
    )
    def patch(self, request, team_id, user_id):
        role = validated(RoleInput, request.data)["role"]
        membership = services.membership_update_role(
            user=request.user, team_id=team_id, user_id=user_id, role=role
        )
        return Response(MembershipSerializer(membership).data)

    @extend_schema(
        responses={204: None, 403: FORBIDDEN, 404: TEAM_NOT_FOUND, 409: LAST_OWNER_LEAVES},
        tags=["teams"],
        summary="Remove a member (owners, admins), or leave (your own user id)",
    )
    def delete(self, request, team_id, user_id):
        services.membership_remove(user=request.user, team_id=team_id, user_id=user_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class InviteListView(TeamView):
    team_actions = {"GET": "invites.read", "POST": "invite.create"}

    @extend_schema(
        operation_id="teams_invites_list",
        parameters=PAGE_PARAMETERS,
        responses={200: paginated(InviteSerializer), 403: FORBIDDEN, 404: TEAM_NOT_FOUND},
        tags=["teams"],
        summary="The team's invites not revoked nor expired (owners and admins)",
    )
    def get(self, request, team_id):
        invites = selectors.invite_list(team_id=team_id)
        return paginated_response(self, request, invites, InviteSerializer)

    @extend_schema(
        request=InviteInput,
        responses={201: InviteSerializer, 400: invalid(), 403: FORBIDDEN, 404: TEAM_NOT_FOUND},
        tags=["teams"],
        summary="Create an invite code, valid 7 days (owners and admins)",
    )
    def post(self, request, team_id):
        max_uses = validated(InviteInput, request.data).get("max_uses")
        invite = services.invite_create(user=request.user, team_id=team_id, max_uses=max_uses)
        return Response(InviteSerializer(invite).data, status=status.HTTP_201_CREATED)


class InviteDetailView(TeamView):
    team_actions = {"DELETE": "invite.revoke"}

    @extend_schema(
        responses={204: None, 403: FORBIDDEN, 404: TEAM_NOT_FOUND},
        tags=["teams"],
        summary="Revoke an invite (owners and admins)",
    )
    def delete(self, request, team_id, code):
        services.invite_revoke(user=request.user, team_id=team_id, code=code)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TeamJoinView(TeamView):
    # Guessing invite codes: every attempt counts, per user and per address.
    throttle_classes = [WriteUserThrottle, JoinUserThrottle, JoinIpThrottle]

    @extend_schema(
        request=JoinInput,
        responses={
            201: MembershipSerializer,
            200: MembershipSerializer,
            400: invalid("Unknown, expired, revoked or used-up code (`invalid`)."),
            409: LIMIT,
        },
        tags=["teams"],
        summary="Join a team with an invite code (200 when already a member)",
    )
    def post(self, request):
        code = validated(JoinInput, request.data)["code"]
        membership, created = services.team_join(user=request.user, code=code)
        return Response(
            MembershipSerializer(membership).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class TeamStatusView(TeamView):
    team_actions = {"GET": "status.read"}

    @extend_schema(
        responses={200: TeamStatusSerializer, 404: TEAM_NOT_FOUND},
        tags=["teams"],
        summary="Every member's state, remaining time and focus today (their own day)",
    )
    def get(self, request, team_id):
        members = selectors.team_status(team_id=team_id)
        return Response(TeamStatusSerializer({"members": members}).data)


class TeamLeaderboardView(TeamView):
    team_actions = {"GET": "leaderboard.read"}

    @extend_schema(
        parameters=[TeamLeaderboardInput],
        responses={200: LeaderboardSerializer, 400: invalid(), 404: TEAM_NOT_FOUND},
        tags=["teams"],
        summary="The team's members by focus time today, this week or all time",
    )
    def get(self, request, team_id):
        period = validated(TeamLeaderboardInput, request.query_params)["period"]
        rows = selectors.team_leaderboard(team_id=team_id, period=period)
        return Response(LeaderboardSerializer({"results": rows}).data)
