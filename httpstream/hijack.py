"""Taking over the connection of an HTTP `Upgrade:` request from inside an ASGI handler.

uvicorn hands WebSocket upgrades to its own WebSocket layer (which refuses
`SPDY/3.1+portforward.k8s.io`, see websocket.py) and serves other upgrades (`SPDY/3.1`) as
plain requests with no way to reach the socket. `HijackableHttpToolsProtocol` sends every
upgrade request through the ASGI app like any request, so authentication, authorization and
routing happen as usual, and puts a callable in the scope, `scope["extensions"]
["pykube.hijack"]`. A handler that decides to switch protocols calls `hijack(scope)` and
gets the connection as an asyncio `(reader, writer)` pair; uvicorn then sends nothing more
on it (the request counts as disconnected) and the handler owns the socket until it closes
it. Bytes a client sent after its request head, before any answer, are not kept (clients
wait for the 101).
"""
from __future__ import annotations

import asyncio
from collections.abc import Callable, MutableMapping
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

EXTENSION = "pykube.hijack"
Streams = tuple[asyncio.StreamReader, asyncio.StreamWriter]


def upgrade_of(headers: list[tuple[bytes, bytes]]) -> str:
    """The protocol an `Upgrade` request asks for, lowercase ("websocket", "spdy/3.1"), or ""."""
    connection, upgrade = b"", b""
    for name, value in headers:
        if name == b"connection":
            connection += value.lower() + b","
        elif name == b"upgrade":
            upgrade = value
    if b"upgrade" not in [t.strip() for t in connection.split(b",")]:
        return ""
    return upgrade.decode("latin-1").strip().lower()


def hijack(scope: MutableMapping[str, Any]) -> Streams:
    """Take the request's connection; raises RuntimeError when the server cannot."""
    take: Callable[[], Streams] | None = (scope.get("extensions") or {}).get(EXTENSION)
    if take is None:
        raise RuntimeError("this server cannot hand over connections (not HijackableHttpToolsProtocol)")
    return take()


class HijackableHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, with upgrades left to the application."""

    def _should_upgrade(self) -> bool:
        return False

    def _unsupported_upgrade_warning(self) -> None:
        pass

    def on_message_begin(self) -> None:
        super().on_message_begin()
        extensions: dict[str, Any] = self.scope.setdefault("extensions", {})
        extensions[EXTENSION] = self._take_over

    def _take_over(self) -> Streams:
        cycle = self.cycle
        if cycle is None or cycle.response_started:
            raise RuntimeError("the response has started already")
        cycle.disconnected = True             # uvicorn writes nothing more for this request
        cycle.message_event.set()
        self.connections.discard(self)        # and does not close it at shutdown
        self._unset_keepalive_if_required()
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=1 << 20)
        protocol = asyncio.StreamReaderProtocol(reader)
        transport = self.transport
        transport.set_protocol(protocol)
        protocol.connection_made(transport)
        transport.resume_reading()
        return reader, asyncio.StreamWriter(transport, protocol, reader, loop)
