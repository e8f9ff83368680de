"""What the browser drills share: the service on embedded defaults (runserver, a
temporary data folder) and headless Chromium driven by Playwright.

Unlike drills/harness.py this needs no PostgreSQL or Redis of its own: the service runs
on an embedded PostgreSQL (pomodoro/embedded_db.py) and the in-memory channel layer, as
`./scripts/run` does on a laptop.
Everything started is stopped, and its folder removed, when its `with` block ends.
"""

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
from playwright.sync_api import Browser, sync_playwright

from pomodoro import embedded_db

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
CHROMIUM = "/usr/bin/chromium"


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
def chromium() -> Iterator[Browser]:
    """Headless Debian Chromium driven by Playwright (its own browser download cannot reach
    the network here, so it launches /usr/bin/chromium)."""
    if not Path(CHROMIUM).exists():
        raise SystemExit("chromium not found: apt-get install chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            yield browser
        finally:
            browser.close()
