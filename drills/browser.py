"""What the browser drills share: the service on embedded defaults (runserver, a
temporary data folder) and headless Chromium driven over the DevTools protocol.

Unlike drills/harness.py this needs no PostgreSQL or Redis of its own: the service runs
on an embedded PostgreSQL (pomodoro/embedded_db.py) and the in-memory channel layer, as
`./scripts/run` does on a laptop.
Everything started is stopped, and its folder removed, when its `with` block ends.
"""

import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import websockets

from pomodoro import embedded_db

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")


@contextlib.contextmanager
def running_service(
    port: int, *, env: dict | None = None, superuser: tuple[str, str] | None = None
) -> Iterator[str]:
    """The service under runserver on 127.0.0.1:`port`, migrated, in a fresh data
    folder; `superuser` (email, password) is created first. Answers its base URL once
    /healthz answers 200."""
    base = f"http://127.0.0.1:{port}"
    data_dir = tempfile.mkdtemp(prefix="drill-data-")
    database = Path(data_dir) / "postgres"
    service_env = {**os.environ, "DATA_DIR": data_dir, "DJANGO_ENV": "development", **(env or {})}
    # Embedded defaults: whatever the calling shell points at is not this service's.
    for name in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"):
        service_env.pop(name, None)
    server = None
    try:
        service_env["DATABASE_URL"] = embedded_db.start(database, throwaway=True)
        subprocess.run(
            [PYTHON, "manage.py", "migrate", "-v0"], cwd=ROOT, env=service_env, check=True
        )
        if superuser:
            email, password = superuser
            subprocess.run(
                [PYTHON, "manage.py", "createsuperuser", "--no-input", "--email", email],
                cwd=ROOT,
                env={**service_env, "DJANGO_SUPERUSER_PASSWORD": password},
                check=True,
                stdout=subprocess.DEVNULL,
            )
        server = subprocess.Popen(
            [PYTHON, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=ROOT,
            env=service_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_health(base, server)
        yield base
    finally:
        if server is not None:
            server.terminate()
            server.wait(10)
        embedded_db.stop(database)
        shutil.rmtree(data_dir, ignore_errors=True)


def wait_for_health(base: str, server: subprocess.Popen, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and server.poll() is None:
        try:
            if httpx.get(f"{base}/healthz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise SystemExit("the service did not start")


@contextlib.contextmanager
def running_chromium(debug_port: int, url: str = "about:blank") -> Iterator[None]:
    """Headless Chromium with a fresh profile, showing `url`, its DevTools protocol on
    127.0.0.1:`debug_port`."""
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        raise SystemExit("chromium not found: apt-get install chromium")
    profile = tempfile.mkdtemp(prefix="drill-chromium-")
    browser = subprocess.Popen(
        [
            binary,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            # Everything is plain HTTP on 127.0.0.1: nothing to try QUIC on.
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            f"--remote-debugging-port={debug_port}",
            url,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        browser.terminate()
        browser.wait(10)
        shutil.rmtree(profile, ignore_errors=True)


class Tab:
    """One page, driven over the Chrome DevTools protocol; `base` is the service's URL,
    the one `open` paths are relative to."""

    def __init__(self, socket, base: str):
        self.socket, self.base, self.next_id = socket, base, 0

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

    async def wait_for(self, expression: str, timeout: float = 15.0):
        """The expression's first truthy value, polled; None if it has none in time."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = await self.evaluate(expression)
            if value:
                return value
            await asyncio.sleep(0.1)
        return None

    async def expect(self, expression: str, timeout: float = 10.0):
        """`wait_for`, failing the drill (AssertionError) if the page never gets there."""
        value = await self.wait_for(expression, timeout)
        if not value:
            raise AssertionError(f"the page never satisfied: {expression}")
        return value

    async def submit_form(self, form_id: str, values: dict[str, str]) -> None:
        """Fills the form's fields (by element id) and submits it, as a person would:
        the page's own handlers and the browser's policy apply."""
        fill = "".join(
            f"document.getElementById({json.dumps(field)}).value = {json.dumps(value)};"
            for field, value in values.items()
        )
        await self.evaluate(
            fill + f"document.getElementById({json.dumps(form_id)}).requestSubmit(); true"
        )

    async def open(self, path: str) -> None:
        await self.call("Page.navigate", url=self.base + path)
        await self.wait_for(f"location.pathname === {json.dumps(path)}")
        await self.wait_for("document.readyState === 'complete'")


@contextlib.asynccontextmanager
async def open_tab(debug_port: int, base: str, url_contains: str = "") -> AsyncIterator[Tab]:
    """The first page of the running Chromium whose URL contains `url_contains`."""
    async with websockets.connect(
        await page_target(debug_port, url_contains), max_size=None
    ) as devtools:
        yield Tab(devtools, base)


async def page_target(debug_port: int, url_contains: str = "") -> str:
    for _ in range(100):
        try:
            targets = httpx.get(f"http://127.0.0.1:{debug_port}/json").json()
            pages = [
                target
                for target in targets
                if target["type"] == "page" and url_contains in target["url"]
            ]
            if pages:
                return pages[0]["webSocketDebuggerUrl"]
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.1)
    raise SystemExit(f"chromium did not open a page{f' at {url_contains}' if url_contains else ''}")
