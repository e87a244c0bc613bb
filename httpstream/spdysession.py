"""An asyncio SPDY/3.1 connection: streams opened by either side over one upgraded socket.

`SpdySession(reader, writer, client=True)` after a `101 Switching Protocols` to `SPDY/3.1`.
`start()` runs the frame reader; `open_stream(headers)` sends SYN_STREAM and waits for the
SYN_REPLY (as client-go does); streams the peer opens are answered at once and handed to
`on_stream`. A `SpdyStream` reads its DATA in order (`read()` returns b"" at the peer's
FIN, a reset or the end of the connection), writes DATA, and `close()` half-closes it
(DATA with FIN: how a remote command learns that stdin ended).

Invariants: frames are written whole by one synchronous `writer.write` each, so header
compression order equals send order; PINGs are answered; SETTINGS and WINDOW_UPDATE are
read and ignored (moby/spdystream, the Go side of every peer here, does no flow control);
when the socket ends, every stream ends.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from httpstream import spdy, upgrade

log = logging.getLogger("httpstream.spdy")
CHUNK = 32 * 1024


class StreamReset(Exception):
    """The peer reset the stream (or refused to open it)."""


class SpdyStream:
    def __init__(self, session: SpdySession, stream_id: int, headers: spdy.Headers) -> None:
        self.session, self.id, self.headers = session, stream_id, headers
        self._data: asyncio.Queue[bytes] = asyncio.Queue()
        self._replied: asyncio.Future[spdy.Headers] = asyncio.get_running_loop().create_future()
        self.remote_closed = False
        self.local_closed = False

    def header(self, name: str) -> str:
        return (self.headers.get(name.lower()) or [""])[0]

    async def read(self) -> bytes:
        """The next chunk of data; b"" once the peer has finished the stream."""
        if self.remote_closed and self._data.empty():
            return b""
        chunk = await self._data.get()
        return chunk

    async def write(self, data: bytes) -> None:
        if self.local_closed:
            raise ConnectionError(f"write on closed SPDY stream {self.id}")
        for i in range(0, len(data), CHUNK):
            await self.session.send(spdy.encode_data(self.id, data[i:i + CHUNK]))

    async def close(self) -> None:
        """Half-close: no more data from us."""
        if not self.local_closed:
            self.local_closed = True
            with contextlib.suppress(ConnectionError):
                await self.session.send(spdy.encode_data(self.id, b"", fin=True))

    def _remote_finished(self) -> None:
        if not self.remote_closed:
            self.remote_closed = True
            self._data.put_nowait(b"")


class SpdySession:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, client: bool,
                 on_stream: Callable[[SpdyStream], Awaitable[None]] | None = None) -> None:
        self.reader, self.writer, self.client = reader, writer, client
        self.on_stream = on_stream
        self.codec = spdy.HeaderCodec()
        self.frames = spdy.FrameReader(self.codec)
        self.streams: dict[int, SpdyStream] = {}
        self._next_id = 1 if client else 2
        self._task: asyncio.Task[None] | None = None
        self._handlers: set[asyncio.Task[None]] = set()
        self.closed = asyncio.Event()

    def start(self) -> None:
        self._task = asyncio.create_task(self._read_loop(), name="spdy-reader")

    async def send(self, frame: bytes) -> None:
        if self.closed.is_set() or self.writer.is_closing():
            raise ConnectionError("SPDY connection closed")
        self.writer.write(frame)
        await self.writer.drain()

    async def open_stream(self, headers: dict[str, str], timeout: float = 30.0) -> SpdyStream:
        sid, self._next_id = self._next_id, self._next_id + 2
        stream = SpdyStream(self, sid, {k.lower(): [v] for k, v in headers.items()})
        self.streams[sid] = stream
        await self.send(spdy.encode_syn_stream(self.codec, sid, stream.headers))
        try:
            await asyncio.wait_for(asyncio.shield(stream._replied), timeout)
        except TimeoutError:
            raise StreamReset(f"no reply to SPDY stream {headers}") from None
        return stream

    async def close(self) -> None:
        """GOAWAY, then close the socket; every stream ends."""
        if not self.closed.is_set():
            with contextlib.suppress(ConnectionError, RuntimeError):
                await self.send(spdy.encode_goaway(0))
        await self._finish()

    async def wait_closed(self) -> None:
        await self.closed.wait()

    async def _finish(self) -> None:
        if self.closed.is_set():
            return
        self.closed.set()
        for stream in self.streams.values():
            stream._remote_finished()
            if not stream._replied.done():
                stream._replied.set_exception(StreamReset("connection closed"))
                stream._replied.exception()   # retrieved: nobody may be waiting
        await upgrade.close(self.writer)
        if self._task is not None and self._task is not asyncio.current_task():
            self._task.cancel()
        for task in list(self._handlers):
            task.cancel()

    async def _read_loop(self) -> None:
        try:
            while True:
                data = await self.reader.read(65536)
                if not data:
                    break
                for frame in self.frames.feed(data):
                    await self._handle(frame)
        except (ConnectionError, spdy.ProtocolError, OSError) as e:
            log.debug("SPDY connection ended: %s", e)
        finally:
            await self._finish()

    async def _handle(self, f: spdy.Frame) -> None:
        stream = self.streams.get(f.stream_id)
        if f.type == 0:
            if stream is not None and not stream.remote_closed:
                if f.data:
                    stream._data.put_nowait(f.data)
                if f.flags & spdy.FLAG_FIN:
                    stream._remote_finished()
        elif f.type == spdy.SYN_REPLY and stream is not None:
            if not stream._replied.done():
                stream._replied.set_result(f.headers)
            if f.flags & spdy.FLAG_FIN:
                stream._remote_finished()
        elif f.type == spdy.SYN_STREAM:
            await self._accept(f)
        elif f.type == spdy.RST_STREAM and stream is not None:
            stream.local_closed = True
            stream._remote_finished()
            if not stream._replied.done():
                stream._replied.set_exception(StreamReset(f"stream {f.stream_id} reset ({f.status})"))
                stream._replied.exception()
        elif f.type == spdy.PING and (f.value & 1) != (self._next_id & 1):
            await self.send(spdy.encode_ping(f.value))   # the peer's ping: echo it
        elif f.type == spdy.GOAWAY:
            log.debug("SPDY GOAWAY received")

    async def _accept(self, f: spdy.Frame) -> None:
        if self.on_stream is None:
            await self.send(spdy.encode_rst_stream(f.stream_id, spdy.RST_REFUSED_STREAM))
            return
        stream = SpdyStream(self, f.stream_id, f.headers)
        self.streams[f.stream_id] = stream
        stream._replied.set_result({})
        await self.send(spdy.encode_syn_reply(self.codec, f.stream_id, {}))
        if f.flags & spdy.FLAG_FIN:
            stream._remote_finished()
        task = asyncio.create_task(self.on_stream(stream))
        self._handlers.add(task)
        task.add_done_callback(self._handlers.discard)
