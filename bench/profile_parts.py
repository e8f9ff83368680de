"""Where a request's CPU goes, by the parts issue 11 names, from a profile of either kind.

    .venv/bin/python -m bench.profile_parts bench/out/pyspy_gunicorn.txt [more.txt ...]

- From py-spy's raw output (`py-spy record -f raw`: one line per distinct stack, frames
  `function (file:line)` from the root, then the sample count): a part's share is the
  share of the request's samples (stacks through Django's WSGI or ASGI handler) that
  have one of its frames anywhere on the stack. Sampling costs every function alike,
  and py-spy leaves out threads that wait (on the network, on PostgreSQL), so these are
  shares of CPU. This is the breakdown to trust.
- From cProfile's stats (bench/cpu_per_action.py): a part's time is the cumulative time
  of its functions, counted once where one of them calls another. cProfile adds a
  fixed cost to every call, so it inflates code made of many small calls (serializers,
  the ORM) against code that makes few (the driver).

The parts overlap where one runs inside another (the view runs inside the middleware;
the ORM runs inside the view), so the shares do not add up to 100%. Patterns name
framework functions (Django, DRF, simplejwt, psycopg), which do not move when the
project's code does.
"""

import sys
from collections import Counter

# How the benchmarks run `py-spy record`: raw stacks; only samples of a thread holding
# the GIL, so a worker waiting on PostgreSQL or a socket (the GIL released) is not
# counted as busy; without pausing the process at each sample, which would slow it.
PYSPY_OPTIONS = ["--rate", "250", "--format", "raw", "--gil", "--nonblocking"]

# (label, [(file path part, function name)]); "*" matches every function of the file.
# A function name matches py-spy's "Class.method" by its last component.
REQUEST = [("django/core/handlers/wsgi.py", "__call__"), ("django/core/handlers/asgi.py", "handle")]
VIEW = [("rest_framework/views.py", "dispatch")]
PARTS = (
    ("DRF view (APIView.dispatch)", VIEW),
    (
        "JWT authentication (JWTAuthentication.authenticate)",
        [("rest_framework_simplejwt/authentication.py", "authenticate")],
    ),
    (
        "  of which the user lookup (JWTAuthentication.get_user)",
        [("rest_framework_simplejwt/authentication.py", "get_user")],
    ),
    (
        "serializers: .data, field construction included",
        [("rest_framework/serializers.py", "data")],
    ),
    (
        "  of which deep copies of declared fields",
        [("rest_framework/serializers.py", "get_fields")],
    ),
    (
        "serializers: input validation (is_valid)",
        [("rest_framework/serializers.py", "is_valid")],
    ),
    (
        "ORM: SQL compilation (compiler as_sql / pre_sql_setup)",
        [
            ("django/db/models/sql/compiler.py", "as_sql"),
            ("django/db/models/sql/compiler.py", "pre_sql_setup"),
        ],
    ),
    (
        "ORM: building querysets (filter, select_for_update, Q)",
        [
            ("django/db/models/query.py", "filter"),
            ("django/db/models/query.py", "_filter_or_exclude"),
            ("django/db/models/query.py", "select_for_update"),
        ],
    ),
    (
        "driver: psycopg execute",
        [("psycopg/cursor.py", "execute"), ("psycopg/client_cursor.py", "*")],
    ),
    (
        "model instances from rows (Model.from_db)",
        [("django/db/models/base.py", "from_db")],
    ),
    ("transaction: atomic enter/exit, commit", [("django/db/transaction.py", "*")]),
    (
        "JSON rendering of the answer (JSONRenderer.render)",
        [("rest_framework/renderers.py", "render")],
    ),
    ("signals (Signal.send)", [("django/dispatch/dispatcher.py", "send")]),
    ("logging", [("logging/__init__.py", "*")]),
    ("metrics (prometheus_client)", [("prometheus_client/", "*")]),
    ("URL resolution (URLResolver.resolve)", [("django/urls/resolvers.py", "resolve")]),
)


def _matches(filename: str, function: str, patterns) -> bool:
    for part, name in patterns:
        if part in filename and (name == "*" or function == name or function.endswith("." + name)):
            return True
    return False


# --- py-spy --------------------------------------------------------------------------


def _frames(line: str) -> tuple[list[tuple[str, str]], int]:
    stack, _, count = line.rstrip("\n").rpartition(" ")
    frames = []
    for frame in stack.split(";"):
        function, _, where = frame.rpartition(" (")
        frames.append((where.rsplit(":", 1)[0], function))
    return frames, int(count)


# The project's top-level packages (those a sample's stack may run through).
PROJECT = ("pomodoro", "accounts", "sessions_app", "analytics", "teams", "events")


def _leaf_owner(filename: str) -> str:
    """Who a sample's innermost frame belongs to: a project package, a library's package
    (Django by subpackage), or the standard library module."""
    parts = filename.split("/")
    if parts[0] == "django" and len(parts) > 2:
        return "/".join(parts[:2])
    return parts[0].removesuffix(".py") if parts[0] else filename


def from_pyspy(paths: list[str]) -> dict:
    """Samples of requests and each part's share of them, plus the middleware's (the
    request's samples outside the DRF view); the share of samples passing through each
    project package; and, adding up to 100%, who runs at the innermost frame."""
    requests, by_part, in_view = 0, Counter(), 0
    by_package, by_leaf = Counter(), Counter()
    for path in paths:
        with open(path) as handle:
            for line in handle:
                if not line.strip():
                    continue
                frames, count = _frames(line)
                if not any(_matches(f, fn, REQUEST) for f, fn in frames):
                    continue
                requests += count
                by_leaf[_leaf_owner(frames[-1][0])] += count
                for package in {f.split("/")[0] for f, _ in frames} & set(PROJECT):
                    by_package[package] += count
                for label, patterns in PARTS:
                    if any(_matches(f, fn, patterns) for f, fn in frames):
                        by_part[label] += count
    in_view = by_part[PARTS[0][0]]
    rows = [
        {"part": label, "share": by_part[label] / requests if requests else None}
        for label, _ in PARTS
    ]
    rows.insert(
        0,
        {
            "part": "Django handler and middleware, outside the DRF view",
            "share": (requests - in_view) / requests if requests else None,
        },
    )

    def shares(counter: Counter, top: int | None = None) -> dict:
        return {name: round(n / requests, 4) for name, n in counter.most_common(top)}

    return {
        "samples": requests,
        "parts": rows,
        "through_project_package": shares(by_package),
        "innermost_frame_owner": shares(by_leaf, 15),
    }


# --- cProfile ------------------------------------------------------------------------


def _outermost(stats, patterns) -> float:
    """Cumulative seconds of the matching functions, counting only calls from outside
    the set (Serializer.data calls BaseSerializer.data: counted once)."""
    matched = {key for key in stats.stats if _matches(key[0], key[2], patterns)}
    total = 0.0
    for key in matched:
        _cc, _nc, _tt, ct, callers = stats.stats[key]
        if not callers:
            total += ct
            continue
        for caller, value in callers.items():
            if caller not in matched:
                total += value[3] if isinstance(value, tuple) else 0.0
    return total


def from_pstats(stats, actions: int) -> dict:
    whole = _outermost(stats, REQUEST)
    view = _outermost(stats, VIEW)
    rows = [
        {
            "part": "Django handler and middleware, outside the DRF view",
            "ms_per_action": (whole - view) / actions * 1000,
            "share": (whole - view) / whole if whole else None,
        }
    ]
    for label, patterns in PARTS:
        seconds = _outermost(stats, patterns)
        rows.append(
            {
                "part": label,
                "ms_per_action": seconds / actions * 1000,
                "share": seconds / whole if whole else None,
            }
        )
    return {"ms_per_action": whole / actions * 1000, "parts": rows}


def describe(result: dict, title: str) -> str:
    lines = [title]
    for row in result["parts"]:
        ms = f"{row['ms_per_action']:7.2f} ms  " if "ms_per_action" in row else ""
        share = "n/a" if row["share"] is None else f"{row['share']:6.1%}"
        lines.append(f"  {row['part']:62} {ms}{share}")
    for key, title in (
        ("through_project_package", "samples passing through each project package"),
        ("innermost_frame_owner", "innermost frame's owner (adds up to 100%; top 15)"),
    ):
        if key in result:
            lines.append(f"  {title}:")
            lines += [f"    {name:60} {share:6.1%}" for name, share in result[key].items()]
    return "\n".join(lines)


def main() -> None:
    result = from_pyspy(sys.argv[1:])
    print(describe(result, f"py-spy, {result['samples']} samples inside requests:"))


if __name__ == "__main__":
    main()
