"""Upgraded connections as a client, and relaying bytes between two connections.

- `open_upgrade(...)`: connect (TCP, TLS when given a context), send one HTTP/1.1 request
  head asking to switch protocols, and read the answer's head: `(Head, reader, writer)`.
  A 101 leaves the connection speaking the new protocol; any other status is an ordinary
  answer whose body follows (`read_body`).
- `relay(a, b)`: copy bytes both ways until one side ends, then close both (WebSocket and
  SPDY end with their own goodbyes, which pass through before the socket closes).
- `write_response(writer, status, body)`: a whole HTTP/1.1 answer on a raw connection;
- `Sessions`: the connections a server took over, closed together when it stops (uvicorn
  no longer knows them).
"""
from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Coroutine
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

MAX_HEAD = 64 * 1024
Streams = tuple[asyncio.StreamReader, asyncio.StreamWriter]


@dataclass
class Head:
    """A response's status line and headers, and the raw bytes they came in."""

    status: int
    reason: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    raw: bytes = b""

    def header(self, name: str) -> str:
        name = name.lower()
        return next((v for k, v in self.headers if k.lower() == name), "")

    def values(self, name: str) -> list[str]:
        name = name.lower()
        return [v for k, v in self.headers if k.lower() == name]


def parse_head(raw: bytes) -> Head:
    lines = raw.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        raise ConnectionError(f"not an HTTP response: {lines[0][:80]!r}")
    headers = []
    for line in lines[1:]:
        if ":" in line:
            k, _, v = line.partition(":")
            headers.append((k.strip(), v.strip()))
    return Head(int(parts[1]), parts[2] if len(parts) > 2 else "", headers, raw)


async def read_head(reader: asyncio.StreamReader) -> bytes:
    try:
        return await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as e:
        raise ConnectionError("connection closed before the response head") from e
    except asyncio.LimitOverrunError as e:
        raise ConnectionError("response head too large") from e


def request_head(method: str, target: str, host: str, headers: list[tuple[str, str]]) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}"]
    lines += [f"{k}: {v}" for k, v in headers if k.lower() != "host"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def open_upgrade(host: str, port: int, method: str, target: str, headers: list[tuple[str, str]],
                       tls: ssl.SSLContext | None = None, timeout: float = 30.0) -> tuple[Head, asyncio.StreamReader,
                                                                                           asyncio.StreamWriter]:
    """Send an upgrade request; the answer's head and the connection (still open)."""
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection(host, port, ssl=tls, server_hostname=host if tls else None, limit=MAX_HEAD),
        timeout)
    try:
        writer.write(request_head(method, target, f"{_bracket(host)}:{port}", headers))
        await writer.drain()
        head = parse_head(await asyncio.wait_for(read_head(reader), timeout))
    except BaseException:
        writer.close()
        raise
    return head, reader, writer


async def read_body(head: Head, reader: asyncio.StreamReader, limit: int = 1 << 20) -> bytes:
    """The body of a non-101 answer (by Content-Length, else until the connection ends)."""
    length = head.header("content-length")
    try:
        if length.isdigit():
            return await reader.readexactly(min(int(length), limit))
        return await reader.read(limit)
    except (asyncio.IncompleteReadError, ConnectionError):
        return b""


async def write_response(writer: asyncio.StreamWriter, status: int, body: bytes,
                         content_type: str = "application/json", extra: list[tuple[str, str]] | None = None) -> None:
    """A complete answer on a raw connection, which is then closed."""
    reason = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else ""
    lines = [f"HTTP/1.1 {status} {reason}", f"Content-Type: {content_type}", f"Content-Length: {len(body)}",
             "Connection: close"] + [f"{k}: {v}" for k, v in extra or []]
    with contextlib.suppress(ConnectionError, RuntimeError):
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        await writer.drain()
    await close(writer)


async def close(writer: asyncio.StreamWriter, grace: float = 2.0) -> None:
    """Close a connection; a TLS peer that does not answer the close within `grace` seconds
    (asyncio would wait 30) has its connection aborted."""
    writer.close()
    try:
        await asyncio.wait_for(writer.wait_closed(), grace)
    except TimeoutError:
        writer.transport.abort()
    except Exception:   # noqa: BLE001 - the connection is gone either way
        pass


async def _copy(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError, OSError, RuntimeError):
        while True:
            data = await src.read(65536)
            if not data:
                return
            dst.write(data)
            await dst.drain()


async def until_first(*pumps: Coroutine[Any, Any, None]) -> None:
    """Run the pumps until one of them ends; the others are cancelled."""
    tasks = [asyncio.create_task(p) for p in pumps]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def relay(a: Streams, b: Streams) -> None:
    """Copy a→b and b→a until either direction ends; then close both connections."""
    try:
        await until_first(_copy(a[0], b[1]), _copy(b[0], a[1]))
    finally:
        await close(a[1])
        await close(b[1])


class Sessions:
    """Taken-over connections of one server, to close at its shutdown."""

    def __init__(self) -> None:
        self._writers: set[asyncio.StreamWriter] = set()

    def add(self, *writers: asyncio.StreamWriter) -> None:
        self._writers.update(writers)

    def discard(self, *writers: asyncio.StreamWriter) -> None:
        self._writers.difference_update(writers)

    async def close_all(self) -> None:
        writers, self._writers = list(self._writers), set()
        await asyncio.gather(*(close(w) for w in writers), return_exceptions=True)


def _bracket(host: str) -> str:
    return f"[{host}]" if ":" in host else host
