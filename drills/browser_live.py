"""Drill: a browser tab and a command-line WebSocket client of one user see each
other's actions live.

Starts the service on embedded defaults in a temporary data folder, registers a
user, opens the demo page (/static/demo/live.html) in headless Chromium driven
over the DevTools protocol, and connects a command-line socket client. The
browser starts a focus session through REST: the command line must receive
session.started. The command line pauses it over its socket: the browser tab
must show the session paused. Prints what each side saw; exits 1 on failure.

    .venv/bin/python -m drills.browser_live     (needs: apt-get install chromium)
"""

import asyncio
import json
import os
import sys

import httpx
import websockets

from drills.browser import open_tab, running_chromium, running_service

PORT = int(os.environ.get("DRILL_PORT", "8791"))
DEBUG_PORT = int(os.environ.get("DRILL_DEBUG_PORT", "9333"))
BASE = f"http://127.0.0.1:{PORT}"
EMAIL, PASSWORD = "drill@example.com", "a sturdy passphrase 42"


async def drill() -> None:
    httpx.post(f"{BASE}/api/v1/auth/register/", json={"email": EMAIL, "password": PASSWORD})
    access = httpx.post(
        f"{BASE}/api/v1/auth/login/", json={"email": EMAIL, "password": PASSWORD}
    ).json()["access"]
    headers = {"Authorization": f"Bearer {access}"}

    async with open_tab(DEBUG_PORT, BASE, url_contains="live.html") as tab:
        await tab.expect("document.readyState === 'complete'")
        await tab.submit_form("login", {"email": EMAIL, "password": PASSWORD})
        await tab.expect("document.getElementById('log').textContent.includes('connected')")
        print("browser: logged in and connected")

        ticket = httpx.post(f"{BASE}/api/v1/realtime/ticket/", headers=headers).json()["ticket"]
        async with websockets.connect(
            f"ws://127.0.0.1:{PORT}/ws/v1/events/?ticket={ticket}"
        ) as cli:
            assert json.loads(await cli.recv())["type"] == "hello"
            print("command line: connected")

            await tab.evaluate("document.getElementById('start').click(); true")
            event = json.loads(await asyncio.wait_for(cli.recv(), 10))
            assert event["type"] == "session.started", event
            session_id = event["data"]["session"]["id"]
            print(f"command line saw the browser's action: #{event['seq']} {event['type']}")

            await cli.send(
                json.dumps({"action": "pause", "session": session_id, "request_id": "1"})
            )
            state = await tab.expect(
                "document.getElementById('state').textContent === 'paused' && "
                "document.getElementById('log').textContent"
            )
            print("browser saw the command line's action:")
            print("  " + state.strip().replace("\n", "\n  "))


def main() -> int:
    service = running_service(
        PORT,
        # The page is served by the service itself: its origin must be allowed.
        env={"WEBSOCKET_ALLOWED_ORIGINS": BASE},
    )
    with service, running_chromium(DEBUG_PORT, f"{BASE}/static/demo/live.html"):
        try:
            asyncio.run(drill())
        except (AssertionError, TimeoutError) as failure:
            print(f"FAIL: {failure!r}")
            return 1
    print("PASS: the browser tab and the command line see each other's actions live")
    return 0


if __name__ == "__main__":
    sys.exit(main())
