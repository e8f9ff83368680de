"""The role table of docs/design.md (Teams), every endpoint against every role: the
answer's status, and for a refusal its problem code and that nothing changed."""

import pytest

from teams import services
from teams.models import Membership
from tests.conftest import assert_problem, client_for
from tests.teams.helpers import API, build_world, team_snapshot

ROLES = ("owner", "admin", "member", "non-member")

# (name, method, path template, body): {target} a plain member, {owner} the owner, {me}
# the caller, {code} a live invite.
ENDPOINTS = {
    "read team": ("get", "teams/{team}/", None),
    "rename team": ("patch", "teams/{team}/", {"name": "Renamed"}),
    "delete team": ("delete", "teams/{team}/", None),
    "list members": ("get", "teams/{team}/members/", None),
    "change a role": ("patch", "teams/{team}/members/{target}/", {"role": "admin"}),
    "remove a member": ("delete", "teams/{team}/members/{target}/", None),
    "remove the owner": ("delete", "teams/{team}/members/{owner}/", None),
    "leave": ("delete", "teams/{team}/members/{me}/", None),
    "create invite": ("post", "teams/{team}/invites/", {}),
    "list invites": ("get", "teams/{team}/invites/", None),
    "revoke invite": ("delete", "teams/{team}/invites/{code}/", None),
    "status": ("get", "teams/{team}/status/", None),
    "leaderboard": ("get", "teams/{team}/leaderboard/", None),
    "join with a code": ("post", "teams/join/", {"code": "{code}"}),
}

# Expected status by role: owner, admin, member, non-member (the table of docs/design.md).
TABLE = {
    "read team": (200, 200, 200, 404),
    "rename team": (200, 200, 403, 404),
    "delete team": (204, 403, 403, 404),
    "list members": (200, 200, 200, 404),
    "change a role": (200, 403, 403, 404),
    "remove a member": (204, 204, 403, 404),
    "remove the owner": (409, 403, 403, 404),
    "leave": (409, 204, 204, 404),
    "create invite": (201, 201, 403, 404),
    "list invites": (200, 200, 403, 404),
    "revoke invite": (204, 204, 403, 404),
    "status": (200, 200, 200, 404),
    "leaderboard": (200, 200, 200, 404),
    "join with a code": (200, 200, 200, 201),
}
CODES = {403: "permission_denied", 404: "not_found", 409: "invalid_transition"}

CASES = [
    pytest.param(endpoint, role, TABLE[endpoint][index], id=f"{endpoint}-{role}")
    for endpoint in ENDPOINTS
    for index, role in enumerate(ROLES)
]


def test_the_table_covers_every_endpoint():
    assert set(TABLE) == set(ENDPOINTS)


@pytest.mark.django_db
@pytest.mark.parametrize(("endpoint", "role", "expected"), CASES)
def test_role_table(endpoint, role, expected):
    world = build_world()
    caller = world.by_role(role)
    code = services.invite_create(user=world.owner, team_id=world.team.pk).code
    method, template, body = ENDPOINTS[endpoint]
    values = {
        "team": world.team.pk,
        "target": world.target.pk,
        "owner": world.owner.pk,
        "me": caller.pk,
        "code": code,
    }
    path = API + template.format(**values)
    if body is not None:
        body = {
            key: value.format(**values) if isinstance(value, str) else value
            for key, value in body.items()
        }
    before = team_snapshot(world.team.pk)

    response = getattr(client_for(caller), method)(path, body, format="json")

    assert response.status_code == expected, response.content
    if expected >= 400:
        assert_problem(response, expected, CODES[expected])
        assert team_snapshot(world.team.pk) == before


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_everyone_lists_only_their_own_teams(role):
    world = build_world()
    caller = world.by_role(role)
    mine = services.team_create(user=caller, name="Mine").team

    response = client_for(caller).get(API + "teams/")

    assert response.status_code == 200
    expected = [{"id": mine.pk, "name": "Mine", "role": "owner"}]
    if role != "non-member":
        expected.insert(0, {"id": world.team.pk, "name": "Squad", "role": role})
    assert response.json() == {"results": expected, "next": None, "previous": None}


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_everyone_creates_a_team_and_owns_it(role):
    world = build_world()
    caller = world.by_role(role)

    response = client_for(caller).post(API + "teams/", {"name": "New"}, format="json")

    assert response.status_code == 201
    team_id = response.json()["id"]
    assert response.json() == {"id": team_id, "name": "New", "role": "owner"}
    assert list(Membership.objects.filter(team_id=team_id).values_list("user_id", "role")) == [
        (caller.pk, "owner")
    ]


@pytest.mark.django_db
def test_an_unknown_team_is_404_like_a_foreign_one(client):
    assert_problem(client.get(API + "teams/999999/"), 404, "not_found")
    assert_problem(client.get(API + "teams/999999/status/"), 404, "not_found")


@pytest.mark.django_db
def test_admin_cannot_remove_another_admin_but_the_owner_can():
    world = build_world()
    services.membership_update_role(
        user=world.owner, team_id=world.team.pk, user_id=world.target.pk, role="admin"
    )
    path = API + f"teams/{world.team.pk}/members/{world.target.pk}/"

    assert_problem(client_for(world.admin).delete(path), 403, "permission_denied")
    assert client_for(world.owner).delete(path).status_code == 204
    assert not Membership.objects.filter(team=world.team, user=world.target).exists()


def test_anonymous_requests_are_401(api_client, db):
    assert_problem(api_client.get(API + "teams/"), 401, "not_authenticated")
    assert_problem(api_client.get(API + "teams/1/"), 401, "not_authenticated")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "teams/{team}/",
        "teams/{team}/members/",
        "teams/{team}/members/{target}/",
        "teams/{team}/invites/",
        "teams/{team}/status/",
        "teams/{team}/leaderboard/",
    ],
)
@pytest.mark.parametrize("method", ["trace", "put"])
def test_a_method_a_team_view_does_not_answer_is_405_not_a_server_error(path, method):
    # Found by the fuzzer (scripts/fuzz): the role check looked the method up in the
    # view's action table before the dispatcher could answer 405, and raised KeyError.
    world = build_world()
    url = API + path.format(team=world.team.pk, target=world.target.pk)
    before = team_snapshot(world.team.pk)

    for caller in (world.owner, world.outsider):
        response = getattr(client_for(caller), method)(url)
        assert_problem(response, 405, "method_not_allowed")
    assert team_snapshot(world.team.pk) == before
