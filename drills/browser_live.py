"""Drill: a browser tab and a command-line WebSocket client of one user see each
other's actions live.

Starts the service on embedded defaults in a temporary data folder, registers a
user, opens the demo page (/static/demo/live.html) in headless Chromium driven
over the DevTools protocol, and connects a command-line socket client. The
browser starts a focus session through REST: the command line must receive
session.started. The command line pauses it over its socket: the browser tab
must show the session paused. Prints what each side saw; exits 1 on failure.

    .venv/bin/python drills/browser_live.py     (needs: apt-get install chromium)
"""

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import websockets

ROOT = Path(__file__).resolve().parent.parent
PORT = int(os.environ.get("DRILL_PORT", "8791"))
DEBUG_PORT = int(os.environ.get("DRILL_DEBUG_PORT", "9333"))
BASE = f"http://127.0.0.1:{PORT}"
EMAIL, PASSWORD = "drill@example.com", "a sturdy passphrase 42"


def start_service(data_dir: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATA_DIR": data_dir,
        "DJANGO_ENV": "development",
        # The page is served by the service itself: its origin must be allowed.
        "WEBSOCKET_ALLOWED_ORIGINS": BASE,
    }
    for name in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"):
        env.pop(name, None)
    python = str(ROOT / ".venv" / "bin" / "python")
    subprocess.run([python, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    server = subprocess.Popen(
        [python, "manage.py", "runserver", f"127.0.0.1:{PORT}", "--noreload"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            if httpx.get(f"{BASE}/healthz").status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit("the service did not start")


def start_chromium(profile: str) -> subprocess.Popen:
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        raise SystemExit("chromium not found: apt-get install chromium")
    return subprocess.Popen(
        [
            binary,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            f"--remote-debugging-port={DEBUG_PORT}",
            f"{BASE}/static/demo/live.html",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


class Tab:
    """The page, driven over the Chrome DevTools protocol."""

    def __init__(self, socket):
        self.socket, self.next_id = socket, 0

    async def evaluate(self, expression: str):
        self.next_id += 1
        await self.socket.send(
            json.dumps(
                {
                    "id": self.next_id,
                    "method": "Runtime.evaluate",
                    "params": {
                        "expression": expression,
                        "awaitPromise": True,
                        "returnByValue": True,
                    },
                }
            )
        )
        while True:
            answer = json.loads(await self.socket.recv())
            if answer.get("id") == self.next_id:
                return answer["result"]["result"].get("value")

    async def wait_for(self, expression: str, timeout: float = 10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = await self.evaluate(expression)
            if value:
                return value
            await asyncio.sleep(0.1)
        raise AssertionError(f"the page never satisfied: {expression}")


async def page_target() -> str:
    for _ in range(100):
        try:
            targets = httpx.get(f"http://127.0.0.1:{DEBUG_PORT}/json").json()
            pages = [t for t in targets if t["type"] == "page" and "live.html" in t["url"]]
            if pages:
                return pages[0]["webSocketDebuggerUrl"]
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.1)
    raise SystemExit("chromium did not open the page")


async def drill() -> None:
    httpx.post(f"{BASE}/api/v1/auth/register/", json={"email": EMAIL, "password": PASSWORD})
    access = httpx.post(
        f"{BASE}/api/v1/auth/login/", json={"email": EMAIL, "password": PASSWORD}
    ).json()["access"]
    headers = {"Authorization": f"Bearer {access}"}

    async with websockets.connect(await page_target(), max_size=None) as devtools:
        tab = Tab(devtools)
        await tab.wait_for("document.readyState === 'complete'")
        await tab.evaluate(
            f"document.getElementById('email').value = {json.dumps(EMAIL)};"
            f"document.getElementById('password').value = {json.dumps(PASSWORD)};"
            "document.getElementById('login').requestSubmit(); true"
        )
        await tab.wait_for("document.getElementById('log').textContent.includes('connected')")
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
            state = await tab.wait_for(
                "document.getElementById('state').textContent === 'paused' && "
                "document.getElementById('log').textContent"
            )
            print("browser saw the command line's action:")
            print("  " + state.strip().replace("\n", "\n  "))


def main() -> int:
    data_dir = tempfile.mkdtemp(prefix="drill-data-")
    profile = tempfile.mkdtemp(prefix="drill-chromium-")
    server = start_service(data_dir)
    browser = start_chromium(profile)
    try:
        asyncio.run(drill())
        print("PASS: the browser tab and the command line see each other's actions live")
        return 0
    except (AssertionError, TimeoutError) as failure:
        print(f"FAIL: {failure!r}")
        return 1
    finally:
        browser.terminate()
        server.terminate()
        browser.wait(10)
        server.wait(10)
        shutil.rmtree(data_dir, ignore_errors=True)
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
