"""Joining a client's stream to the runtime's streaming server (containerd's, on loopback).

The runtime's server speaks WebSocket `v4.channel.k8s.io` and older, and SPDY/3.1; the
kubelet's clients also speak `v5.channel.k8s.io` and SPDY tunnelled in WebSocket. Four
ways to join them, one per function:
- `bridge_v5`: WebSocket v5 (exec, attach) → SPDY streams: channels 0/1/2/4 become the
  stdin/stdout/stderr/resize streams, v5's "close stdin" half-closes the stdin stream
  (WebSocket v4 has no way to say it), and the error stream's Status is sent on channel
  3 after all output;
- `relay_websocket`: any other WebSocket channel protocol → the same protocol on the
  runtime's WebSocket endpoint, message for message;
- `relay_spdy_tunnel`: `SPDY/3.1+portforward.k8s.io` → the payload of each binary message
  into an SPDY-upgraded connection to the runtime and back;
- `relay_spdy`: a client's own SPDY upgrade → the runtime's, byte for byte after the 101.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from urllib.parse import urlencode, urlsplit

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from httpstream import channels, upgrade
from httpstream.spdysession import SpdySession, SpdyStream, StreamReset
from httpstream.websocket import WebSocket
from kubelet.runtime.interface import StreamOptions

log = logging.getLogger("kubelet.stream")
Streams = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class RuntimeStreamError(Exception):
    """The runtime's streaming server would not take the stream."""


async def spdy_upgrade(url: str, protocols: list[str]) -> tuple[upgrade.Head, asyncio.StreamReader,
                                                                 asyncio.StreamWriter]:
    """POST an SPDY/3.1 upgrade to a runtime URL (plain HTTP on loopback)."""
    u = urlsplit(url)
    if u.scheme != "http" or not u.hostname:
        raise RuntimeStreamError(f"unsupported streaming URL {url!r}")
    headers = [("Connection", "Upgrade"), ("Upgrade", "SPDY/3.1"), ("Content-Length", "0")]
    headers += [("X-Stream-Protocol-Version", p) for p in protocols]
    target = u.path + (f"?{u.query}" if u.query else "")
    try:
        return await upgrade.open_upgrade(u.hostname, u.port or 80, "POST", target, headers)
    except (OSError, ConnectionError, TimeoutError) as e:
        raise RuntimeStreamError(f"error dialing the runtime's streaming server: {e}") from None


async def _open_spdy(url: str, protocols: list[str]) -> SpdySession:
    head, reader, writer = await spdy_upgrade(url, protocols)
    if head.status != 101:
        body = await upgrade.read_body(head, reader)
        await upgrade.close(writer)
        raise RuntimeStreamError(f"the runtime refused the stream: {head.status} {body.decode(errors='replace')}")
    session = SpdySession(reader, writer, client=True)
    session.start()
    return session


async def bridge_v5(ws: WebSocket, url: str, opts: StreamOptions) -> None:
    """Serve a v5 WebSocket exec/attach through SPDY v4 streams to the runtime."""
    session = await _open_spdy(url, [channels.SPDY_EXEC_PROTOCOLS[0]])
    try:
        error = await session.open_stream({"streamType": "error"})
        stdin = await session.open_stream({"streamType": "stdin"}) if opts.stdin else None
        outs: list[tuple[int, SpdyStream]] = []
        if opts.stdout:
            outs.append((channels.STDOUT, await session.open_stream({"streamType": "stdout"})))
        if opts.stderr and not opts.tty:
            outs.append((channels.STDERR, await session.open_stream({"streamType": "stderr"})))
        resize = await session.open_stream({"streamType": "resize"}) if opts.tty else None
    except (StreamReset, ConnectionError) as e:
        await session.close()
        raise RuntimeStreamError(f"the runtime did not open the streams: {e}") from None
    proto = ws.subprotocol

    async def pump(channel: int, stream: SpdyStream) -> None:
        while data := await stream.read():
            await ws.send(channels.encode(proto, channel, data))

    async def status() -> bytes:
        parts = []
        while data := await error.read():
            parts.append(data)
        return b"".join(parts)

    async def from_client() -> None:
        while (message := await ws.recv()) is not None:
            channel, data = channels.decode(proto, message)
            if channel == channels.STDIN and stdin is not None and data:
                await stdin.write(data)
            elif channel == channels.RESIZE and resize is not None:
                await resize.write(data)
            elif channel == channels.CLOSE and data[:1] == bytes([channels.STDIN]) and stdin is not None:
                await stdin.close()

    client = asyncio.create_task(from_client())
    output = asyncio.gather(*(pump(c, s) for c, s in outs), status())
    try:
        await asyncio.wait([client, output], return_when=asyncio.FIRST_COMPLETED)
        if output.done() and not output.cancelled() and output.exception() is None:
            final = output.result()[-1]
            if final:
                await ws.send(channels.encode(proto, channels.ERROR, final))
    except ConnectionError:
        pass
    finally:
        client.cancel()
        output.cancel()
        await asyncio.gather(client, output, return_exceptions=True)
        await session.close()
        await ws.close(1000)


async def relay_websocket(ws: WebSocket, url: str, query: list[tuple[str, str]] | None = None) -> None:
    """Relay messages between the client's WebSocket and the runtime's, same subprotocol."""
    u = urlsplit(url)
    target = "ws://" + u.netloc + u.path + ("?" + urlencode(query) if query else "")
    try:
        # a client that named no protocol speaks channel.k8s.io's framing; asked for nothing, the
        # runtime would answer with an empty protocol header, which the websockets client refuses
        upstream = await connect(target, subprotocols=[ws.subprotocol or channels.V1],  # type: ignore[list-item]
                                 proxy=None, max_size=None, compression=None, open_timeout=30)
    except (OSError, InvalidHandshake, TimeoutError) as e:
        raise RuntimeStreamError(f"error dialing the runtime's streaming server: {e}") from None

    async def down() -> None:
        with contextlib.suppress(ConnectionClosed, ConnectionError):
            async for message in upstream:
                await ws.send(message)

    async def up() -> None:
        with contextlib.suppress(ConnectionClosed, ConnectionError):
            while (message := await ws.recv()) is not None:
                await upstream.send(message)

    try:
        await upgrade.until_first(down(), up())
    finally:
        await upstream.close()
        await ws.close(1000)


async def relay_spdy_tunnel(ws: WebSocket, url: str) -> None:
    """kubectl's port-forward: SPDY frames inside binary messages ↔ an SPDY connection."""
    head, reader, writer = await spdy_upgrade(url, [channels.SPDY_PORTFORWARD_PROTOCOL])
    if head.status != 101:
        await upgrade.close(writer)
        raise RuntimeStreamError(f"the runtime refused the port-forward: {head.status}")

    async def down() -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                await ws.send(data)

    async def up() -> None:
        with contextlib.suppress(ConnectionError, OSError, RuntimeError):
            while (message := await ws.recv()) is not None:
                writer.write(message if isinstance(message, bytes) else message.encode())
                await writer.drain()

    try:
        await upgrade.until_first(down(), up())
    finally:
        await upgrade.close(writer)
        await ws.close(1000)


async def relay_spdy(client: Streams, url: str, protocols: list[str]) -> None:
    """The client's SPDY upgrade → the runtime's: its 101 (with the protocol it chose) goes
    back to the client, then bytes flow both ways."""
    try:
        head, reader, writer = await spdy_upgrade(url, protocols)
    except RuntimeStreamError as e:
        await upgrade.write_response(client[1], 502, str(e).encode(), "text/plain")
        return
    if head.status != 101:
        body = await upgrade.read_body(head, reader)
        await upgrade.close(writer)
        await upgrade.write_response(client[1], head.status, body, head.header("content-type") or "text/plain")
        return
    client[1].write(head.raw)
    await client[1].drain()
    await upgrade.relay(client, (reader, writer))
