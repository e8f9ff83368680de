"""Sockets for the realtime tests: a WebsocketCommunicator on the real ASGI application
(Origin check, ticket middleware, routing, consumer), opened with a real ticket and
always disconnected; and real server processes for the end-to-end test."""

import contextlib
import functools
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from urllib.parse import urlencode

from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import connection

from events import tickets
from pomodoro.asgi import application

WS_PATH = "/ws/v1/events/"
RECEIVE_TIMEOUT = 3
QUIET_SECONDS = 0.2
DISCONNECT_TIMEOUT = 0.3

db = database_sync_to_async


def run_async(test):
    """Runs an async test on an event loop (the project has no pytest-asyncio). The
    test's own thread serves the loop's database_sync_to_async calls, so they use the
    test's database connection."""

    @functools.wraps(test)
    def run(*args, **kwargs):
        return async_to_sync(test)(*args, **kwargs)

    return run


def ws_path(*, ticket: str | None, after: int | None = None) -> str:
    query = {}
    if ticket is not None:
        query["ticket"] = ticket
    if after is not None:
        query["after"] = after
    return WS_PATH + ("?" + urlencode(query) if query else "")


@contextlib.asynccontextmanager
async def communicator(path: str, *, origin: str | None = None):
    """A not yet connected socket on the real application, disconnected on the way out."""
    headers = [] if origin is None else [(b"origin", origin.encode())]
    socket_ = WebsocketCommunicator(application, path, headers=headers)
    try:
        yield socket_
    finally:
        # The consumer's own disconnect() runs at once; what may take longer is
        # channels_redis cancelling a receive that was just starting (seconds, at
        # times), which the communicator then cancels silently.
        await socket_.disconnect(timeout=DISCONNECT_TIMEOUT)


@contextlib.asynccontextmanager
async def open_socket(user, *, after: int | None = None, origin: str | None = None):
    """A socket of `user` past its handshake; yields it and its hello message."""
    ticket, _ = await db(tickets.realtime_ticket_create)(user=user)
    async with communicator(ws_path(ticket=ticket, after=after), origin=origin) as socket_:
        connected, _ = await socket_.connect()
        assert connected
        hello = await socket_.receive_json_from(RECEIVE_TIMEOUT)
        assert hello["type"] == "hello", hello
        yield socket_, hello


async def receive(socket_) -> dict:
    return await socket_.receive_json_from(RECEIVE_TIMEOUT)


async def receive_many(socket_, count: int) -> list[dict]:
    return [await receive(socket_) for _ in range(count)]


async def assert_quiet(socket_) -> None:
    """Nothing more arrives for a moment."""
    assert await socket_.receive_nothing(QUIET_SECONDS)


async def assert_closed_with(socket_, code: int) -> None:
    assert await socket_.receive_output(RECEIVE_TIMEOUT) == {
        "type": "websocket.close",
        "code": code,
    }


# --- Real server processes ------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def the_test_database_url() -> str:
    """The test database, for server processes that must see what the test committed."""
    db_settings = connection.settings_dict
    user = db_settings["USER"] or ""
    password = f":{db_settings['PASSWORD']}" if db_settings["PASSWORD"] else ""
    credentials = f"{user}{password}@" if user else ""
    host = db_settings["HOST"] or "127.0.0.1"
    port = f":{db_settings['PORT']}" if db_settings["PORT"] else ""
    return f"postgres://{credentials}{host}{port}/{db_settings['NAME']}"


class ServerProcess:
    """`daphne pomodoro.asgi:application` (as in production) on a free port, on the test
    database and the test's Redis."""

    def __init__(self):
        self.port = free_port()
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in stop())
        environment = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "pomodoro.settings.test",
            "DATABASE_URL": the_test_database_url(),
            "REDIS_URL": settings.REDIS_URL,
        }
        command = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port)]
        self.process = subprocess.Popen(
            [*command, "-v", "0", "pomodoro.asgi:application"],
            env=environment,
            cwd=settings.BASE_DIR,
            stdout=subprocess.DEVNULL,
            stderr=self.log,
        )

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def wait_until_healthy(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited: {self.output()}")
            try:
                with urllib.request.urlopen(self.http + "/healthz", timeout=1) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.05)
        raise AssertionError(f"server on port {self.port} did not become healthy")

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        self.log.close()


@contextlib.contextmanager
def server_processes(count: int, *, startup_seconds: float = 20):
    servers: list[ServerProcess] = []
    try:
        for _ in range(count):
            servers.append(ServerProcess())
        deadline = time.monotonic() + startup_seconds
        for server in servers:
            server.wait_until_healthy(deadline)
        yield servers
    finally:
        for server in servers:
            server.stop()


def http_json(method: str, url: str, *, access: str, body: dict | None = None) -> tuple[int, dict]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Authorization", f"Bearer {access}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, _json(response.read())
    except urllib.error.HTTPError as error:
        return error.code, _json(error.read())


def _json(raw: bytes) -> dict:
    return json.loads(raw) if raw else {}
