"""The webhook endpoints: CRUD, the secret shown once, the delivery log, the test message,
and the outbox rows written with each event."""

import re

import pytest
from django.db import transaction
from django.forms.models import model_to_dict

from events.log import event_record
from events.models import Event
from integrations.models import Webhook, WebhookDelivery
from tests.conftest import assert_problem
from tests.factories import UserFactory

API = "/api/v1/"
URL = "https://hooks.example.com/pomodoro"


def create(client, **body) -> dict:
    response = client.post(f"{API}webhooks/", {"url": URL, **body}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


@pytest.mark.django_db
def test_create_answers_the_secret_once(client, user):
    body = create(client, event_types=["session.completed", "task.created"])

    webhook = Webhook.objects.get()
    assert body == {
        "id": webhook.pk,
        "url": URL,
        "event_types": ["session.completed", "task.created"],
        "active": True,
        "created_at": body["created_at"],
        "failure_count": 0,
        "disabled_at": None,
        "secret": webhook.secret,
    }
    assert body["secret"].startswith("whsec_") and len(body["secret"]) == 6 + 44
    assert webhook.user == user
    detail = client.get(f"{API}webhooks/{webhook.pk}/").json()
    assert "secret" not in detail
    assert detail == {k: v for k, v in body.items() if k != "secret"}
    assert client.get(f"{API}webhooks/").json() == {
        "results": [detail],
        "next": None,
        "previous": None,
    }


@pytest.mark.django_db
def test_event_types_default_to_all_and_star_wins(client):
    assert create(client)["event_types"] == ["*"]
    assert create(client, event_types=["task.created", "*"])["event_types"] == ["*"]
    assert create(client, event_types=["task.created", "task.created"])["event_types"] == [
        "task.created"
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"url": "http://hooks.example.com/x"}, "url", "The URL must use https."),
        ({"url": "https://10.1.2.3/x"}, "url", "The URL must point to a public address."),
        ({"url": "https://[::1]:8443/x"}, "url", "The URL must point to a public address."),
        ({"url": "https://localhost/x"}, "url", "The URL must point to a public address."),
        (
            {"url": "https://169.254.169.254/latest"},
            "url",
            "The URL must point to a public address.",
        ),
        (
            {"url": "https://user:pw@hooks.example.com/x"},
            "url",
            "Credentials in the URL are not allowed; put a token in the path or query.",
        ),
        ({"url": "ftp://hooks.example.com/x"}, "url", "Enter a valid https URL."),
        ({"url": "not a url"}, "url", "Enter a valid https URL."),
        ({"url": URL, "event_types": []}, "event_types", "This list may not be empty."),
        (
            {"url": URL, "event_types": ["task.created", "session.exploded", 7]},
            "event_types",
            ['Item 1: "session.exploded" is not an event type, nor "*".', "Item 2: not a string."],
        ),
        (
            {"url": URL, "event_types": "*"},
            "event_types",
            'Expected a list of items but got type "str".',
        ),
        ({"url": URL, "active": "yes"}, "active", "Must be a valid boolean."),
    ],
)
def test_create_refuses_bad_input_and_changes_nothing(client, body, field, message):
    response = client.post(f"{API}webhooks/", body, format="json")

    problem = assert_problem(response, 400, "invalid")
    assert list(problem["errors"]) == [field]
    assert problem["errors"][field] == (message if isinstance(message, list) else [message])
    assert Webhook.objects.count() == 0


@pytest.mark.django_db
def test_private_targets_allowed_with_the_flag(client, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    assert create(client, url="http://127.0.0.1:9/hook")["url"] == "http://127.0.0.1:9/hook"


@pytest.mark.django_db
def test_patch_changes_and_turning_on_again_clears_the_failures(client):
    webhook_id = create(client)["id"]
    Webhook.objects.filter(pk=webhook_id).update(
        active=False, failure_count=12, disabled_at="2026-01-01T00:00:00Z"
    )

    response = client.patch(
        f"{API}webhooks/{webhook_id}/",
        {"active": True, "event_types": ["tag.created"], "url": "https://other.example.com/h"},
        format="json",
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["active"], body["failure_count"], body["disabled_at"]) == (True, 0, None)
    assert body["event_types"] == ["tag.created"]
    assert body["url"] == "https://other.example.com/h"
    assert Webhook.objects.get().failing_since is None


@pytest.mark.django_db
def test_patch_refused_changes_nothing(client):
    webhook_id = create(client)["id"]
    before = model_to_dict(Webhook.objects.get())

    response = client.patch(
        f"{API}webhooks/{webhook_id}/",
        {"url": "http://plain.example.com/", "active": False},
        format="json",
    )

    assert_problem(response, 400, "invalid")
    assert model_to_dict(Webhook.objects.get()) == before


@pytest.mark.django_db
def test_another_users_webhook_is_not_found(client, other_client):
    webhook_id = create(client)["id"]
    before = model_to_dict(Webhook.objects.get())

    for method, path in [
        ("get", f"webhooks/{webhook_id}/"),
        ("patch", f"webhooks/{webhook_id}/"),
        ("delete", f"webhooks/{webhook_id}/"),
        ("get", f"webhooks/{webhook_id}/deliveries/"),
        ("post", f"webhooks/{webhook_id}/test/"),
    ]:
        response = getattr(other_client, method)(f"{API}{path}", {"active": False}, format="json")
        assert_problem(response, 404, "not_found")
    assert other_client.get(f"{API}webhooks/").json()["results"] == []
    assert model_to_dict(Webhook.objects.get()) == before
    assert WebhookDelivery.objects.count() == 0


@pytest.mark.django_db
def test_delete_removes_the_endpoint_and_its_log(client):
    webhook_id = create(client)["id"]
    client.post(f"{API}webhooks/{webhook_id}/test/")

    assert client.delete(f"{API}webhooks/{webhook_id}/").status_code == 204

    assert Webhook.objects.count() == 0
    assert WebhookDelivery.objects.count() == 0
    assert_problem(client.get(f"{API}webhooks/{webhook_id}/"), 404, "not_found")


@pytest.mark.django_db
def test_test_message_is_queued_and_listed(client):
    webhook_id = create(client)["id"]

    response = client.post(f"{API}webhooks/{webhook_id}/test/")

    assert response.status_code == 202
    delivery = WebhookDelivery.objects.get()
    assert client.get(f"{API}webhooks/{webhook_id}/deliveries/").json() == {
        "results": [
            {
                "id": delivery.pk,
                "event_seq": None,
                "type": "webhook.test",
                "status": "pending",
                "attempts": 0,
                "last_status_code": None,
                "last_error": "",
                "next_attempt_at": delivery.next_attempt_at.isoformat().replace("+00:00", "Z"),
                "delivered_at": None,
            }
        ],
        "next": None,
        "previous": None,
    }
    assert delivery.payload["type"] == "webhook.test"
    assert delivery.payload["data"] == {"webhook": webhook_id}
    assert Event.objects.count() == 0  # a test message is not an event of the log


@pytest.mark.django_db
def test_an_event_writes_one_row_per_endpoint_that_wants_it(client, user):
    everything = create(client)["id"]
    tasks_only = create(client, event_types=["task.created"])["id"]
    create(client, event_types=["project.created"], active=False)

    project = client.post(f"{API}projects/", {"name": "Thesis"}, format="json").json()

    event = Event.objects.get(user=user)
    (row,) = WebhookDelivery.objects.all()
    assert row.webhook_id == everything
    assert (row.event_seq, row.type, row.status, row.attempts) == (
        1,
        "project.created",
        "pending",
        0,
    )
    assert row.payload == event.as_message()
    assert row.payload["data"]["project"]["id"] == project["id"]
    assert row.message_id.startswith("msg_")
    assert not WebhookDelivery.objects.filter(webhook_id=tasks_only).exists()


@pytest.mark.django_db
def test_each_endpoint_gets_its_own_row_and_message_id(client, user):
    """The rows are written by one SQL statement (integrations.services): one per wanting
    endpoint of this user only, in endpoint order, each with its own id in
    webhook_message_id()'s format."""
    first = create(client)["id"]
    second = create(client, event_types=["task.created", "project.created"])["id"]
    create(client, event_types=["task.created"])
    other = UserFactory()
    Webhook.objects.create(user=other, url=URL, event_types=["*"], secret="whsec_y")

    client.post(f"{API}projects/", {"name": "Thesis"}, format="json")

    rows = list(WebhookDelivery.objects.order_by("id"))
    assert [row.webhook_id for row in rows] == [first, second]
    assert all(re.fullmatch(r"msg_[0-9a-f]{32}", row.message_id) for row in rows)
    assert rows[0].message_id != rows[1].message_id
    assert rows[0].payload == rows[1].payload == Event.objects.get(user=user).as_message()


@pytest.mark.django_db
def test_deliveries_are_newest_first(client, user):
    webhook_id = create(client)["id"]
    for name in ["a", "b", "c"]:
        client.post(f"{API}projects/", {"name": name}, format="json")

    results = client.get(f"{API}webhooks/{webhook_id}/deliveries/").json()["results"]

    assert [r["event_seq"] for r in results] == [3, 2, 1]


@pytest.mark.django_db
def test_no_row_when_the_event_rolls_back(user):
    Webhook.objects.create(user=user, url=URL, event_types=["*"], secret="whsec_x")

    with pytest.raises(RuntimeError), transaction.atomic():
        event_record(user=user, type="profile.updated", data={})
        raise RuntimeError("the change failed")

    assert WebhookDelivery.objects.count() == 0
    assert Event.objects.count() == 0


@pytest.mark.django_db
def test_deleting_the_user_deletes_webhooks_and_deliveries(user):
    webhook = Webhook.objects.create(user=user, url=URL, event_types=["*"], secret="whsec_x")
    with transaction.atomic():
        event_record(user=user, type="profile.updated", data={})
    other = UserFactory()
    Webhook.objects.create(user=other, url=URL, event_types=["*"], secret="whsec_y")
    assert WebhookDelivery.objects.filter(webhook=webhook).count() == 1

    user.delete()

    assert list(Webhook.objects.values_list("user_id", flat=True)) == [other.pk]
    assert WebhookDelivery.objects.count() == 0
