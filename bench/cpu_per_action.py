"""CPU milliseconds per timer action, in process, and where they go.

    .venv/bin/python -m bench.cpu_per_action [--iterations 300] [--json bench/out/cpu.json]

Production settings on PostgreSQL and Redis, as scripts/bench sets them (the same
variables, each taken from the environment when it is set). Every request goes through
the WSGI application gunicorn calls (Django's handler, every middleware, the real
URLconf, DRF), with no HTTP server and no load generator, so nothing here depends on
where the code behind the public API lives. The user is registered through the API.

Measures, after a warm-up and with the start-up objects frozen out of the garbage
collector's reach as gunicorn.conf.py does: the CPU time of the process
(time.process_time: every thread, so the publisher thread's sends after commit count
too) and the wall time of each create, pause, start, stop and GET me/, over
--iterations cycles; the SQL statements each sends (authentication, BEGIN and COMMIT
included). Then profiles --profile-iterations pause/start pairs with cProfile on this
thread's CPU clock and prints the top entries by cumulative and by own time, and the
share of the action's CPU in the parts the issue named (authentication, serializers,
ORM compilation, the driver, middleware...). The profile is written to
<out>/cpu_pause_start.prof (read it with `python -m pstats` or snakeviz).
"""

import argparse
import cProfile
import gc
import io
import json
import os
import pstats
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bench import profile_parts

# scripts/bench's environment, for a run on its own.
BENCH_ENVIRONMENT = {
    "DJANGO_ENV": "production",
    "DEBUG": "false",
    "SECURE_SSL_REDIRECT": "false",
    "ALLOWED_HOSTS": "127.0.0.1",
    "SECRET_KEY": "bench-secret-key-bench-secret-key-bench-secret-key-0123456789",
    "JWT_SIGNING_KEY": "bench-jwt-signing-key-0123456789",
    "JWT_ACCESS_TOKEN_MINUTES": "60",
    "LOG_LEVEL": "WARNING",
    "RATE_LIMITS_ENABLED": "false",
    "METRICS_INTERNAL_ONLY": "true",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/"
    + os.environ.get("BENCH_DB", "pomodoro_bench"),
    "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9"),
}

ACTIONS = ("create", "pause", "start", "stop", "me")
# The lean reference's cycle (bench/reference/), measured alike: the floor for the same
# middleware, JWT and transaction.
REFERENCE = "/bench/reference/sessions/"
REFERENCE_ACTIONS = tuple(f"reference {action}" for action in ACTIONS[:4])


def configure() -> None:
    for name, value in BENCH_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    # gunicorn.conf.py keeps every worker's metrics in files; so does this process.
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="bench-metrics-"))
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from pomodoro.env import use_settings_from_environment

    # Production settings plus the reference's route, as the timer benchmark serves them.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.reference.settings")
    use_settings_from_environment()


class Wsgi:
    """Calls the WSGI application as gunicorn's sync worker does, one request at a time."""

    def __init__(self, application, token: str | None = None):
        self.application = application
        self.token = token

    def environ(self, method: str, path: str, body: bytes) -> dict:
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "127.0.0.1",
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": False,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
        if body:
            environ["CONTENT_TYPE"] = "application/json"
        if self.token:
            environ["HTTP_AUTHORIZATION"] = f"Bearer {self.token}"
        return environ

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, bytes]:
        """One request; answers (status, body). Everything up to the response's close
        (which ends the request: connections back to the pool, request_finished) is
        what a worker spends; parsing the body afterwards is the client's."""
        environ = self.environ(method, path, b"" if body is None else json.dumps(body).encode())
        status = []
        result = self.application(environ, lambda s, headers, exc_info=None: status.append(s))
        try:
            content = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        return int(status[0].split()[0]), content

    def expect(self, expected: int, method: str, path: str, body: dict | None = None) -> dict:
        code, content = self.call(method, path, body)
        if code != expected:
            raise SystemExit(f"{method} {path}: {code} (expected {expected}): {content[:300]!r}")
        return json.loads(content) if content else {}


def register(application) -> str:
    anonymous = Wsgi(application)
    answer = anonymous.expect(
        201,
        "POST",
        "/api/v1/auth/register/",
        {"email": f"cpu-{uuid.uuid4().hex[:12]}@example.com", "password": "bench passphrase 1"},
    )
    return answer["access"]


def one_cycle(client: Wsgi, measure) -> None:
    """create -> pause -> start -> stop, then GET me/; `measure(action, call)` runs each."""
    session = measure("create", lambda: client.expect(201, "POST", "/api/v1/sessions/", {}))
    for action in ("pause", "start", "stop"):
        measure(
            action,
            lambda action=action: client.expect(
                200, "POST", f"/api/v1/sessions/{session['id']}/{action}/"
            ),
        )
    measure("me", lambda: client.expect(200, "GET", "/api/v1/me/"))
    session = measure(
        "reference create", lambda: client.expect(201, "POST", REFERENCE, {"kind": "focus"})
    )
    for action in ("pause", "start", "stop"):
        measure(
            f"reference {action}",
            lambda action=action: client.expect(
                200, "POST", f"{REFERENCE}{session['id']}/{action}/"
            ),
        )


def timed(iterations: int, client: Wsgi) -> dict:
    cpu: dict[str, list[float]] = {action: [] for action in ACTIONS + REFERENCE_ACTIONS}
    wall: dict[str, list[float]] = {action: [] for action in ACTIONS + REFERENCE_ACTIONS}

    def measure(action, call):
        wall_start, cpu_start = time.perf_counter(), time.process_time()
        answer = call()
        cpu[action].append(time.process_time() - cpu_start)
        wall[action].append(time.perf_counter() - wall_start)
        return answer

    for _ in range(iterations):
        one_cycle(client, measure)
    return {
        action: {
            "cpu_ms_mean": round(statistics.fmean(cpu[action]) * 1000, 3),
            "cpu_ms_median": round(statistics.median(cpu[action]) * 1000, 3),
            "wall_ms_mean": round(statistics.fmean(wall[action]) * 1000, 3),
            "wall_ms_median": round(statistics.median(wall[action]) * 1000, 3),
            "count": len(cpu[action]),
        }
        for action in ACTIONS + REFERENCE_ACTIONS
    }


def statements(client: Wsgi) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = {}

    def measure(action, call):
        with CaptureQueriesContext(connection) as queries:
            answer = call()
        counts[action] = len(queries)
        return answer

    one_cycle(client, measure)
    return counts


def profile(client: Wsgi, pairs: int, out: Path, clock: str) -> pstats.Stats:
    """Profiles `pairs` pause/start pairs. On the wall clock (the default: cProfile's own,
    cheap to read) waits on PostgreSQL show as psycopg's Connection.wait; on this
    thread's CPU clock they do not, but reading that clock costs a system call per
    function call, which inflates call-heavy code far more."""
    session = client.expect(201, "POST", "/api/v1/sessions/", {})
    path = f"/api/v1/sessions/{session['id']}/"
    profiler = cProfile.Profile(time.thread_time) if clock == "cpu" else cProfile.Profile()
    for _ in range(pairs):
        profiler.enable()
        client.call("POST", path + "pause/")
        client.call("POST", path + "start/")
        profiler.disable()
    client.expect(200, "POST", path + "stop/")
    out.mkdir(parents=True, exist_ok=True)
    profiler.dump_stats(out / "cpu_pause_start.prof")
    return pstats.Stats(profiler, stream=sys.stdout)


def pyspy_sample(client: Wsgi, pairs: int, out: Path) -> Path | None:
    """Samples `pairs` pause/start pairs with py-spy attached to this process (no
    cProfile running): the unbiased breakdown. None when py-spy is not installed or
    cannot attach (it needs ptrace)."""
    pyspy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(pyspy).exists():
        return None
    raw = out / "pyspy_pause_start.txt"
    raw.unlink(missing_ok=True)
    sampler = subprocess.Popen(
        [pyspy, "record", "--pid", str(os.getpid()), *profile_parts.PYSPY_OPTIONS, "-o", str(raw)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(2)  # attached and sampling
    if sampler.poll() is not None:
        print(f"py-spy could not sample: {sampler.stderr.read().strip()}", file=sys.stderr)
        return None
    session = client.expect(201, "POST", "/api/v1/sessions/", {})
    path = f"/api/v1/sessions/{session['id']}/"
    for _ in range(pairs):
        client.call("POST", path + "pause/")
        client.call("POST", path + "start/")
    client.expect(200, "POST", path + "stop/")
    sampler.send_signal(signal.SIGINT)
    sampler.wait(timeout=60)
    return raw if raw.exists() else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=300, help="measured cycles")
    parser.add_argument("--warmup", type=int, default=30, help="cycles before measuring")
    parser.add_argument("--profile-iterations", type=int, default=200, help="pause/start pairs")
    parser.add_argument(
        "--pyspy-pairs", type=int, default=400, help="pause/start pairs sampled by py-spy; 0: none"
    )
    parser.add_argument("--profile-clock", choices=("wall", "cpu"), default="wall")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--out", default=os.environ.get("BENCH_OUT", "bench/out"))
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()

    configure()
    from django.core.wsgi import get_wsgi_application

    application = get_wsgi_application()
    client = Wsgi(application, register(application))
    timed(args.warmup, client)
    gc.collect()
    gc.freeze()  # as gunicorn.conf.py's post_worker_init does in each worker

    figures = timed(args.iterations, client)
    counts = statements(client)
    # Load from elsewhere on a shared machine moves every figure; the ratio to GET me/
    # (authentication and middleware, one statement) moves far less.
    for f in figures.values():
        f["cpu_vs_me"] = round(f["cpu_ms_mean"] / figures["me"]["cpu_ms_mean"], 2)
    stats = profile(client, args.profile_iterations, Path(args.out), args.profile_clock)
    shares = profile_parts.from_pstats(stats, 2 * args.profile_iterations)
    raw = pyspy_sample(client, args.pyspy_pairs, Path(args.out)) if args.pyspy_pairs else None
    sampled = profile_parts.from_pyspy([str(raw)]) if raw else None

    print(f"CPU per action, in process, {args.iterations} cycles after {args.warmup} of warm-up")
    print(
        f"{'action (ms)':18} {'CPU mean':>9} {'median':>8} {'wall mean':>10} {'median':>8}"
        f" {'SQL':>4}"
    )
    for action, f in figures.items():
        print(
            f"{action:18} {f['cpu_ms_mean']:9.2f} {f['cpu_ms_median']:8.2f} "
            f"{f['wall_ms_mean']:10.2f} {f['wall_ms_median']:8.2f} {counts.get(action, ''):>4} "
            f"{f['cpu_ms_mean'] / figures['me']['cpu_ms_mean']:9.2f}"
        )
    print()
    print(
        profile_parts.describe(
            shares,
            f"cProfile ({args.profile_clock} clock) of {args.profile_iterations} pause/start "
            "pairs, per action "
            f"({shares['ms_per_action']:.2f} ms profiled; the profiler's cost per call "
            "inflates call-heavy code):",
        )
    )
    if sampled:
        print()
        print(
            profile_parts.describe(
                sampled,
                f"py-spy, {args.pyspy_pairs} pause/start pairs without cProfile, "
                f"{sampled['samples']} samples inside requests (shares of CPU):",
            )
        )
    stats.strip_dirs()
    for order in ("cumulative", "tottime"):
        print(f"\nTop {args.top} by {order}:")
        stats.sort_stats(order).print_stats(args.top)
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "iterations": args.iterations,
                    "per_action": figures,
                    "statements": counts,
                    "profile_pairs": args.profile_iterations,
                    "profile_parts": shares,
                    "pyspy_parts": sampled,
                }
            )
        )


if __name__ == "__main__":
    main()
