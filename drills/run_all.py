"""Runs every fault drill, one after another, each in its own process with its own
PostgreSQL and Redis; prints each drill's PASS/FAIL line and exits 1 if any failed.

    .venv/bin/python -m drills.run_all [redis_down postgres_restart server_kill worker_kill]

See docs/drills.md for what each drill shows.
"""

import subprocess
import sys
import time

DRILLS = ["redis_down", "postgres_restart", "server_kill", "worker_kill"]


def main(names: list[str]) -> int:
    results = {}
    for name in names or DRILLS:
        if name not in DRILLS:
            raise SystemExit(f"unknown drill {name!r}; choose from {', '.join(DRILLS)}")
        print(f"== {name}", flush=True)
        started = time.monotonic()
        # Servers log to files in the drill's folder; only the drill's own lines show here.
        finished = subprocess.run([sys.executable, "-m", f"drills.{name}"])
        results[name] = (finished.returncode == 0, time.monotonic() - started)
    print()
    for name, (passed, seconds) in results.items():
        print(f"{'PASS' if passed else 'FAIL'}  {name}  ({seconds:.0f} s)")
    return 0 if all(passed for passed, _ in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
