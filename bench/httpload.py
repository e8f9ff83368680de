"""A small keep-alive HTTP/1.1 load client on asyncio streams.

Written for the benchmarks only: a general client (httpx, aiohttp) spends several
times more CPU per request, and on a 2-core machine the load generator's CPU is
taken from the server being measured.
"""

import asyncio
import contextlib
import json
import time


class Connection:
    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(ConnectionError):
                await self.writer.wait_closed()

    async def request(
        self, method: str, path: str, *, token: str | None = None, body: dict | None = None
    ) -> tuple[int, dict | None, float]:
        """Sends one request; answers (status, json body or None, seconds taken).
        A kept-alive connection the server closed while idle is reopened once."""
        try:
            return await self._request(method, path, token=token, body=body)
        except (ConnectionError, asyncio.IncompleteReadError):
            await self.close()
            self.writer = None
            return await self._request(method, path, token=token, body=body)

    async def _request(
        self, method: str, path: str, *, token: str | None = None, body: dict | None = None
    ) -> tuple[int, dict | None, float]:
        if self.writer is None:
            await self.open()
        payload = b"" if body is None else json.dumps(body).encode()
        head = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        if token:
            head.append(f"Authorization: Bearer {token}")
        if body is not None:
            head.append("Content-Type: application/json")
        head.append(f"Content-Length: {len(payload)}")
        started = time.perf_counter()
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + payload)
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("server closed the connection")
        status = int(status_line.split()[1])
        length, chunked, close = 0, False, False
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value.strip())
            elif name == "transfer-encoding" and "chunked" in value.lower():
                chunked = True
            elif name == "connection" and "close" in value.lower():
                close = True
        if chunked:
            data = b""
            while True:
                size = int((await self.reader.readline()).strip(), 16)
                if size == 0:
                    await self.reader.readline()
                    break
                data += await self.reader.readexactly(size)
                await self.reader.readline()
        else:
            data = await self.reader.readexactly(length) if length else b""
        elapsed = time.perf_counter() - started
        if close:
            await self.close()
            self.writer = None
        return status, (json.loads(data) if data else None), elapsed


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


async def open_events_socket(port: int, ticket: str, after: int | None = None):
    """An events WebSocket past its hello, on 127.0.0.1:`port`."""
    import websockets

    url = f"ws://127.0.0.1:{port}/ws/v1/events/?ticket={ticket}"
    if after is not None:
        url += f"&after={after}"
    socket = await websockets.connect(url, max_queue=None, open_timeout=30)
    hello = json.loads(await socket.recv())
    assert hello["type"] == "hello", hello
    return socket
