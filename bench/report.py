"""Writes bench/out/report.md from the parts' JSON files, with targets and the ratios to
the physical references (pgbench for the timer transaction, redis-benchmark for
publishing), and prints it.

    .venv/bin/python -m bench.report bench/out

A part whose file is missing is left out; a file older than this run (`run.json`) is
marked as coming from an earlier run.
"""

import datetime
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

# The targets of the issues (docs/benchmarks.md).
TIMER_SHARE_OF_PGBENCH = 0.5
TIMER_SHARE_OF_REFERENCE = 0.6  # issue 11, at 16 clients through gunicorn sync
TIMER_P99_MS = 50
FANOUT_P99_MS = 100
FANOUT_MB_PER_1000_SOCKETS = 150


def met(ok: bool) -> str:
    return "met" if ok else "**missed**"


def number(value, digits: int = 1) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, int | float):
        return f"{value:,.{digits}f}"
    return str(value)


def table(header: list[str], rows: list[list]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return [*lines, ""]


class Report:
    def __init__(self, out: Path):
        self.out = out
        self.run = self.load("run.json") or {}
        self.started = self.run.get("started_at")
        self.lines: list[str] = []

    def load(self, name: str):
        path = self.out / name
        if not path.exists():
            return None
        text = path.read_text().strip()
        if not text:
            return None
        if name == "timer.json":
            return [json.loads(line) for line in text.splitlines()]
        return json.loads(text)

    def heading(self, title: str, name: str) -> None:
        self.lines.append(f"## {title}")
        self.lines.append("")
        written = datetime.datetime.fromtimestamp((self.out / name).stat().st_mtime, datetime.UTC)
        if self.started and written < datetime.datetime.fromisoformat(self.started):
            self.lines += [f"*From an earlier run ({written:%Y-%m-%d %H:%M} UTC).*", ""]

    # --- Parts ---------------------------------------------------------------------

    def machine(self) -> None:
        def command(*args: str) -> str:
            try:
                return subprocess.run(args, capture_output=True, text=True).stdout.strip()
            except OSError:
                return "n/a"

        cpu = "n/a"
        if os.path.exists("/proc/cpuinfo"):
            models = [
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ]
            cpu = models[0] if models else "n/a"
        memory = "n/a"
        if os.path.exists("/proc/meminfo"):
            total_kb = int(Path("/proc/meminfo").read_text().split()[1])
            memory = f"{total_kb / 1024 / 1024:.0f} GiB"
        postgres = command(
            "psql", "-h", "127.0.0.1", "-U", "postgres", "-tAc", "SHOW server_version", "postgres"
        )
        redis = command("redis-cli", "INFO", "server")
        redis = next(
            (line.split(":")[1] for line in redis.splitlines() if line.startswith("redis_version")),
            "n/a",
        )
        commit = command("git", "rev-parse", "--short", "HEAD") or "n/a"
        start_load = self.run.get("loadavg_at_start")
        self.lines += [
            "# Benchmark report",
            "",
            f"Run started {self.started or 'n/a'} ({self.run.get('mode', 'n/a')}), "
            f"report written {datetime.datetime.now(datetime.UTC):%Y-%m-%dT%H:%M:%S}+00:00, "
            f"commit {commit}.",
            "",
            f"Machine: {os.cpu_count()} cores ({cpu}), {memory}, {platform.system()} "
            f"{platform.release()}; PostgreSQL {postgres.split()[0] if postgres else 'n/a'}, "
            f"Redis {redis}. Load average at the start "
            f"{', '.join(f'{x:.2f}' for x in start_load) if start_load else 'n/a'}, "
            f"now {', '.join(f'{x:.2f}' for x in os.getloadavg())}: the load generator, "
            "the servers, PostgreSQL and Redis share these cores, and anything else running "
            "shows in the tails.",
            "",
        ]

    def timer(self) -> None:
        runs, pgbench = self.load("timer.json"), self.load("pgbench.json")
        if not runs:
            return
        self.heading("Timer actions", "timer.json")
        raw = pgbench["tps"] if pgbench else None
        rows = []
        for run in runs:
            r = run["result"]
            # The pgbench rounds of the same run when there were some, else the pgbench part.
            same_run = r.get("pgbench", {}).get("tps")
            share = r["throughput_rps"] / (same_run or raw) if (same_run or raw) else None
            reference = r.get("reference")
            rows.append(
                [
                    run["server"],
                    number(r["throughput_rps"]),
                    number(r["p50_ms"]),
                    number(r["p99_ms"]),
                    r["errors"],
                    f"{r['share_of_reference']:.1%}" if "share_of_reference" in r else "n/a",
                    f"{share:.1%}" if share is not None else "n/a",
                ]
            )
            if reference:
                rows.append(
                    [
                        f"{run['server']}: lean reference",
                        number(reference["throughput_rps"]),
                        number(reference["p50_ms"]),
                        number(reference["p99_ms"]),
                        reference["errors"],
                        "100%",
                        f"{reference['throughput_rps'] / same_run:.1%}" if same_run else "n/a",
                    ]
                )
            if same_run:
                rows.append(
                    [
                        f"{run['server']}: pgbench rounds of the same run",
                        f"{number(same_run)} tps",
                        f"avg {number(r['pgbench']['latency_avg_ms'])}",
                        "",
                        "",
                        "",
                        "100%",
                    ]
                )
        if pgbench:
            rows.append(
                [
                    "pgbench part, same transaction",
                    f"{number(raw)} tps",
                    f"avg {number(pgbench['latency_avg_ms'])}",
                    "",
                    "",
                    "",
                    "",
                ]
            )
        if pgbench and pgbench.get("with_rollup_upsert_tps"):
            rollup = pgbench["with_rollup_upsert_tps"]
            rows.append(
                [
                    "pgbench part, same + a daily-rollup upsert",
                    f"{number(rollup)} tps",
                    "",
                    "",
                    "",
                    "",
                    f"{rollup / raw:.0%} of the part's plain rate",
                ]
            )
        clients = runs[0]["result"]["clients"]
        self.lines += [f"{clients} concurrent clients, {runs[0]['result']['seconds']} s each.", ""]
        self.lines += table(
            [
                "set-up",
                "requests/s",
                "p50 ms",
                "p99 ms",
                "errors",
                "share of reference",
                "share of pgbench",
            ],
            rows,
        )
        best = max(runs, key=lambda run: run["result"]["throughput_rps"])["result"]
        sync = next((run["result"] for run in runs if run["server"] == "gunicorn-sync"), best)
        if raw:
            self.lines += [
                f"Target: service at least {TIMER_SHARE_OF_PGBENCH:.0%} of pgbench: "
                f"{met(best['throughput_rps'] / raw >= TIMER_SHARE_OF_PGBENCH)} "
                f"(best {best['throughput_rps'] / raw:.1%}); p99 under {TIMER_P99_MS} ms "
                f"(production set-up, gunicorn sync): {met(sync['p99_ms'] < TIMER_P99_MS)} "
                f"({number(sync['p99_ms'])} ms).",
                "",
            ]
        if "share_of_reference" in sync:
            self.lines += [
                f"Target (issue 11): gunicorn sync at least {TIMER_SHARE_OF_REFERENCE:.0%} of the "
                f"lean reference's rate in the same run: "
                f"{met(sync['share_of_reference'] >= TIMER_SHARE_OF_REFERENCE)} "
                f"({sync['share_of_reference']:.1%}), p99 under {TIMER_P99_MS} ms: "
                f"{met(sync['p99_ms'] < TIMER_P99_MS)} ({number(sync['p99_ms'])} ms).",
                "",
            ]
        statements = self.load("statements.json")
        if statements:
            self.lines += [
                "SQL statements per action (authentication, BEGIN and COMMIT included): "
                + ", ".join(f"{action} {count}" for action, count in statements.items())
                + " (pgbench: 6).",
                "",
            ]

    def cpu(self) -> None:
        c = self.load("cpu.json")
        if not c:
            return
        self.heading("CPU per action, in process", "cpu.json")
        self.lines += [
            f"Production settings on PostgreSQL, through the WSGI application, "
            f"{c['iterations']} cycles after a warm-up (`bench/cpu_per_action.py`; its full "
            "output with the cProfile tables is `cpu.txt`).",
            "",
        ]
        self.lines += table(
            [
                "action",
                "CPU ms mean",
                "CPU ms median",
                "CPU as a multiple of GET me/",
                "wall ms mean",
                "SQL statements",
            ],
            [
                [
                    action,
                    number(f["cpu_ms_mean"], 2),
                    number(f["cpu_ms_median"], 2),
                    number(f.get("cpu_vs_me"), 2),
                    number(f["wall_ms_mean"], 2),
                    c["statements"].get(action, ""),
                ]
                for action, f in c["per_action"].items()
            ],
        )
        for key, title in (
            ("pyspy_parts", "Where a pause or start's CPU goes (py-spy, in process)"),
            ("gunicorn", "Where the timer cycle's CPU goes in gunicorn's workers (py-spy)"),
        ):
            parts = c.get(key) if key != "gunicorn" else self.load("pyspy_gunicorn.json")
            if not parts:
                continue
            self.lines += [f"{title}, {parts['samples']} samples:", ""]
            self.lines += table(
                ["part", "share of the request's CPU"],
                [[row["part"], f"{row['share']:.1%}"] for row in parts["parts"]],
            )

    def publish(self) -> None:
        p = self.load("publish.json")
        if not p:
            return
        self.heading("Publishing events (physical reference: redis-benchmark)", "publish.json")
        one, many = p["redis_benchmark_1_connection"], p["redis_benchmark_16_connections"]
        rows = [
            [
                "`events.publish` publisher thread (one process)",
                number(p["through_publisher"]["per_s"], 0),
                f"{p['publisher_share_of_raw_1_connection']:.1%}",
            ],
            [
                "channel layer `group_send`, awaited one by one",
                number(p["group_send"]["per_s"], 0),
                f"{p['group_send_share_of_raw_1_connection']:.1%}",
            ],
            [
                f"redis-benchmark PUBLISH, 1 connection (p99 {one['p99_ms']} ms)",
                number(one["per_s"], 0),
                "100%",
            ],
            [
                f"redis-benchmark PUBLISH, 16 connections (p99 {many['p99_ms']} ms)",
                number(many["per_s"], 0),
                f"{many['per_s'] / one['per_s']:.0%}",
            ],
        ]
        self.lines += [
            f"Messages of {p['payload_bytes']} bytes (a serialized event message) to groups "
            "with no subscriber: the publishing side of the fan-out.",
            "",
        ]
        self.lines += table(["path", "messages/s", "share of 1-connection PUBLISH"], rows)
        sent = p["through_publisher"].get("sent")
        if sent is not None and sent != p["through_publisher"]["messages"]:
            self.lines += [
                f"**{p['through_publisher']['messages'] - sent} broadcasts failed.**",
                "",
            ]

    def fanout(self) -> None:
        f = self.load("fanout.json")
        if not f:
            return
        self.heading("Fan-out", "fanout.json")
        rows = [
            ["sockets (2 uvicorn processes, one Redis)", number(f["sockets"], 0), ""],
            ["actions", number(f["actions"], 0), ""],
            ["events delivered", number(f["events_delivered"], 0), ""],
            ["commit to receipt, p50 ms", number(f["p50_ms"]), ""],
            [
                "commit to receipt, p99 ms",
                number(f["p99_ms"]),
                f"under {FANOUT_P99_MS}: {met(f['p99_ms'] < FANOUT_P99_MS)}",
            ],
            ["commit to receipt, max ms", number(f["max_ms"]), ""],
            [
                "lost / duplicated / out of order",
                f"{f['lost']} / {f['duplicated']} / {f['out_of_order']}",
                f"none lost or duplicated: {met(f['lost'] == 0 and f['duplicated'] == 0)}",
            ],
            [
                "server MB per 1,000 idle sockets",
                number(f["server_mb_per_1000_idle_sockets"]),
                f"under {FANOUT_MB_PER_1000_SOCKETS}: "
                f"{met(f['server_mb_per_1000_idle_sockets'] < FANOUT_MB_PER_1000_SOCKETS)}",
            ],
        ]
        self.lines += table(["measure", "result", "target"], rows)

    def analytics(self) -> None:
        a = self.load("analytics.json")
        if not a:
            return
        self.heading("Analytics", "analytics.json")
        self.lines += [f"Seed: {json.dumps(a['seed'])}", ""]
        rows = []
        for where in ("in_process", "http"):
            for name, f in a.get(where, {}).items():
                target = (
                    f"under {f['target_p99_ms']}: {met(f['met'])}" if "target_p99_ms" in f else ""
                )
                rows.append([name, where, number(f["p50_ms"]), number(f["p99_ms"]), target])
        self.lines += table(["request", "where", "p50 ms", "p99 ms", "target (p99)"], rows)
        export = a.get("export")
        if export:
            csv = export["csv"]
            self.lines += [
                f"Export: CSV {number(csv['rows_per_s_median'], 0)} rows/s (target over "
                f"{number(csv.get('target_rows_per_s'), 0)}: {met(csv.get('met', False))}), "
                f"JSON {number(export['json']['rows_per_s_median'], 0)} rows/s; memory "
                f"{json.dumps(export['memory'])}.",
                "",
            ]

    def accounts(self) -> None:
        a = self.load("account.json")
        if not a:
            return
        self.heading("Accounts", "account.json")
        e, auth = a["export"], a["authentication"]
        self.lines += [
            f"Account export: {e['sessions']} sessions, {number(e['sessions_per_s_median'], 0)} "
            f"sessions/s median, {number(e['sessions_per_s_best'], 0)} best, "
            f"{number(e.get('sessions_per_cpu_s_median'), 0)} per CPU second (target "
            f"{number(e['target_sessions_per_s'], 0)}: {met(e['met'])}); tracemalloc peak "
            f"{e['tracemalloc_peak_kb_whole']} KiB whole, {e['tracemalloc_peak_kb_first_third']} "
            f"KiB after a third; RSS rise {e['rss_growth_kb_whole']} KiB.",
            "",
        ]
        self.lines += table(
            ["CPU per request, µs", "JWT", "PAT", "PAT / JWT"],
            [
                [
                    "GET me/ (whole request)",
                    number(auth["request_cpu_us_jwt"]),
                    number(auth["request_cpu_us_pat"]),
                    number(auth["pat_over_jwt_request"], 3),
                ],
                [
                    "authenticate() alone",
                    number(auth["authenticate_cpu_us_jwt"]),
                    number(auth["authenticate_cpu_us_pat"]),
                    number(auth["pat_over_jwt_authenticate"], 3),
                ],
            ],
        )

    def teams(self) -> None:
        t = self.load("team.json")
        if not t:
            return
        self.heading("Teams", "team.json")
        rows = []
        for name, f in t["reads"].items():
            if isinstance(f, dict) and "p50_ms" in f:
                target = f"under {f['target_p99_ms']}: {met(f['met'])}" if "met" in f else ""
                rows.append([name, number(f["p50_ms"]), number(f["p99_ms"]), target])
        for action in ("start", "pause"):
            push = t.get("push", {}).get(action)
            if not push:
                continue
            f = push["from_request_sent"]
            target = f"under {f['target_p99_ms']}: {met(f['met'])}" if "met" in f else ""
            rows.append(
                [
                    f"push on {action}: REST sent to each socket "
                    f"({push['deliveries']} delivered, {push['missing']} missing)",
                    number(f["p50_ms"]),
                    number(f["p99_ms"]),
                    target,
                ]
            )
        self.lines += table(["measure", "p50 ms", "p99 ms", "target (p99)"], rows)

    def webhooks(self) -> None:
        w = self.load("webhooks.json")
        if not w:
            return
        self.heading("Webhooks", "webhooks.json")
        t, lat, h = w["throughput"], w["latency"], w["hanging"]
        base = h["completion_lag_without_webhook_worker"]
        hung = h["completion_lag_with_hanging_endpoints"]
        healthy = h["healthy_endpoint_receipts"]
        rows = [
            [
                f"throughput, {t['endpoints']} endpoints, backlog of {t['deliveries']}",
                f"{number(t['deliveries_per_second'])} deliveries/s",
                f"at least {t['target_per_second']}: {met(t['met'])}",
            ],
            [
                f"commit to receipt at {number(lat['rate_committed'])} events/s "
                f"({lat['received']} of {lat['events']})",
                f"p50 {number(lat['p50_ms'])} ms, p99 {number(lat['p99_ms'])} ms",
                f"p99 under {lat['target_p99_ms']} ms: {met(lat['met'])}",
            ],
            [
                f"timer completion lag, {base['completed']} sessions, no webhook worker",
                f"p50 {number(base['p50_ms'])} ms, p99 {number(base['p99_ms'])} ms",
                "",
            ],
            [
                f"timer completion lag, {hung['completed']} sessions, "
                f"{h['hanging_endpoints']} endpoints hanging",
                f"p50 {number(hung['p50_ms'])} ms, p99 {number(hung['p99_ms'])} ms",
                "no effect",
            ],
            [
                f"healthy endpoints meanwhile, event to receipt ({healthy['count']})",
                f"p50 {number(healthy['p50_ms'])} ms, p99 {number(healthy['p99_ms'])} ms",
                "",
            ],
        ]
        self.lines += table(["measure", "figure", "target"], rows)

    def soak(self) -> None:
        s = self.load("soak.json")
        if not s:
            return
        self.heading("Soak", "soak.json")
        self.lines += [
            f"{s['seconds']} s after {s['warmup_s']} s of warm-up; {s['users']} users, each with "
            f"a socket open (opened in {s['sockets_opened_in_s']} s); timer actions at "
            f"{s['action_rate']}/s and reads at {s['read_rate']}/s (team of {s['team_size']}); "
            "gunicorn sync workers, two uvicorn processes and the timer worker.",
            "",
            f"Requests: {number(s['requests'], 0)} ({s['requests_per_s']}/s). "
            f"Events delivered to sockets: {number(s['events_delivered'], 0)}, p50 "
            f"{number(s['event_p50_ms'])} ms, p99 {number(s['event_p99_ms'])} ms. Timed "
            f"sessions: {s['timed_sessions']}, completed by the worker during the run "
            f"{s['completion_lag_ms']['count']} (the others were not due yet), lag after "
            "the planned end p50 "
            f"{number(s['completion_lag_ms']['p50'])} ms, p99 "
            f"{number(s['completion_lag_ms']['p99'])} ms, max "
            f"{number(s['completion_lag_ms']['max'])} ms.",
            "",
            f"**Errors: {s['errors']}** (target 0: {met(s['errors'] == 0)})"
            + (f": {json.dumps(s['errors_by_kind'])}" if s["errors"] else "")
            + ".",
            "",
        ]
        self.lines += table(
            ["request", "count", "p50 ms", "p99 ms"],
            [
                [kind, f["count"], number(f["p50_ms"]), number(f["p99_ms"])]
                for kind, f in s["by_kind"].items()
            ],
        )
        self.lines += [f"Latency per {s['buckets_s']:.0f} s (drift):", ""]
        self.lines += table(
            [
                "from s",
                "requests",
                "HTTP p50 ms",
                "HTTP p99 ms",
                "actions p99 ms",
                "events",
                "event p50 ms",
                "event p99 ms",
            ],
            [
                [
                    b["from_s"],
                    b["requests"],
                    number(b["http_p50_ms"]),
                    number(b["http_p99_ms"]),
                    number(b["actions_p99_ms"]),
                    b["events_delivered"],
                    number(b["event_p50_ms"]),
                    number(b["event_p99_ms"]),
                ]
                for b in s["by_bucket"]
            ],
        )
        start, end, growth = s["memory_mb_start"], s["memory_mb_end"], s["memory_mb_growth"]
        self.lines += ["Resident memory per process (MB), after the warm-up and at the end:", ""]
        self.lines += table(
            ["process", "start", "end", "growth"],
            [
                [name, number(start[name]), number(end.get(name)), number(growth[name])]
                for name in start
            ]
            + [
                [
                    "all",
                    number(sum(start.values())),
                    number(sum(end.values())),
                    number(sum(growth.values())),
                ]
            ],
        )

    def write(self) -> str:
        self.machine()
        parts = (
            self.timer,
            self.cpu,
            self.publish,
            self.fanout,
            self.analytics,
            self.accounts,
            self.teams,
            self.webhooks,
            self.soak,
        )
        for part in parts:
            part()
        text = "\n".join(self.lines).rstrip() + "\n"
        (self.out / "report.md").write_text(text)
        return text


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "bench/out")
    print(Report(out).write())
    print(f"(written to {out / 'report.md'})")


if __name__ == "__main__":
    main()
