"""Streams to and from pods through the apiserver: exec, attach and port-forward.

Owns the WebSocket side of the client, with the kubeconfig's TLS settings and credentials:
- `open_stream(config, path, query)` opens `pods/NAME/exec` or `pods/NAME/attach` with
  `v5.channel.k8s.io` (falling back to `v4.channel.k8s.io`) and returns a `RemoteSession`;
  `RemoteSession.run(stdin, stdout, stderr)` pumps until the remote side ends and returns
  the exit code and message from the final Status (`channels.exit_code`);
- `open_port_forward(config, path, port)` opens `pods/NAME/portforward?ports=P` with
  `v4.channel.k8s.io` (one WebSocket per forwarded connection, as the Python client
  does) and returns a `PortForwardStream` that carries one TCP connection's bytes.
A refused upgrade raises the apiserver's error (`APIError`); an unreachable server raises
`ConnectionFailed`.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException

from client.errors import APIError, ConnectionFailed
from client.kubeconfig import ClientConfig
from httpstream import channels

Reader = Callable[[], Awaitable[bytes]]        # b"" at end of input
Writer = Callable[[bytes], None]


async def _connect(config: ClientConfig, path_and_query: str, protocols: list[str]) -> ClientConnection:
    url = config.server.replace("https://", "wss://", 1).replace("http://", "ws://", 1) + path_and_query
    headers = {"Authorization": f"Bearer {config.token}"} if config.token else {}
    tls = config.ssl_context() if url.startswith("wss://") else None
    try:
        return await connect(url, subprotocols=protocols, additional_headers=headers,  # type: ignore[arg-type]
                             ssl=tls if isinstance(tls, ssl.SSLContext) else None, proxy=None,
                             compression=None, max_size=None, open_timeout=30)
    except InvalidStatus as e:
        raise APIError.from_response(e.response.status_code, bytes(e.response.body or b"")) from None
    except (OSError, WebSocketException, TimeoutError) as e:
        raise ConnectionFailed(f"error dialing backend: {e}") from None


def stream_query(command: list[str], container: str, stdin: bool, stdout: bool, stderr: bool, tty: bool) -> str:
    params: list[tuple[str, str]] = [("command", c) for c in command]
    if container:
        params.append(("container", container))
    params += [("stdin", _bool(stdin)), ("stdout", _bool(stdout)), ("stderr", _bool(stderr and not tty)),
               ("tty", _bool(tty))]
    return urlencode(params)


def _bool(v: bool) -> str:
    return "true" if v else "false"


class RemoteSession:
    """One exec or attach stream."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.protocol = ws.subprotocol or channels.V4
        self.status: dict[str, Any] | None = None

    async def send_stdin(self, data: bytes) -> None:
        await self.ws.send(channels.encode(self.protocol, channels.STDIN, data))

    async def close_stdin(self) -> None:
        """End of input: v5 says so; older protocols cannot."""
        if self.protocol == channels.V5:
            await self.ws.send(channels.encode(self.protocol, channels.CLOSE, bytes([channels.STDIN])))

    async def resize(self, width: int, height: int) -> None:
        await self.ws.send(channels.encode(self.protocol, channels.RESIZE, channels.resize(width, height)))

    async def run(self, stdin: Reader | None, stdout: Writer, stderr: Writer,
                  resizes: asyncio.Queue[tuple[int, int]] | None = None) -> tuple[int, str]:
        """Pump until the remote side ends; (exit code, message) from the final Status."""
        tasks = []
        if stdin is not None:
            tasks.append(asyncio.create_task(self._feed(stdin)))
        if resizes is not None:
            tasks.append(asyncio.create_task(self._resize(resizes)))
        try:
            async for message in self.ws:
                channel, data = channels.decode(self.protocol, message)
                if channel == channels.STDOUT:
                    stdout(data)
                elif channel == channels.STDERR:
                    stderr(data)
                elif channel == channels.ERROR and data:
                    self.status = json.loads(data)
        except ConnectionClosed:
            pass
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self.ws.close()
        if self.status is None:
            return 0, ""
        code = channels.exit_code(self.status)
        if code == 0:
            return 0, ""
        if self.status.get("reason") == "NonZeroExitCode":
            return code, f"command terminated with exit code {code}"
        return code, str(self.status.get("message") or "error executing remote command")

    async def _feed(self, read: Reader) -> None:
        with contextlib.suppress(ConnectionClosed):
            while data := await read():
                await self.send_stdin(data)
            await self.close_stdin()

    async def _resize(self, sizes: asyncio.Queue[tuple[int, int]]) -> None:
        with contextlib.suppress(ConnectionClosed):
            while True:
                width, height = await sizes.get()
                await self.resize(width, height)


async def open_stream(config: ClientConfig, path: str, query: str) -> RemoteSession:
    """`path` is the pod's `exec` or `attach` subresource path."""
    ws = await _connect(config, f"{path}?{query}", [channels.V5, channels.V4])
    return RemoteSession(ws)


class PortForwardStream:
    """One forwarded connection to a pod port over `v4.channel.k8s.io`."""

    def __init__(self, ws: ClientConnection, port: int) -> None:
        self.ws, self.port = ws, port
        self.error = ""

    async def send(self, data: bytes) -> None:
        await self.ws.send(bytes([0]) + data)

    async def receive(self) -> bytes:
        """The next data from the pod; b"" when the stream ends (see `error`)."""
        try:
            async for message in self.ws:
                raw = message if isinstance(message, bytes) else message.encode()
                if not raw:
                    continue
                if raw[0] == 1:
                    self.error += raw[1:].decode(errors="replace")
                elif raw[0] == 0 and raw[1:]:
                    return raw[1:]
        except ConnectionClosed:
            pass
        return b""

    async def close(self) -> None:
        await self.ws.close()


async def open_port_forward(config: ClientConfig, path: str, port: int) -> PortForwardStream:
    """`path` is the pod's `portforward` subresource path."""
    ws = await _connect(config, f"{path}?{urlencode({'ports': port})}", [channels.V4])
    stream = PortForwardStream(ws, port)
    # the first message on each channel is the port number (2 bytes, little endian)
    seen: set[int] = set()
    try:
        while len(seen) < 2:
            message = await asyncio.wait_for(ws.recv(), 30)
            raw = message if isinstance(message, bytes) else message.encode()
            if raw and raw[0] in (0, 1) and raw[0] not in seen and len(raw) == 3:
                seen.add(raw[0])
            elif raw and raw[0] == 1:
                stream.error += raw[1:].decode(errors="replace")
                break
    except (ConnectionClosed, TimeoutError):
        pass
    if stream.error or len(seen) < 2:
        await ws.close()
        raise ConnectionFailed(f"error forwarding port {port}: {stream.error or 'the stream ended'}")
    return stream
