"""The kubelet's v5 bridge against a stand-in for containerd's streaming server.

The stand-in speaks what containerd does for an exec URL (an SPDY/3.1 upgrade, then the
v4 streams: error, stdin, stdout, stderr, resize) and runs `cat`: stdin to stdout until
stdin ends, then a Success Status on the error stream. The client side is a WebSocket
speaking `v5.channel.k8s.io`: its channel 255 "close stdin" must reach the runtime as the
end of the SPDY stdin stream, the output must arrive before the final Status, and a
resize must arrive as JSON on the resize stream.
"""
from __future__ import annotations

import asyncio
import json
import socket

from httpstream import channels, upgrade
from httpstream.spdysession import SpdySession, SpdyStream
from httpstream.websocket import Side, WebSocket
from kubelet import stream_bridge
from kubelet.runtime.interface import StreamOptions


class FakeStreamingServer:
    def __init__(self) -> None:
        self.streams: dict[str, SpdyStream] = {}
        self.resizes: list[dict[str, int]] = []
        self.protocols: list[str] = []
        self.all_open = asyncio.Event()

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._conn, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/exec/TOKEN"

    async def _conn(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await upgrade.read_head(reader)).decode()
        self.protocols = [line.split(":", 1)[1].strip() for line in head.split("\r\n")
                          if line.lower().startswith("x-stream-protocol-version")]
        writer.write(b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n"
                     b"X-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n")
        session = SpdySession(reader, writer, client=False, on_stream=self._stream)
        session.start()
        await self.all_open.wait()
        while data := await self.streams["stdin"].read():          # cat
            await self.streams["stdout"].write(data)
        await self.streams["error"].write(json.dumps({"metadata": {}, "status": "Success"}).encode())
        await session.close()

    async def _stream(self, stream: SpdyStream) -> None:
        kind = stream.header("streamType")
        self.streams[kind] = stream
        if {"error", "stdin", "stdout", "resize"} <= set(self.streams):
            self.all_open.set()
        if kind == "resize":
            while data := await stream.read():
                self.resizes.append(json.loads(data))


async def test_v5_close_ends_the_remote_stdin_and_the_status_comes_last() -> None:
    runtime = FakeStreamingServer()
    url = await runtime.start()
    a, b = socket.socketpair()
    ra, wa = await asyncio.open_connection(sock=a)
    rb, wb = await asyncio.open_connection(sock=b)
    kubelet_end = WebSocket(ra, wa, channels.V5)
    client = WebSocket(rb, wb, channels.V5, side=Side.CLIENT)
    bridge = asyncio.create_task(stream_bridge.bridge_v5(kubelet_end, url, StreamOptions(stdin=True, tty=True)))
    await client.send(channels.encode(channels.V5, channels.RESIZE, channels.resize(80, 24)))
    await client.send(channels.encode(channels.V5, channels.STDIN, b"hello "))
    await client.send(channels.encode(channels.V5, channels.STDIN, b"world"))
    await client.send(channels.encode(channels.V5, channels.CLOSE, bytes([channels.STDIN])))
    received = []
    while (message := await client.recv()) is not None:
        received.append(channels.decode(channels.V5, message))
    await asyncio.wait_for(bridge, 5)
    output = b"".join(d for ch, d in received if ch == channels.STDOUT)
    assert output == b"hello world"
    assert received[-1] == (channels.ERROR, b'{"metadata": {}, "status": "Success"}')
    assert runtime.resizes == [{"Width": 80, "Height": 24}]
    assert runtime.protocols == ["v4.channel.k8s.io"]
    runtime.server.close()
