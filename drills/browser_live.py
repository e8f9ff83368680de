"""Drill: the web app in a browser tab and a command-line WebSocket client of one user
see each other's actions live.

Starts the service on embedded defaults in a temporary data folder, registers a
user, signs in to the web app (/) in headless Chromium (Playwright), and connects a
command-line socket client. The browser presses Start: the command line must receive
session.started. The command line pauses it over its socket: the browser tab must
show the session paused. Prints what each side saw; exits 1 on failure.

    .venv/bin/python -m drills.browser_live     (needs: apt-get install chromium)
"""

import json
import os
import sys

import httpx
from playwright.sync_api import expect
from websockets.sync.client import connect

from drills.browser import chromium, running_service

PORT = int(os.environ.get("DRILL_PORT", "8791"))
BASE = f"http://127.0.0.1:{PORT}"
EMAIL, PASSWORD = "drill@example.com", "a sturdy passphrase 42"


def drill(page) -> None:
    httpx.post(f"{BASE}/api/v1/auth/register/", json={"email": EMAIL, "password": PASSWORD})
    access = httpx.post(
        f"{BASE}/api/v1/auth/login/", json={"email": EMAIL, "password": PASSWORD}
    ).json()["access"]
    headers = {"Authorization": f"Bearer {access}"}

    page.goto(BASE + "/")
    form = page.get_by_role("form", name="Sign in")
    form.get_by_label("Email").fill(EMAIL)
    form.get_by_label("Password").fill(PASSWORD)
    form.get_by_role("button", name="Sign in").click()
    expect(page.locator("#connection")).to_have_text("Live")
    print("browser: signed in and connected")

    ticket = httpx.post(f"{BASE}/api/v1/realtime/ticket/", headers=headers).json()["ticket"]
    with connect(f"ws://127.0.0.1:{PORT}/ws/v1/events/?ticket={ticket}") as cli:
        assert json.loads(cli.recv(timeout=10))["type"] == "hello"
        print("command line: connected")

        page.get_by_role("button", name="Start").click()
        event = json.loads(cli.recv(timeout=10))
        assert event["type"] == "session.started", event
        session_id = event["data"]["session"]["id"]
        print(f"command line saw the browser's action: #{event['seq']} {event['type']}")

        cli.send(json.dumps({"action": "pause", "session": session_id, "request_id": "1"}))
        expect(page.locator("#timer-state")).to_have_text("Paused")
        clock = page.get_by_role("timer").inner_text()
        print(f"browser saw the command line's action: paused at {clock}")


def main() -> int:
    service = running_service(
        PORT,
        # The page is served by the service itself: its origin must be allowed.
        env={"WEBSOCKET_ALLOWED_ORIGINS": BASE},
    )
    with service, chromium() as browser:
        try:
            drill(browser.new_page())
        except (AssertionError, TimeoutError) as failure:
            print(f"FAIL: {failure!r}")
            return 1
    print("PASS: the browser tab and the command line see each other's actions live")
    return 0


if __name__ == "__main__":
    sys.exit(main())
