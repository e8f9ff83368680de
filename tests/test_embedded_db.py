"""The embedded PostgreSQL (pomodoro/embedded_db.py) that ./scripts/run and ./scripts/test
start without DATABASE_URL: a real server started, taken over and stopped in a
temporary folder. No Django database: each test starts its own server."""

import os
import subprocess
import sys

import psycopg
import pytest

from pomodoro import embedded_db


@pytest.fixture
def data_dir(tmp_path):
    folder = tmp_path / "postgres"
    yield folder
    embedded_db.stop(folder)


def server_version(url: str) -> int:
    with psycopg.connect(url) as connection:
        return connection.info.server_version


def test_start_initialises_a_server_on_localhost_that_stop_stops(data_dir):
    url = embedded_db.start(data_dir, throwaway=True)

    assert url.startswith("postgres://postgres@127.0.0.1:")
    assert url.endswith("/pomodoro")
    assert server_version(url) >= 180000
    assert embedded_db.running_url(data_dir) == url
    with psycopg.connect(url) as connection:
        provider, collation = connection.execute(
            "SELECT datlocprovider, datlocale FROM pg_database WHERE datname = 'pomodoro'"
        ).fetchone()
    assert (provider, collation) == ("b", "C.UTF-8")

    embedded_db.stop(data_dir)

    assert embedded_db.running_url(data_dir) is None
    assert not (data_dir / "postmaster.pid").exists()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(url, connect_timeout=2).close()


def test_a_server_left_running_is_taken_over_and_a_restart_keeps_the_data(data_dir):
    url = embedded_db.start(data_dir, throwaway=True)
    with psycopg.connect(url) as connection:
        connection.execute("CREATE TABLE kept (n integer)")
        connection.execute("INSERT INTO kept VALUES (7)")
    pid = (data_dir / "postmaster.pid").read_text().splitlines()[0]

    # What the next ./scripts/run does after a run killed before its trap ran.
    assert embedded_db.start(data_dir, throwaway=True) == url
    assert (data_dir / "postmaster.pid").read_text().splitlines()[0] == pid

    embedded_db.stop(data_dir)
    restarted = embedded_db.start(data_dir, throwaway=True)
    with psycopg.connect(restarted) as connection:
        assert connection.execute("SELECT n FROM kept").fetchall() == [(7,)]


def test_a_stale_pid_file_naming_another_live_process_is_cleared(data_dir):
    embedded_db.start(data_dir, throwaway=True)
    embedded_db.stop(data_dir)
    # A pid file whose process id now belongs to another program (this one), with a
    # port on which nothing listens: PostgreSQL alone would refuse to start.
    (data_dir / "postmaster.pid").write_text(
        f"{os.getpid()}\n{data_dir}\n1700000000\n1\n\n127.0.0.1\n  0 0\nready\n"
    )

    url = embedded_db.start(data_dir, throwaway=True)

    assert server_version(url) >= 180000
    assert embedded_db.running_url(data_dir) == url


def test_the_command_line_prints_the_url_and_stops_the_server(data_dir):
    def command(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "pomodoro.embedded_db", *args, str(data_dir)],
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )

    url = command("start", "--throwaway").stdout.strip()

    assert url == embedded_db.running_url(data_dir)
    assert server_version(url) >= 180000

    command("stop")

    assert embedded_db.running_url(data_dir) is None
