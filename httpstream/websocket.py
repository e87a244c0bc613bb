"""A WebSocket over an asyncio stream pair, for a server that did the HTTP part itself.

Why not uvicorn's or websockets' server: both parse `Sec-WebSocket-Protocol` as HTTP
tokens and refuse the connection when a client offers `SPDY/3.1+portforward.k8s.io`
(kubectl's port-forward), as Go's server does not. So the handshake here is a few lines
(`accept_response`), and the frames are websockets' sans-I/O `Protocol`, started in the
OPEN state: masking, fragments, pings and the closing handshake are its business.
`WebSocket.recv()` returns whole messages (bytes for binary, str for text) and None once
the connection has closed.
"""
from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib

from websockets.exceptions import ProtocolError as WSProtocolError
from websockets.frames import Opcode
from websockets.protocol import OPEN, Protocol, Side

from httpstream import upgrade

_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def accept_key(key: str) -> str:
    return base64.b64encode(hashlib.sha1((key + _GUID).encode()).digest()).decode()


def accept_response(key: str, protocol: str) -> bytes:
    """The `101 Switching Protocols` answer to a client's handshake."""
    lines = ["HTTP/1.1 101 Switching Protocols", "Upgrade: websocket", "Connection: Upgrade",
             f"Sec-WebSocket-Accept: {accept_key(key)}"]
    if protocol:
        lines.append(f"Sec-WebSocket-Protocol: {protocol}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


class WebSocket:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, subprotocol: str,
                 side: Side = Side.SERVER) -> None:
        self.reader, self.writer, self.subprotocol = reader, writer, subprotocol
        self.protocol = Protocol(side, state=OPEN, max_size=None)
        self._messages: list[bytes | str] = []
        self._parts: list[bytes] = []
        self._part_text = False
        self.closed = False

    async def recv(self) -> bytes | str | None:
        while not self._messages:
            if self.closed:
                return None
            data = await self._read()
            if data:
                self.protocol.receive_data(data)
            else:
                self.protocol.receive_eof()
            try:
                events = self.protocol.events_received()
            except WSProtocolError:
                events = []
            self._flush()
            for frame in events:
                self._collect(frame)
            if not data:
                self.closed = True
        return self._messages.pop(0)

    async def _read(self) -> bytes:
        try:
            return await self.reader.read(65536)
        except (ConnectionError, OSError):
            return b""

    def _collect(self, frame: object) -> None:
        opcode, data, fin = frame.opcode, bytes(frame.data), frame.fin  # type: ignore[attr-defined]
        if opcode in (Opcode.TEXT, Opcode.BINARY):
            self._parts, self._part_text = [data], opcode is Opcode.TEXT
        elif opcode is Opcode.CONT:
            self._parts.append(data)
        elif opcode is Opcode.CLOSE:
            self.closed = True
            return
        else:
            return   # ping and pong: the protocol answered already
        if fin:
            whole = b"".join(self._parts)
            self._messages.append(whole.decode(errors="replace") if self._part_text else whole)
            self._parts = []

    async def send(self, message: bytes | str) -> None:
        if self.closed or self.protocol.state is not OPEN:
            raise ConnectionError("WebSocket closed")
        if isinstance(message, str):
            self.protocol.send_text(message.encode())
        else:
            self.protocol.send_binary(message)
        self._flush()
        await self.writer.drain()

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Send a close frame (if still open) and close the socket."""
        with contextlib.suppress(Exception):
            if self.protocol.state is OPEN:
                self.protocol.send_close(code, reason)
                self._flush()
                await self.writer.drain()
        self.closed = True
        await upgrade.close(self.writer)

    def _flush(self) -> None:
        for chunk in self.protocol.data_to_send():
            if chunk:
                self.writer.write(chunk)
            elif self.writer.can_write_eof():
                with contextlib.suppress(OSError, RuntimeError):
                    self.writer.write_eof()
