"""Drill: every page the service serves works in a real browser under its
Content-Security-Policy.

Starts the service on embedded defaults in a temporary data folder with a staff
account, and opens each page in headless Chromium driven over the DevTools protocol:
Swagger UI, Redoc, the admin (logged in through its own login form), the browsable API
and the demo page. On each it records every `securitypolicyviolation` event from the
first script on, and waits until the page has drawn what it is for (the operations of
the schema, the admin's forms). Prints what it saw; exits 1 on a violation or a page
that never drew. (The demo's WebSocket under the policy: drills/browser_live.py.)

    .venv/bin/python drills/browser_csp.py     (needs: apt-get install chromium)
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
PORT = int(os.environ.get("DRILL_PORT", "8793"))
DEBUG_PORT = int(os.environ.get("DRILL_DEBUG_PORT", "9335"))
BASE = f"http://127.0.0.1:{PORT}"
EMAIL, PASSWORD = "staff@example.com", "a sturdy passphrase 42"

# Blocked on purpose: Redoc's footer links a logo on its makers' site; the docs load
# nothing from outside (tests/test_operations.py), so the image is refused.
EXPECTED_BLOCKS = {("img-src", "https://cdn.redoc.ly/redoc/logo-mini.svg")}

RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations.push(
    {directive: event.effectiveDirective, blocked: event.blockedURI, sample: event.sample,
     source: `${event.sourceFile}:${event.lineNumber}:${event.columnNumber}`});
});
"""

# (path, what shows the page has drawn what it is for)
PAGES = [
    ("/api/docs/", "document.querySelectorAll('.opblock').length > 20"),
    ("/api/redoc/", "document.querySelectorAll('[data-section-id]').length > 20"),
    ("/admin/login/", "!!document.querySelector('#login-form')"),
    ("/api-auth/login/", "!!document.querySelector('form')"),
    ("/static/demo/live.html", "!!document.getElementById('login') && !!window.fetch"),
    # logged in from here on
    ("/admin/", "!!document.querySelector('#content-main')"),
    # the admin's own scripts ran (django.jQuery is defined by its jquery.init.js)
    (
        "/admin/accounts/user/",
        "!!window.django?.jQuery && !!document.querySelector('#action-toggle')",
    ),
    (
        "/admin/accounts/user/1/change/",
        "!!window.django?.jQuery && !!document.querySelector('#user_form')",
    ),
    (
        "/admin/accounts/user/add/",
        "!!window.django?.jQuery && !!document.querySelector('#user_form')",
    ),
    ("/api/v1/me/", "!!document.querySelector('.response-info')"),
]


def start_service(data_dir: str) -> subprocess.Popen:
    env = {**os.environ, "DATA_DIR": data_dir, "DJANGO_ENV": "development"}
    for name in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"):
        env.pop(name, None)
    python = str(ROOT / ".venv" / "bin" / "python")
    subprocess.run([python, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run(
        [python, "manage.py", "createsuperuser", "--no-input", "--email", EMAIL],
        cwd=ROOT,
        env={**env, "DJANGO_SUPERUSER_PASSWORD": PASSWORD},
        check=True,
        stdout=subprocess.DEVNULL,
    )
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
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            f"--remote-debugging-port={DEBUG_PORT}",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


class Tab:
    """One page, driven over the Chrome DevTools protocol."""

    def __init__(self, socket):
        self.socket, self.next_id = socket, 0

    async def call(self, method: str, **params):
        self.next_id += 1
        await self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            answer = json.loads(await self.socket.recv())
            if answer.get("id") == self.next_id:
                return answer.get("result", {})

    async def evaluate(self, expression: str):
        result = await self.call(
            "Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True
        )
        return result["result"].get("value")

    async def wait_for(self, expression: str, timeout: float = 15.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if await self.evaluate(expression):
                return True
            await asyncio.sleep(0.2)
        return False

    async def open(self, path: str) -> None:
        await self.call("Page.navigate", url=BASE + path)
        await self.wait_for(f"location.pathname === {json.dumps(path)}")
        await self.wait_for("document.readyState === 'complete'")


async def page_target() -> str:
    for _ in range(100):
        try:
            targets = httpx.get(f"http://127.0.0.1:{DEBUG_PORT}/json").json()
            pages = [target for target in targets if target["type"] == "page"]
            if pages:
                return pages[0]["webSocketDebuggerUrl"]
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.1)
    raise SystemExit("chromium did not start")


async def drill() -> list[str]:
    failures = []
    async with websockets.connect(await page_target(), max_size=None) as devtools:
        tab = Tab(devtools)
        await tab.call("Page.enable")
        await tab.call("Page.addScriptToEvaluateOnNewDocument", source=RECORD_VIOLATIONS)
        for path, drawn in PAGES:
            if path == "/admin/":
                # Log in as a person would: the admin's form, posted by the browser.
                await tab.open("/admin/login/")
                await tab.evaluate(
                    f"document.getElementById('id_username').value = {json.dumps(EMAIL)};"
                    f"document.getElementById('id_password').value = {json.dumps(PASSWORD)};"
                    "document.getElementById('login-form').requestSubmit(); true"
                )
                await tab.wait_for("location.pathname === '/admin/'")
            await tab.open(path)
            drew = await tab.wait_for(drawn)
            await asyncio.sleep(0.5)  # late scripts and workers
            violations = await tab.evaluate("window.cspViolations") or []
            unexpected = [
                violation
                for violation in violations
                if (violation["directive"], violation["blocked"]) not in EXPECTED_BLOCKS
            ]
            expected = len(violations) - len(unexpected)
            print(
                f"{path}: {'drawn' if drew else 'NOT DRAWN'}, "
                f"{len(unexpected)} violation(s)"
                + (f" (+{expected} expected: external image)" if expected else "")
            )
            for violation in unexpected:
                print(f"    {violation}")
            if not drew:
                failures.append(f"{path} never drew ({drawn})")
            if unexpected:
                failures.append(f"{path}: {unexpected}")
    return failures


def main() -> int:
    data_dir = tempfile.mkdtemp(prefix="drill-data-")
    profile = tempfile.mkdtemp(prefix="drill-chromium-")
    server = start_service(data_dir)
    browser = start_chromium(profile)
    try:
        failures = asyncio.run(drill())
    finally:
        browser.terminate()
        server.terminate()
        browser.wait(10)
        server.wait(10)
        shutil.rmtree(data_dir, ignore_errors=True)
        shutil.rmtree(profile, ignore_errors=True)
    if failures:
        print("FAIL: " + "; ".join(failures))
        return 1
    print("PASS: every page works under the Content-Security-Policy")
    return 0


if __name__ == "__main__":
    sys.exit(main())
