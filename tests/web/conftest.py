"""The web app in a real browser: one server for the whole run (Daphne, HTTP and the
socket, plus the timer worker) on the test database, and Debian's Chromium driven by
Playwright. Tests create what they need through the app or the public API, and are
transactional, so the database is emptied after each."""

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from tests.events.socket_helpers import free_port, the_test_database_url

# Playwright's synchronous API runs an event loop in this thread; the ORM calls pytest-
# django makes around a test (the flush after each) are still plain blocking calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

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
def web_server(django_db_setup, django_db_blocker):
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


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    # Debian's Chromium: Playwright's own download cannot reach the network here.
    return {**browser_type_launch_args, "executable_path": CHROMIUM}


# Every page records what the Content-Security-Policy refused; a test fails on any.
RECORD_CSP_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations.push(`${event.effectiveDirective} ${event.blockedURI}`);
});
"""


@pytest.fixture
def web(web_server, browser, transactional_db):
    """New browser contexts on the server (`web.context()`), closed after the test; no
    page may have met a refusal of the Content-Security-Policy."""
    contexts = []

    class Web:
        base = web_server.base
        server = web_server

        def context(self, **options):
            context = browser.new_context(base_url=web_server.base, **options)
            context.set_default_timeout(10_000)
            context.add_init_script(RECORD_CSP_VIOLATIONS)
            contexts.append(context)
            return context

    yield Web()
    violations = []
    for context in contexts:
        for page in context.pages:
            if not page.is_closed() and page.url.startswith(web_server.base):
                violations += page.evaluate("window.cspViolations || []")
        context.close()
    assert violations == []
