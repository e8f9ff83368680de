import datetime
import re

from django.utils import timezone

from sessions_app.models import Session, SessionSegment


def metric_value(body: str, name: str, labels: str = "") -> float:
    match = re.search(rf"^{re.escape(name)}{re.escape(labels)} (\S+)$", body, re.MULTILINE)
    assert match is not None, f"{name}{labels} not in /metrics"
    return float(match.group(1))


def test_metrics_answer_in_the_prometheus_text_format(api_client, db):
    response = api_client.get("/metrics")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    body = response.content.decode()
    for name in (
        "pomodoro_events_broadcast_total",
        "pomodoro_events_broadcast_failures_total",
        "pomodoro_websocket_connections",
        "pomodoro_timer_worker_lag_seconds",
    ):
        assert re.search(rf"^{name} ", body, re.MULTILINE), name


def test_requests_are_counted_by_route_and_status(api_client, db):
    labels = '{method="GET",route="api/v1/me/",status="401"}'
    before = api_client.get("/metrics").content.decode()
    counted = (
        metric_value(before, "pomodoro_http_requests_total", labels) if labels in before else 0.0
    )

    api_client.get("/api/v1/me/")

    after = api_client.get("/metrics").content.decode()
    assert metric_value(after, "pomodoro_http_requests_total", labels) == counted + 1


def test_active_sessions_and_worker_lag_are_read_from_the_database(client, user):
    client.post("/api/v1/sessions/", {"kind": "focus"}, format="json")
    session = Session.objects.get(user=user)
    # The worker has not completed it 30 s after its target: that is the lag.
    past = timezone.now() - datetime.timedelta(seconds=30)
    Session.objects.filter(pk=session.pk).update(
        started_at=past - datetime.timedelta(seconds=1500),
        running_since=past - datetime.timedelta(seconds=1500),
        target_end_at=past,
    )
    SessionSegment.objects.filter(session=session).update(
        started_at=past - datetime.timedelta(seconds=1500)
    )

    body = client.get("/metrics").content.decode()

    assert metric_value(body, "pomodoro_active_sessions", '{state="running"}') == 1
    assert metric_value(body, "pomodoro_active_sessions", '{state="paused"}') == 0
    assert 30 <= metric_value(body, "pomodoro_timer_worker_lag_seconds") < 40
