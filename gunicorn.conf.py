"""gunicorn's settings for the HTTP server; gunicorn reads ./gunicorn.conf.py by itself.

Metrics across workers (docs/operations.md#metrics): each gunicorn worker is its own
process with its own counters, and a scrape of /metrics reaches one of them at random.
prometheus_client's multiprocess mode keeps every worker's values in files in
PROMETHEUS_MULTIPROC_DIR, and /metrics adds them up. The variable must be set before
a worker imports prometheus_client, so it is set here, in the master, as this file is
read: to a new temporary directory unless the environment names one. A directory
named by the environment is emptied when the master starts (stale files would add
a previous run's counts), and a worker's live gauges are dropped when it exits.
"""

import os
import shutil
import tempfile
from pathlib import Path

if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="pomodoro-metrics-")
    _metrics_dir_is_new = True
else:
    _metrics_dir_is_new = False


def on_starting(server):
    directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    directory.mkdir(parents=True, exist_ok=True)
    if not _metrics_dir_is_new:
        for stale in directory.glob("*.db"):
            stale.unlink()
    server.log.info("metrics of all workers kept in %s", directory)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _metrics_dir_is_new:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)


def post_worker_init(worker):
    """Pays a worker's one-time costs before it takes its first request (importing every
    view, as the URLconf loads lazily, and opening its database pool: 40 to 60 ms more on
    each worker's first request without it), then freezes what the start-up allocated.

    gc.freeze() moves every object alive now (Django, DRF, the URLconf, the settings:
    hundreds of thousands) out of the collector's reach. Without it each full collection,
    every few hundred requests of a 200-member status board, walked all of them and
    added 60 to 80 ms to one request: the p99 of the team status and cold leaderboard
    benchmarks (docs/benchmarks.md, "Tails").
    """
    import gc

    from django.db import connection
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 (imports the views)
    try:
        connection.ensure_connection()
    except Exception as error:  # a database down at start-up is /readyz's to report
        worker.log.warning("database not reachable at worker start: %s", error)
    finally:
        connection.close()  # back to the pool
    gc.freeze()
