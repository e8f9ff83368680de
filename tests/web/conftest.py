"""The web app in a real browser: one server for the whole run (Daphne, HTTP and the
socket, plus the timer worker) on the test database, and Debian's Chromium driven by
Playwright. Tests create what they need through the app or the public API, and are
transactional, so the database is emptied after each."""

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import pytest
from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.backends.base.creation import TEST_DATABASE_PREFIX
from django.test.utils import setup_databases, teardown_databases
from playwright.sync_api import sync_playwright

from tests.events.socket_helpers import free_port, the_test_database_url

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
# Where the README's screenshots are written when SCREENSHOTS=1 (scripts/screenshots).
SCREENSHOTS_DIR = ROOT / "docs" / "screenshots"


def wait_for_health(base: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError("the server did not answer /healthz")


class Server:
    def __init__(self, base: str, mail_dir: Path):
        self.base, self.mail_dir = base, mail_dir

    def emails(self) -> list[str]:
        return [path.read_text() for path in sorted(self.mail_dir.glob("*.log"))]


@pytest.fixture(scope="session")
def web_database(django_db_setup, django_db_blocker):
    """The test database, migrated. pytest-django (since 4.11) creates only the databases
    the collected tests ask for (`db`, `transactional_db`, the django_db marker); these
    tests reach the database through the server alone and ask for none, so when they run
    by themselves it is created here, and dropped after."""
    with django_db_blocker.unblock():
        created = not connection.settings_dict["NAME"].startswith(TEST_DATABASE_PREFIX)
        if created:
            config = setup_databases(verbosity=0, interactive=False, aliases={DEFAULT_DB_ALIAS})
    yield
    if created:
        with django_db_blocker.unblock():
            teardown_databases(config, verbosity=0)


@pytest.fixture(scope="session")
def web_server(web_database, django_db_blocker):
    """Daphne and the timer worker on the test database, the static files collected
    under hashed names as in production. Stopped when the run ends. Skipped, saying
    why, on a machine without Chromium (CI installs it, and fails on a skip)."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"needs Chromium at {CHROMIUM}: apt-get install chromium")
    work = Path(tempfile.mkdtemp(prefix="web-tests-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with django_db_blocker.unblock():
        url = the_test_database_url()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "pomodoro.settings.browser_test",
        "DATABASE_URL": url,
        "STATIC_ROOT": str(work / "static"),
        "EMAIL_FILE_PATH": str(work / "mail"),
        "WEBSOCKET_ALLOWED_ORIGINS": base,
        "WEB_APP_URL": base,
        "LOG_LEVEL": "WARNING",
    }
    python = sys.executable
    subprocess.run(
        [python, "manage.py", "collectstatic", "--no-input", "-v0"], cwd=ROOT, env=env, check=True
    )
    # Kept after the run (the temporary folder is not), for a failure to be read.
    log_path = Path(tempfile.gettempdir(), f"web-tests-server-{port}.log")
    asgi = ["-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "pomodoro.asgi:application"]
    with log_path.open("w") as log:
        processes = [
            subprocess.Popen(
                [python, *asgi], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            ),
            subprocess.Popen(
                [python, "manage.py", "run_timer_worker"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            ),
        ]
        try:
            wait_for_health(base, processes[0])
            yield Server(base, work / "mail")
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
        shutil.rmtree(work, ignore_errors=True)


@pytest.fixture(scope="package")
def browser():
    """Debian's Chromium (Playwright's own download cannot reach the network here), for
    this package's tests only: Playwright's synchronous API keeps an event loop running
    in this thread while it is open, which other tests' asyncio.run() would trip on."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM)
        yield chromium
        chromium.close()


def empty_the_database(django_db_blocker) -> None:
    """What a transactional test does after it (flush), from a thread of its own: in this
    one Playwright's loop runs, and Django refuses blocking database calls beside it."""

    def flush():
        try:
            call_command("flush", interactive=False, verbosity=0)
        finally:
            connections.close_all()

    with django_db_blocker.unblock():
        worker = threading.Thread(target=flush)
        worker.start()
        worker.join()


# Every page records what the Content-Security-Policy refused; a test fails on any.
RECORD_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  const where = location.pathname;
  window.reportCspViolation(`${where}: ${event.effectiveDirective} ${event.blockedURI}`);
});
"""


@pytest.fixture
def web(web_server, browser, django_db_blocker):
    """New browser contexts on the server (`web.context()`), closed after the test; no
    page may have met a refusal of the Content-Security-Policy. The tests write only
    through the server; the database is emptied after each, as after a transactional
    test."""
    contexts = []
    violations: list[str] = []

    class Web:
        base = web_server.base
        server = web_server

        def context(self, **options):
            context = browser.new_context(base_url=web_server.base, **options)
            context.set_default_timeout(10_000)
            context.expose_function("reportCspViolation", lambda text: violations.append(text))
            context.add_init_script(RECORD_CSP_VIOLATIONS)
            contexts.append(context)
            return context

    yield Web()
    for context in contexts:
        context.close()
    empty_the_database(django_db_blocker)
    assert violations == []
