"""Real threads against PostgreSQL: invite use limits, team size limits and the "at least
one owner" rule hold under concurrent requests. Each thread has its own API client and
its own database connection, and closes that connection when it ends."""

from collections import Counter

import pytest
from django.test import override_settings

from teams import services
from teams.models import Invite, Membership
from tests.conftest import client_for
from tests.factories import UserFactory
from tests.teams.helpers import API, team_with
from tests.threads import run_in_threads

pytestmark = pytest.mark.django_db(transaction=True)

JOIN = f"{API}teams/join/"
THREAD_TIMEOUT = 10


def joins(users, code: str) -> list[tuple[int, str | None]]:
    """Every user posts the code at the same time; answers (status, error code) each."""
    clients = [client_for(user) for user in users]

    def work(index: int):
        response = clients[index].post(JOIN, {"code": code}, format="json")
        return response.status_code, response.json().get("code")

    return run_in_threads(len(users), work, timeout=THREAD_TIMEOUT)


def test_an_invite_of_one_use_admits_exactly_one_of_concurrent_joiners():
    owner, *joiners = UserFactory.create_batch(9)
    team = team_with(owner)
    invite = services.invite_create(user=owner, team_id=team.pk, max_uses=1)

    results = joins(joiners, invite.code)

    assert Counter(results) == {(201, None): 1, (400, "invalid"): len(joiners) - 1}
    assert Membership.objects.filter(team=team).count() == 2
    assert Invite.objects.get(pk=invite.pk).uses == 1


@override_settings(TEAM_MAX_MEMBERS=4)
def test_concurrent_joins_never_exceed_the_team_size_limit():
    owner, *joiners = UserFactory.create_batch(9)
    team = team_with(owner)
    invite = services.invite_create(user=owner, team_id=team.pk)

    results = joins(joiners, invite.code)

    assert Counter(results) == {(201, None): 3, (409, "limit_reached"): len(joiners) - 3}
    assert Membership.objects.filter(team=team).count() == 4
    assert Invite.objects.get(pk=invite.pk).uses == 3


@override_settings(TEAMS_PER_USER=2)
def test_concurrent_joins_of_one_user_never_exceed_the_teams_per_user_limit():
    user = UserFactory()
    owners = UserFactory.create_batch(5)
    codes = [
        services.invite_create(user=owner, team_id=team_with(owner).pk).code for owner in owners
    ]
    clients = [client_for(user) for _ in codes]

    def work(index: int):
        response = clients[index].post(JOIN, {"code": codes[index]}, format="json")
        return response.status_code, response.json().get("code")

    results = run_in_threads(len(codes), work, timeout=THREAD_TIMEOUT)

    assert Counter(results) == {(201, None): 2, (409, "limit_reached"): 3}
    assert Membership.objects.filter(user=user).count() == 2


def _leave(team_id: int, actor, target):
    return "delete", f"{API}teams/{team_id}/members/{target.pk}/", None


def _demote(team_id: int, actor, target):
    return "patch", f"{API}teams/{team_id}/members/{target.pk}/", {"role": "member"}


# Each of the two owners acts at the same time: (what A does, to whom; what B does, to whom).
OWNER_RACES = {
    "both leave": (_leave, "self", _leave, "self"),
    "both step down": (_demote, "self", _demote, "self"),
    "each demotes the other": (_demote, "other", _demote, "other"),
    "each removes the other": (_leave, "other", _leave, "other"),
    "one leaves, the other steps down": (_leave, "self", _demote, "self"),
    "one leaves, the other demotes them": (_leave, "self", _demote, "other"),
}


@pytest.mark.parametrize("race", OWNER_RACES.values(), ids=OWNER_RACES.keys())
def test_concurrent_demotions_and_leaves_of_the_two_owners_keep_an_owner(race):
    owner_a, owner_b = UserFactory.create_batch(2)
    team = team_with(owner_a, owner_b)
    services.membership_update_role(user=owner_a, team_id=team.pk, user_id=owner_b.pk, role="owner")
    action_a, whom_a, action_b, whom_b = race
    plan = [
        (owner_a, action_a(team.pk, owner_a, owner_a if whom_a == "self" else owner_b)),
        (owner_b, action_b(team.pk, owner_b, owner_b if whom_b == "self" else owner_a)),
    ]
    clients = [client_for(actor) for actor, _ in plan]

    def work(index: int) -> int:
        method, url, body = plan[index][1]
        return getattr(clients[index], method)(url, body, format="json").status_code

    statuses = run_in_threads(2, work, timeout=THREAD_TIMEOUT)

    # Whatever the order, one owner is left: a request that would leave none was refused
    # (409 last owner, 403 no longer an owner, 404 no longer a member or target gone).
    # Both may succeed only when A leaves after B made A a plain member.
    assert Membership.objects.filter(team=team, role="owner").count() == 1
    assert all(status in (200, 204, 403, 404, 409) for status in statuses), statuses
    assert any(status in (200, 204) for status in statuses), statuses
