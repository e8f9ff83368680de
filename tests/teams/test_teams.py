"""Teams, invites and memberships: invites' expiry, revocation and use limits, joining
twice, guessing limits, the last-owner rules, size limits and membership events."""

import datetime

import pytest
from django.test import override_settings
from django.utils import timezone

from sessions_app.models import Session
from teams import services
from teams.models import Invite, Membership, Team
from tests.conftest import assert_problem, client_for
from tests.factories import FinishedSessionFactory, UserFactory
from tests.sessions_app.timer_helpers import iso
from tests.teams.helpers import API, build_world, team_events, team_snapshot, team_with

pytestmark = pytest.mark.django_db


def join(user, code: str):
    return client_for(user).post(API + "teams/join/", {"code": code}, format="json")


def membership_json(team_id: int, user, role: str) -> dict:
    joined_at = Membership.objects.get(team_id=team_id, user=user).joined_at
    return {
        "team": team_id,
        "user": {"id": user.pk, "display_name": user.display_name},
        "role": role,
        "joined_at": iso(joined_at),
    }


# --- Invites ---------------------------------------------------------------------------


def test_an_invite_is_a_long_random_code_valid_for_seven_days(user, client):
    team = team_with(user)
    before = timezone.now()

    response = client.post(API + f"teams/{team.pk}/invites/", {"max_uses": 3}, format="json")

    assert response.status_code == 201
    body = response.json()
    invite = Invite.objects.get(team=team)
    assert body == {
        "code": invite.code,
        "expires_at": iso(invite.expires_at),
        "max_uses": 3,
        "uses": 0,
        "created_at": iso(invite.created_at),
    }
    assert len(invite.code) == 32
    week = datetime.timedelta(days=7)
    assert before + week <= invite.expires_at <= timezone.now() + week


def test_joining_answers_the_membership_as_member_and_counts_a_use(user):
    team = team_with(user)
    invite = services.invite_create(user=user, team_id=team.pk)
    newcomer = UserFactory()

    response = join(newcomer, invite.code)

    assert response.status_code == 201
    assert response.json() == membership_json(team.pk, newcomer, "member")
    invite.refresh_from_db()
    assert invite.uses == 1


def test_joining_twice_is_harmless_and_answers_the_existing_membership(user):
    team = team_with(user)
    invite = services.invite_create(user=user, team_id=team.pk)
    newcomer = UserFactory()
    join(newcomer, invite.code)
    before = team_snapshot(team.pk)

    response = join(newcomer, invite.code)

    assert response.status_code == 200
    assert response.json() == membership_json(team.pk, newcomer, "member")
    assert team_snapshot(team.pk) == before


@pytest.mark.parametrize("case", ["unknown", "expired", "revoked", "used up"])
def test_a_code_that_cannot_be_used_is_400_and_changes_nothing(user, case):
    team = team_with(user)
    invite = services.invite_create(user=user, team_id=team.pk, max_uses=1)
    code = invite.code
    if case == "unknown":
        code = "x" * 32
    elif case == "expired":
        Invite.objects.filter(pk=invite.pk).update(expires_at=timezone.now())
    elif case == "revoked":
        services.invite_revoke(user=user, team_id=team.pk, code=code)
    else:
        services.team_join(user=UserFactory(), code=code)
    before = team_snapshot(team.pk)

    body = assert_problem(join(UserFactory(), code), 400, "invalid")

    assert body["errors"] == {"code": ["This invite code is unknown, expired, revoked or used up."]}
    assert team_snapshot(team.pk) == before


def test_a_use_limit_admits_exactly_that_many(user):
    team = team_with(user)
    invite = services.invite_create(user=user, team_id=team.pk, max_uses=2)
    first, second, third = UserFactory.create_batch(3)

    statuses = [join(newcomer, invite.code).status_code for newcomer in (first, second, third)]

    assert statuses == [201, 201, 400]
    invite.refresh_from_db()
    assert invite.uses == 2


def test_revoking_removes_the_invite_from_the_list(user, client):
    team = team_with(user)
    kept = services.invite_create(user=user, team_id=team.pk)
    revoked = services.invite_create(user=user, team_id=team.pk)

    assert client.delete(API + f"teams/{team.pk}/invites/{revoked.code}/").status_code == 204
    assert client.delete(API + f"teams/{team.pk}/invites/{revoked.code}/").status_code == 204
    listed = client.get(API + f"teams/{team.pk}/invites/").json()["results"]

    assert [invite["code"] for invite in listed] == [kept.code]


def test_revoking_an_invite_of_another_team_is_404(user, client):
    team = team_with(user)
    other_team = team_with(UserFactory())
    foreign = services.invite_create(user=other_team.memberships.get().user, team_id=other_team.pk)

    response = client.delete(API + f"teams/{team.pk}/invites/{foreign.code}/")

    assert_problem(response, 404, "not_found")
    foreign.refresh_from_db()
    assert foreign.revoked_at is None


def test_guessing_codes_is_throttled_per_user(user, rate_limits):
    team_with(user)
    guesser = UserFactory()
    for attempt in range(10):
        assert join(guesser, f"guess-{attempt}").status_code == 400

    response = join(guesser, "guess-10")

    assert_problem(response, 429, "throttled")
    assert 1 <= int(response["Retry-After"]) <= 60
    assert join(UserFactory(), "guess-11").status_code == 400  # others are not held back


# --- Owners, roles and leaving -----------------------------------------------------------


def test_the_last_owner_cannot_step_down(user, client):
    team = team_with(user, UserFactory())
    before = team_snapshot(team.pk)

    response = client.patch(
        API + f"teams/{team.pk}/members/{user.pk}/", {"role": "admin"}, format="json"
    )

    assert_problem(response, 409, "invalid_transition")
    assert team_snapshot(team.pk) == before


def test_the_last_owner_cannot_leave_even_alone(user, client):
    team = team_with(user)
    before = team_snapshot(team.pk)

    assert_problem(
        client.delete(API + f"teams/{team.pk}/members/{user.pk}/"), 409, "invalid_transition"
    )
    assert team_snapshot(team.pk) == before


def test_an_owner_hands_over_then_leaves(user, client):
    successor = UserFactory()
    team = team_with(user, successor)
    members = API + f"teams/{team.pk}/members/"

    promoted = client.patch(members + f"{successor.pk}/", {"role": "owner"}, format="json")
    left = client.delete(members + f"{user.pk}/")

    assert promoted.json() == membership_json(team.pk, successor, "owner")
    assert left.status_code == 204
    assert list(team.memberships.values_list("user_id", "role")) == [(successor.pk, "owner")]


def test_members_list_in_join_order(user, client):
    other = UserFactory()
    team = team_with(user, other)

    response = client.get(API + f"teams/{team.pk}/members/")

    assert response.json() == {
        "results": [
            membership_json(team.pk, user, "owner"),
            membership_json(team.pk, other, "member"),
        ],
        "next": None,
        "previous": None,
    }


def test_an_unknown_role_is_400(user, client):
    other = UserFactory()
    team = team_with(user, other)

    response = client.patch(
        API + f"teams/{team.pk}/members/{other.pk}/", {"role": "king"}, format="json"
    )

    body = assert_problem(response, 400, "invalid")
    assert body["errors"] == {"role": ['"king" is not a valid choice.']}


def test_deleting_a_team_keeps_the_members_sessions(user, client):
    other = UserFactory()
    team = team_with(user, other)
    session = FinishedSessionFactory(user=other)

    assert client.delete(API + f"teams/{team.pk}/").status_code == 204

    assert not Team.objects.filter(pk=team.pk).exists()
    assert not Membership.objects.filter(team_id=team.pk).exists()
    assert Session.objects.filter(pk=session.pk, deleted_at__isnull=True).exists()


def test_renaming_answers_the_team(user, client):
    team = team_with(user)

    response = client.patch(API + f"teams/{team.pk}/", {"name": "Night owls"}, format="json")

    assert response.json() == {"id": team.pk, "name": "Night owls", "role": "owner"}


# --- Limits ---------------------------------------------------------------------------------


@override_settings(TEAM_MAX_MEMBERS=2)
def test_a_full_team_refuses_another_member(user):
    team = team_with(user, UserFactory())
    invite = services.invite_create(user=user, team_id=team.pk)
    before = team_snapshot(team.pk)

    response = join(UserFactory(), invite.code)

    body = assert_problem(response, 409, "limit_reached")
    assert body["detail"] == "This team has 2 members, the most allowed."
    assert team_snapshot(team.pk) == before


@override_settings(TEAMS_PER_USER=2)
def test_a_user_in_too_many_teams_cannot_create_or_join_another(user, client):
    team_with(user)
    team_with(user)
    other_team = team_with(UserFactory())
    invite = services.invite_create(user=other_team.memberships.get().user, team_id=other_team.pk)

    created = client.post(API + "teams/", {"name": "Third"}, format="json")
    joined = join(user, invite.code)

    for response in (created, joined):
        body = assert_problem(response, 409, "limit_reached")
        assert body["detail"] == "You are in 2 teams, the most allowed. Leave one first."
    assert Membership.objects.filter(user=user).count() == 2


# --- Events ----------------------------------------------------------------------------------


def team_ref(team) -> dict:
    return {"id": team.pk, "name": team.name}


def test_membership_changes_are_events_of_the_users_concerned(django_capture_on_commit_callbacks):
    world = build_world()
    team = world.team

    with django_capture_on_commit_callbacks(execute=True):
        services.membership_update_role(
            user=world.owner, team_id=team.pk, user_id=world.member.pk, role="admin"
        )
        services.membership_remove(user=world.owner, team_id=team.pk, user_id=world.target.pk)
        services.membership_remove(user=world.admin, team_id=team.pk, user_id=world.admin.pk)

    member_row = membership_json(team.pk, world.member, "admin")
    assert team_events(world.member)[-1] == (
        "team.role_changed",
        {"team": team_ref(team), "membership": member_row, "previous_role": "member"},
    )
    target_events = team_events(world.target)
    assert target_events[0][0] == "team.joined"
    assert target_events[0][1]["membership"]["role"] == "member"
    assert target_events[-1][0] == "team.left"
    assert target_events[-1][1]["removed_by"] == world.owner.pk
    assert target_events[-1][1]["team"] == team_ref(team)
    assert team_events(world.admin)[-1][0] == "team.left"
    assert team_events(world.admin)[-1][1]["removed_by"] is None
    assert team_events(world.admin)[-1][1]["membership"]["role"] == "admin"
    assert team_events(world.outsider) == []


def test_creating_and_joining_are_team_joined_events(user):
    membership = services.team_create(user=user, name="Crew")

    assert team_events(user) == [
        (
            "team.joined",
            {
                "team": {"id": membership.team.pk, "name": "Crew"},
                "membership": membership_json(membership.team.pk, user, "owner"),
            },
        )
    ]


def test_deleting_a_team_is_an_event_for_every_member():
    world = build_world()
    team = team_ref(world.team)

    services.team_delete(user=world.owner, team_id=world.team.pk)

    for member in (world.owner, world.admin, world.member, world.target):
        assert team_events(member)[-1] == ("team.deleted", {"team": team})
    assert team_events(world.outsider) == []
