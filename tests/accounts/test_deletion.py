"""Deleting an account (DELETE me/), and the clean-up of inactive guests."""

import datetime
import io

import pytest
from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.core.management import call_command
from django.db import models
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from accounts.models import User
from accounts.services import (
    calendar_feed_create,
    guests_delete_inactive,
    personal_token_create,
)
from accounts.tokens import token_pair_for
from analytics.models import Badge
from events.models import Event
from integrations.services import webhook_create
from sessions_app import services as session_services
from sessions_app.models import Session
from teams import services as team_services
from teams.models import Membership, Team
from tests.conftest import assert_problem, client_for
from tests.events.socket_helpers import assert_closed_with, db, open_socket, run_async
from tests.factories import PASSWORD, FinishedSessionFactory, TaskFactory, UserFactory
from tests.teams.helpers import team_with

pytestmark = pytest.mark.django_db

ME = "/api/v1/me/"
NOT_YOUR_PASSWORD = "This is not your password."


def user_references() -> list[models.ForeignKey]:
    """Every foreign key (and one-to-one) to the user model, in every installed app."""
    return [
        field
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if isinstance(field, models.ForeignKey) and field.related_model is User
    ]


def rows_of(user_id: int) -> dict[str, int]:
    return {
        f"{field.model._meta.label}.{field.name}": field.model._default_manager.filter(
            **{field.name: user_id}
        ).count()
        for field in user_references()
    }


def a_full_account() -> User:
    """A user with a row in every table that can reference a user."""
    user = UserFactory()
    webhook_create(user=user, url="https://hooks.example.com/pomodoro", event_types=["*"])
    client = client_for(user)
    project = client.post("/api/v1/projects/", {"name": "P"}, format="json").json()
    task = client.post("/api/v1/tasks/", {"title": "T", "project": project["id"]}).json()
    tag = client.post("/api/v1/tags/", {"name": "deep"}, format="json").json()
    client.post(
        "/api/v1/sessions/",
        {"task": task["id"], "tags": [tag["id"]]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-1",
    )
    FinishedSessionFactory(user=user)
    Badge.objects.create(user=user, code=Badge.Code.FIRST_POMODORO, earned_at=timezone.now())
    personal_token_create(user=user, name="script", scope="read")
    calendar_feed_create(user=user)
    token_pair_for(user)
    team = team_with(user, UserFactory())
    team_services.invite_create(user=user, team_id=team.pk)
    LogEntry.objects.log_actions(
        user_id=user.pk,
        queryset=[team],
        action_flag=CHANGE,
        change_message="renamed",
        single_object=True,
    )
    return user


def test_the_walk_covers_the_tables_that_reference_users():
    labels = set(rows_of(0))

    assert {
        "accounts.TimerSettings.user",
        "accounts.PersonalAccessToken.user",
        "accounts.CalendarFeed.user",
        "sessions_app.Session.user",
        "sessions_app.SessionSegment.user",
        "sessions_app.Tag.user",
        "events.Event.user",
        "events.EventStream.user",
        "pomodoro.IdempotencyRecord.user",
        "analytics.Badge.user",
        "teams.Membership.user",
        "teams.Invite.created_by",
        "token_blacklist.OutstandingToken.user",
        "admin.LogEntry.user",
        "integrations.Webhook.user",
    } <= labels


def test_deleting_an_account_leaves_no_row_that_references_it():
    user = a_full_account()
    before = rows_of(user.pk)
    assert all(count > 0 for count in before.values()), before

    response = client_for(user).delete(ME, {"password": PASSWORD}, format="json")

    assert response.status_code == 204, response.content
    assert response.content == b""
    assert not User.objects.filter(pk=user.pk).exists()
    assert rows_of(user.pk) == dict.fromkeys(before, 0)


def test_other_users_keep_everything(other_user):
    user = a_full_account()
    FinishedSessionFactory(user=other_user)
    other_before = rows_of(other_user.pk)

    client_for(user).delete(ME, {"password": PASSWORD}, format="json")

    assert rows_of(other_user.pk) == other_before


@pytest.mark.parametrize(
    ("payload", "errors"),
    [
        ({"password": "not it"}, {"password": [NOT_YOUR_PASSWORD]}),
        ({}, {"password": [NOT_YOUR_PASSWORD]}),
    ],
)
def test_a_wrong_or_missing_password_is_400_and_deletes_nothing(payload, errors):
    user = a_full_account()
    client = client_for(user)
    before = rows_of(user.pk)

    response = client.delete(ME, payload, format="json")

    assert assert_problem(response, 400, "invalid")["errors"] == errors
    assert rows_of(user.pk) == before
    assert client.get(ME).status_code == 200


def test_a_guest_deletes_its_account_with_no_password(api_client):
    guest = api_client.post("/api/v1/auth/guest/").json()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {guest['access']}")
    client.post("/api/v1/sessions/", {}, format="json")

    response = client.delete(ME)

    assert response.status_code == 204
    assert rows_of(guest["user"]["id"]) == dict.fromkeys(rows_of(0), 0)


def test_every_token_of_the_deleted_account_stops_working(user):
    pair = token_pair_for(user)
    _, secret = personal_token_create(user=user, name="s", scope="write")
    client_for(user).delete(ME, {"password": PASSWORD}, format="json")

    for access in (pair["access"], secret):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
        assert client.get(ME).status_code == 401
    refreshed = APIClient().post("/api/v1/auth/refresh/", {"refresh": pair["refresh"]})
    assert_problem(refreshed, 401, "token_not_valid")


def test_the_password_counts_as_a_guess(user, rate_limits):
    rate_limits(login_ip="1/minute")
    client = client_for(user)
    assert client.delete(ME, {"password": "guess"}, format="json").status_code == 400

    response = client.delete(ME, {"password": PASSWORD}, format="json")

    assert_problem(response, 429, "throttled")
    assert User.objects.filter(pk=user.pk).exists()


# --- teams -----------------------------------------------------------------------------------


def test_a_team_it_alone_owns_passes_to_its_longest_standing_member(user):
    first, second = UserFactory(), UserFactory()
    team = team_with(user, first, second)
    Membership.objects.filter(team=team, user=second).update(
        joined_at=timezone.now() - datetime.timedelta(days=30)
    )

    client_for(user).delete(ME, {"password": PASSWORD}, format="json")

    assert dict(Membership.objects.filter(team=team).values_list("user_id", "role")) == {
        second.pk: "owner",
        first.pk: "member",
    }
    event = Event.objects.filter(user=second).latest("seq")
    assert (event.type, event.data["team"], event.data["previous_role"]) == (
        "team.role_changed",
        {"id": team.pk, "name": "Squad"},
        "member",
    )
    assert event.data["membership"]["role"] == "owner"


def test_a_team_with_another_owner_keeps_its_owners(user):
    co_owner = UserFactory()
    team = team_with(user, co_owner)
    team_services.membership_update_role(
        user=user, team_id=team.pk, user_id=co_owner.pk, role="owner"
    )
    events_before = Event.objects.filter(user=co_owner).count()

    client_for(user).delete(ME, {"password": PASSWORD}, format="json")

    assert list(Membership.objects.filter(team=team).values_list("user_id", "role")) == [
        (co_owner.pk, "owner")
    ]
    assert Event.objects.filter(user=co_owner).count() == events_before


def test_a_team_left_empty_is_deleted(user):
    team = team_with(user)

    client_for(user).delete(ME, {"password": PASSWORD}, format="json")

    assert not Team.objects.filter(pk=team.pk).exists()


def test_a_team_it_only_belongs_to_loses_just_the_membership(user):
    owner = UserFactory()
    team = team_with(owner, user)

    client_for(user).delete(ME, {"password": PASSWORD}, format="json")

    assert list(Membership.objects.filter(team=team).values_list("user_id", "role")) == [
        (owner.pk, "owner")
    ]


# --- sockets ------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@run_async
async def test_deleting_the_account_closes_its_sockets_with_4401(user):
    client = await db(client_for)(user)
    async with open_socket(user) as (socket_, _):
        response = await db(client.delete)(ME, {"password": PASSWORD}, format="json")
        assert response.status_code == 204

        await assert_closed_with(socket_, 4401)


# --- inactive guests ---------------------------------------------------------------------------


def a_guest(*, joined_days_ago: int) -> User:
    guest = UserFactory(email=None, is_guest=True)
    User.objects.filter(pk=guest.pk).update(
        date_joined=timezone.now() - datetime.timedelta(days=joined_days_ago)
    )
    return guest


def test_guests_idle_for_30_days_are_deleted_and_no_one_else():
    idle = a_guest(joined_days_ago=31)
    with_old_activity = a_guest(joined_days_ago=60)
    FinishedSessionFactory(user=with_old_activity)
    Event.objects.create(
        user=with_old_activity, seq=1, type="x", at=timezone.now() - datetime.timedelta(days=40)
    )
    active = a_guest(joined_days_ago=60)
    session_services.session_create(user=active, start=False)
    refreshing = a_guest(joined_days_ago=60)
    token_pair_for(refreshing)
    recent = a_guest(joined_days_ago=29)
    old_user = UserFactory()
    User.objects.filter(pk=old_user.pk).update(
        date_joined=timezone.now() - datetime.timedelta(days=400)
    )
    TaskFactory(user=idle)

    deleted = guests_delete_inactive(inactive_for=datetime.timedelta(days=30))

    assert deleted == 2
    assert set(User.objects.values_list("pk", flat=True)) == {
        active.pk,
        refreshing.pk,
        recent.pk,
        old_user.pk,
    }
    assert Session.objects.filter(user_id=with_old_activity.pk).count() == 0


def test_the_command_deletes_inactive_guests():
    for _ in range(3):
        a_guest(joined_days_ago=31)
    output = io.StringIO()

    call_command("delete_inactive_guests", stdout=output)

    assert output.getvalue() == "deleted 3 inactive guest account(s)\n"
    assert User.objects.count() == 0
    assert OutstandingToken.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_the_timer_worker_runs_the_guest_clean_up():
    idle = a_guest(joined_days_ago=31)

    call_command("run_timer_worker", "--once", stdout=io.StringIO())

    assert not User.objects.filter(pk=idle.pk).exists()
