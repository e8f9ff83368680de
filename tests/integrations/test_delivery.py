"""The webhook worker against a real HTTP receiver on 127.0.0.1: signatures verified with
Standard Webhooks' reference library, retries, order, disabling, the address rule,
redirects and the test message. The worker runs in its own thread and connection, so
these tests commit (transaction=True)."""

import asyncio
import datetime
import itertools
import json
import time

import pytest
from django.db.models import F
from django.utils import timezone
from standardwebhooks import Webhook as Verifier

from events.models import Event
from integrations.delivery import WebhookWorker
from integrations.models import Webhook, WebhookDelivery
from integrations.outbox import DISABLED_ERROR, RETRY_DELAYS_SECONDS, retry_delay
from tests.conftest import client_for
from tests.integrations.receiver import Answer, Receiver

API = "/api/v1/"
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.close()


@pytest.fixture
def client(settings, user):
    """The user's API client, on a server that allows the receiver's 127.0.0.1."""
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    return client_for(user)


def add_webhook(client, url: str, **body) -> dict:
    response = client.post(f"{API}webhooks/", {"url": url, **body}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def new_project(client, name: str) -> dict:
    response = client.post(f"{API}projects/", {"name": name}, format="json")
    assert response.status_code == 201
    return response.json()


def deliver(**options) -> WebhookWorker:
    options = {"allow_private": True, "timeout": 2.0, "interval": 0.02, **options}
    worker = WebhookWorker(**options)
    asyncio.run(worker.run_until_idle())
    return worker


def make_due(**filters) -> None:
    """Time travel: the retries of the matching deliveries are due now."""
    WebhookDelivery.objects.filter(status="pending", **filters).update(
        next_attempt_at=timezone.now()
    )


def test_delivery_is_signed_and_verifies_with_the_reference_library(client, receiver):
    hook = add_webhook(client, receiver.url("/hook"))
    new_project(client, "Thesis")

    deliver()

    (request,) = receiver.at("/hook")
    payload = Verifier(hook["secret"]).verify(request.body, request.headers)
    event = client.get(f"{API}events/").json()["results"][0]
    assert payload == {"type": "project.created", "timestamp": event["at"], "data": event}
    delivery = WebhookDelivery.objects.get()
    assert request.headers["webhook-id"] == delivery.message_id
    assert request.headers["content-type"] == "application/json"
    assert abs(int(request.headers["webhook-timestamp"]) - time.time()) < 5
    assert request.headers["webhook-signature"].startswith("v1,")
    with pytest.raises(Exception, match="No matching signature"):
        Verifier(add_webhook(client, receiver.url("/other"))["secret"]).verify(
            request.body, request.headers
        )
    log = client.get(f"{API}webhooks/{hook['id']}/deliveries/").json()["results"]
    assert [(d["status"], d["attempts"], d["last_status_code"]) for d in log] == [
        ("delivered", 1, 200)
    ]
    assert log[0]["delivered_at"] is not None and log[0]["next_attempt_at"] is None


def test_a_500_is_retried_after_5_seconds_with_the_same_webhook_id(client, receiver):
    hook = add_webhook(client, receiver.url("/hook"))
    receiver.answer("/hook", Answer(status=500), Answer(status=204))
    new_project(client, "Thesis")

    deliver()

    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
    assert delivery.last_error == "HTTP 500."
    wait = (delivery.next_attempt_at - timezone.now()).total_seconds()
    assert 3.5 < wait <= 5.0
    assert Webhook.objects.values_list("failure_count", flat=True).get() == 1
    deliver()  # not due yet: nothing sent
    assert len(receiver.at("/hook")) == 1

    make_due()
    deliver()

    first, second = receiver.at("/hook")
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == delivery.message_id
    assert first.body == second.body
    Verifier(hook["secret"]).verify(second.body, second.headers)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 2, 204)
    assert delivery.last_error == ""
    endpoint = Webhook.objects.get()
    assert (endpoint.failure_count, endpoint.failing_since) == (0, None)


def test_a_timeout_is_a_failure_and_is_retried(client, receiver):
    add_webhook(client, receiver.url("/slow"))
    receiver.answer("/slow", Answer(delay=3.0), Answer())
    new_project(client, "Thesis")

    started = time.monotonic()
    deliver(timeout=0.5)

    assert time.monotonic() - started < 2.5
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, None)
    assert delivery.last_error == "Timed out."

    make_due()
    deliver(timeout=0.5)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 2, 200)
    assert [r.headers["webhook-id"] for r in receiver.at("/slow")] == [delivery.message_id] * 2


def test_retry_schedule_then_given_up_after_24_hours(client, receiver):
    assert RETRY_DELAYS_SECONDS == (5, 30, 120, 600, 1800, 3600)
    assert [retry_delay(n).total_seconds() for n in range(1, 10)] == [
        5,
        30,
        120,
        600,
        1800,
        3600,
        7200,
        7200,
        7200,
    ]
    add_webhook(client, receiver.url("/down"))
    receiver.answer("/down", Answer(status=503))
    new_project(client, "Thesis")
    # The message is almost 24 hours old: the next wait would take it past that.
    WebhookDelivery.objects.update(
        created_at=F("created_at") - datetime.timedelta(hours=23, minutes=59), attempts=7
    )

    deliver()

    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("failed", 8, None)


def test_first_attempts_in_seq_order_and_a_failure_holds_nothing_back(client, receiver):
    add_webhook(client, receiver.url("/ordered"))
    add_webhook(client, receiver.url("/second"))
    receiver.answer("/ordered", Answer(), Answer(), Answer(status=500), Answer())
    for number in range(1, 31):
        new_project(client, f"Project {number}")

    deliver(per_endpoint=7)

    seqs = [json.loads(r.body)["data"]["seq"] for r in receiver.at("/ordered")]
    assert seqs == list(range(1, 31))  # seq 3 failed, and 4 to 30 went on
    assert [json.loads(r.body)["data"]["seq"] for r in receiver.at("/second")] == seqs
    retried = WebhookDelivery.objects.get(status="pending")
    assert (retried.event_seq, retried.attempts) == (3, 1)

    make_due()
    deliver()

    assert json.loads(receiver.at("/ordered")[-1].body)["data"]["seq"] == 3
    assert WebhookDelivery.objects.exclude(status="delivered").count() == 0


def test_a_hanging_endpoint_does_not_delay_the_others(client, receiver):
    for number in range(3):
        add_webhook(client, receiver.url(f"/hang{number}"))
        receiver.answer(f"/hang{number}", Answer(delay=1.0))
    add_webhook(client, receiver.url("/fast"))
    for number in range(3):
        new_project(client, f"Project {number}")

    started = time.monotonic()
    deliver(timeout=0.5)

    fast = receiver.at("/fast")
    assert len(fast) == 3
    assert max(r.at for r in fast) - started < 0.5
    # A hanging endpoint has one request in flight at a time, each cut at the timeout.
    hanging = [r.at for r in receiver.at("/hang0")]
    assert len(hanging) == 3
    assert min(b - a for a, b in itertools.pairwise(hanging)) >= 0.45
    assert set(
        WebhookDelivery.objects.filter(webhook__url__contains="hang").values_list(
            "status", "last_error"
        )
    ) == {("pending", "Timed out.")}


def test_an_endpoint_failing_for_24_hours_is_disabled(client, receiver):
    hook = add_webhook(client, receiver.url("/dead"))
    receiver.answer("/dead", Answer(status=500))
    new_project(client, "One")
    deliver()
    Webhook.objects.update(failing_since=F("failing_since") - datetime.timedelta(hours=24))
    new_project(client, "Two")
    # A third one waits for its first attempt when the endpoint is disabled.
    new_project(client, "Three")
    WebhookDelivery.objects.filter(event_seq=3).update(
        next_attempt_at=timezone.now() + datetime.timedelta(minutes=1)
    )

    make_due(event_seq=1)
    deliver()

    body = client.get(f"{API}webhooks/{hook['id']}/").json()
    assert body["active"] is False
    assert body["disabled_at"] is not None
    assert body["failure_count"] == 3  # seq 1 twice, seq 2 once
    log = {
        d["event_seq"]: d
        for d in client.get(f"{API}webhooks/{hook['id']}/deliveries/").json()["results"]
    }
    assert {seq: (d["status"], d["attempts"]) for seq, d in log.items()} == {
        1: ("failed", 2),
        2: ("failed", 1),
        3: ("failed", 0),
    }
    assert log[3]["last_error"] == DISABLED_ERROR
    sent = len(receiver.at("/dead"))
    new_project(client, "Four")  # a disabled endpoint gets no new rows
    make_due()
    deliver()
    assert len(receiver.at("/dead")) == sent
    assert WebhookDelivery.objects.count() == 3


def test_a_private_address_is_refused_when_the_flag_is_off(client, receiver, settings):
    # Saved while the flag was on (or a public name that now resolves to 127.0.0.1):
    # the worker checks the address it would connect to.
    add_webhook(client, receiver.url("/literal"))
    add_webhook(client, f"https://localhost:{receiver.port}/name")
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    new_project(client, "Thesis")

    deliver(allow_private=None)

    assert receiver.received == []
    errors = dict(WebhookDelivery.objects.values_list("webhook__url", "last_error"))
    assert errors[receiver.url("/literal")] == "Refused: only https URLs may be called."
    name_error = errors[f"https://localhost:{receiver.port}/name"]
    assert name_error in {
        "Refused: 127.0.0.1 is not a public address.",
        "Refused: ::1 is not a public address.",
    }
    assert set(WebhookDelivery.objects.values_list("status", "attempts")) == {("pending", 1)}


def test_a_private_literal_address_is_refused_at_connection_time(client, user, receiver):
    webhook = Webhook.objects.create(
        user=user,
        url=f"https://127.0.0.1:{receiver.port}/x",
        event_types=["*"],
        secret="whsec_" + "A" * 44,
    )
    client.post(f"{API}webhooks/{webhook.pk}/test/")

    deliver(allow_private=False)

    assert receiver.received == []
    assert WebhookDelivery.objects.get().last_error == "Refused: 127.0.0.1 is not a public address."


def test_a_redirect_is_not_followed(client, receiver):
    add_webhook(client, receiver.url("/moved"))
    receiver.answer("/moved", Answer(status=302, headers={"Location": receiver.url("/target")}))
    new_project(client, "Thesis")

    deliver()

    assert receiver.at("/target") == []
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.last_status_code, delivery.last_error) == (
        "pending",
        302,
        "HTTP 302.",
    )


def test_a_large_answer_is_not_read_in_full(client, receiver):
    add_webhook(client, receiver.url("/chatty"))
    receiver.answer("/chatty", Answer(body=b"x" * 5_000_000))
    new_project(client, "Thesis")

    deliver()

    assert WebhookDelivery.objects.get().status == "delivered"


def test_the_test_message_is_delivered(client, receiver):
    hook = add_webhook(client, receiver.url("/hook"))

    assert client.post(f"{API}webhooks/{hook['id']}/test/").status_code == 202
    deliver()

    (request,) = receiver.at("/hook")
    payload = Verifier(hook["secret"]).verify(request.body, request.headers)
    assert payload["type"] == "webhook.test"
    assert payload["data"]["seq"] is None
    assert payload["data"]["type"] == "webhook.test"
    assert payload["data"]["data"] == {"webhook": hook["id"]}
    assert payload["timestamp"] == payload["data"]["at"]
    (entry,) = client.get(f"{API}webhooks/{hook['id']}/deliveries/").json()["results"]
    assert (entry["type"], entry["event_seq"], entry["status"]) == (
        "webhook.test",
        None,
        "delivered",
    )
    assert Event.objects.count() == 0
