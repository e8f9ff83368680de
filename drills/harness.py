"""What every fault drill needs: its own PostgreSQL and Redis, the service's real server
processes under production settings, an API client and the figures it prints.

Nothing here touches a shared database or Redis: PostgreSQL is a fresh cluster
(initdb) in a temporary folder on a free port, Redis a fresh redis-server on another,
so a drill may kill and restart them as it likes. Everything started is stopped at the
end, whatever happens (use `Drill` as a context manager).
"""

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import psycopg

from drills.invariants import violations

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def _newest_pg_bin() -> Path:
    """Debian's and PGDG's layout, /usr/lib/postgresql/<major>/bin: the newest major."""
    installed = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0,
    )
    return installed[-1] if installed else Path("/usr/lib/postgresql/15/bin")


PG_BIN = Path(os.environ.get("DRILL_PG_BIN") or _newest_pg_bin())
AS_POSTGRES = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def free_port(preferred: int) -> int:
    """`preferred` if nothing listens there, else any free port."""
    for port in (preferred, 0):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return probe.getsockname()[1]
    raise RuntimeError("no free port")


def wait_until(predicate, *, timeout: float, interval: float = 0.05, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


class Postgres:
    """A throwaway PostgreSQL cluster, trust authentication, on 127.0.0.1:`port`."""

    def __init__(self, workdir: Path, port: int):
        self.port = port
        self.home = workdir / "pg"
        self.data = self.home / "data"
        self.log = self.home / "postgres.log"
        self.home.mkdir()
        if AS_POSTGRES:
            shutil.chown(self.home, "postgres", "postgres")
        self._run(
            PG_BIN / "initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8",
            "--no-sync",
        )  # fmt: skip

    def _run(self, *command) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*AS_POSTGRES, *map(str, command)], check=True, capture_output=True, text=True
        )

    def _options(self) -> str:
        return f"-p {self.port} -k {self.home} -c listen_addresses=127.0.0.1 -c max_connections=200"

    def start(self) -> None:
        self._run(
            PG_BIN / "pg_ctl", "-D", self.data, "-l", self.log, "-o", self._options(), "-w", "start"
        )

    def restart(self, mode: str = "fast") -> None:
        """pg_ctl restart: every connection is cut; waits until it accepts connections."""
        self._run(
            PG_BIN / "pg_ctl", "-D", self.data, "-l", self.log, "-o", self._options(), "-m", mode,
            "-w", "restart",
        )  # fmt: skip

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run(PG_BIN / "pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")

    def url(self, database: str = "pomodoro") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str = "pomodoro") -> None:
        with psycopg.connect(self.url("postgres"), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')

    def connect(self, database: str = "pomodoro") -> psycopg.Connection:
        return psycopg.connect(self.url(database), autocommit=True)

    def ready(self) -> bool:
        try:
            with psycopg.connect(self.url("postgres"), connect_timeout=1) as connection:
                connection.execute("SELECT 1")
            return True
        except psycopg.OperationalError:
            return False


class Redis:
    """A throwaway redis-server with no persistence."""

    def __init__(self, workdir: Path, port: int):
        self.port = port
        self.home = workdir / "redis"
        self.home.mkdir()
        self.pidfile = self.home / "redis.pid"

    def start(self) -> None:
        subprocess.run(
            [
                "redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--daemonize", "yes", "--pidfile", str(self.pidfile),
                "--dir", str(self.home), "--logfile", str(self.home / "redis.log"),
            ],
            check=True,
        )  # fmt: skip
        wait_until(self.ready, timeout=10, what="redis to start")

    def pid(self) -> int | None:
        try:
            return int(self.pidfile.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None

    def kill(self) -> None:
        """kill -9: no shutdown, connections cut."""
        pid = self.pid()
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            wait_until(lambda: not self.ready(), timeout=10, what="redis to die")
            with contextlib.suppress(FileNotFoundError):
                self.pidfile.unlink()

    def ready(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as connection:
                connection.sendall(b"PING\r\n")
                return connection.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def url(self, index: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{index}"


class ServerProcess:
    """A server process of the service (gunicorn, uvicorn, the timer worker) in its own
    process group, logging to a file."""

    def __init__(self, name: str, command: list[str], env: dict, log: Path):
        self.name, self.command, self.env, self.log = name, command, env, log
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                self.command,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def children(self) -> list[int]:
        """Direct children (gunicorn's workers), from /proc."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # The second field may hold spaces: the parent pid is the 2nd field after ")".
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            if parent == self.pid:
                found.append(int(entry.name))
        return found

    def kill_group(self) -> None:
        """kill -9 of the process and everything it started."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self, timeout: float = 8) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill_group()

    def log_tail(self, lines: int = 30) -> str:
        with contextlib.suppress(FileNotFoundError):
            tail = self.log.read_text(errors="replace").splitlines()[-lines:]
            return "\n".join(line[:300] for line in tail)
        return ""


class Drill:
    """One drill's world: PostgreSQL, Redis, the service's settings, its processes.

    with Drill("redis_down") as drill:
        drill.start_gunicorn(); ...
    """

    def __init__(self, name: str, *, redis: bool = True, extra_env: dict | None = None):
        self.name = name
        self.workdir = Path(tempfile.mkdtemp(prefix=f"drill-{name}-"))
        os.chmod(self.workdir, 0o755)
        self.processes: list[ServerProcess] = []
        self.figures: dict = {}
        self.failures: list[str] = []
        self.use_redis = redis
        self.extra_env = extra_env or {}

    def __enter__(self) -> "Drill":
        try:
            self.pg = Postgres(self.workdir, free_port(55432))
            self.pg.start()
            self.pg.create_database()
            self.redis = Redis(self.workdir, free_port(56379)) if self.use_redis else None
            if self.redis:
                self.redis.start()
            self.env = self._service_env()
            subprocess.run(
                [str(VENV_BIN / "python"), "manage.py", "migrate", "-v0"],
                cwd=ROOT, env=self.env, check=True,
            )  # fmt: skip
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        for process in reversed(self.processes):
            process.stop()
        if getattr(self, "redis", None):
            self.redis.kill()
        if getattr(self, "pg", None):
            self.pg.stop()
        if os.environ.get("DRILL_KEEP") != "1":
            shutil.rmtree(self.workdir, ignore_errors=True)
        else:
            print(f"  (kept {self.workdir})")

    def _service_env(self) -> dict:
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL", "CI")
        }
        env.update(
            DJANGO_ENV="production",
            DEBUG="false",
            SECRET_KEY="drill-secret-key-drill-secret-key-drill-secret-key-0123456789",
            JWT_SIGNING_KEY="drill-jwt-signing-key-0123456789",
            SECURE_SSL_REDIRECT="false",
            METRICS_INTERNAL_ONLY="true",
            ALLOWED_HOSTS="127.0.0.1,localhost",
            JWT_ACCESS_TOKEN_MINUTES="60",
            LOG_LEVEL=os.environ.get("DRILL_LOG_LEVEL", "WARNING"),
            DATABASE_URL=self.pg.url(),
            PYTHONUNBUFFERED="1",
        )
        if self.redis:
            env["REDIS_URL"] = self.redis.url()
        env.update(self.extra_env)
        return env

    # --- The service's processes ---------------------------------------------------

    def _spawn(self, name: str, command: list[str], env: dict | None = None) -> ServerProcess:
        process = ServerProcess(
            name, command, {**self.env, **(env or {})}, self.workdir / f"{name}.log"
        )
        process.start()
        self.processes.append(process)
        return process

    def start_gunicorn(self, port: int, *, workers: int = 2, env: dict | None = None):
        process = self._spawn(
            f"gunicorn-{port}",
            [
                str(VENV_BIN / "gunicorn"), "pomodoro.wsgi:application", "-b", f"127.0.0.1:{port}",
                "-w", str(workers), "--log-level", "warning", "--graceful-timeout", "5",
            ],
            env,
        )  # fmt: skip
        self.wait_healthy(port, process)
        return process

    def start_uvicorn(self, port: int, *, env: dict | None = None):
        process = self._spawn(
            f"uvicorn-{port}",
            [
                str(VENV_BIN / "uvicorn"), "pomodoro.asgi:application", "--host", "127.0.0.1",
                "--port", str(port), "--no-access-log", "--timeout-graceful-shutdown", "5",
                "--log-level", "warning",
            ],
            env,
        )  # fmt: skip
        self.wait_healthy(port, process)
        return process

    def start_worker(self, *, name: str = "worker", batch: int = 200, env: dict | None = None):
        return self._spawn(
            name,
            [str(VENV_BIN / "python"), "manage.py", "run_timer_worker", "--batch", str(batch)],
            {"PGAPPNAME": name, **(env or {})},
        )

    def wait_healthy(self, port: int, process: ServerProcess, timeout: float = 30) -> None:
        def answering() -> bool:
            if process.process.poll() is not None:
                raise RuntimeError(f"{process.name} exited:\n{process.log_tail()}")
            try:
                return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(answering, timeout=timeout, interval=0.1, what=f"{process.name} to answer")

    # --- Checks and figures --------------------------------------------------------

    def check(self, condition: bool, what: str) -> bool:
        if not condition:
            self.failures.append(what)
            print(f"  check failed: {what}")
        return condition

    def check_invariants(self, database: psycopg.Connection) -> bool:
        """Every rule of drills/invariants.py, checked on `database` (one check, listing
        what broke)."""
        broken = violations(database.cursor())
        return self.check(not broken, f"invariants hold: {broken}")

    def report(self) -> bool:
        """Prints the PASS/FAIL line with the figures; answers whether it passed."""
        passed = not self.failures
        figures = json.dumps(self.figures, default=str)
        print(f"{'PASS' if passed else 'FAIL'} {self.name} {figures}")
        for failure in self.failures:
            print(f"  - {failure}")
        if not passed:
            for process in self.processes:
                print(f"  --- {process.name} log tail ---\n{process.log_tail()}")
        return passed


# --- API client pieces ---------------------------------------------------------------


def guest_token(base_url: str) -> str:
    """A fresh guest account's access token (no password hashing: cheap to make many)."""
    answer = httpx.post(f"{base_url}/api/v1/auth/guest/", timeout=30)
    answer.raise_for_status()
    return answer.json()["access"]


def new_key() -> str:
    return uuid.uuid4().hex


def is_problem(response: httpx.Response, status: int, code: str) -> bool:
    return (
        response.status_code == status
        and response.headers.get("content-type", "").startswith("application/problem+json")
        and response.json().get("code") == code
    )
