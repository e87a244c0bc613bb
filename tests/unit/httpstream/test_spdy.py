"""SPDY/3.1 frames, header compression and the asyncio session (both ends ours, over a socket pair).

Interoperability with Go's spdystream (containerd, kubectl) is shown end to end in
tests/e2e/test_streaming.py; here the framing rules and the session's behaviour: streams
opened and answered, data in order, half-close as end of input, resets, pings.
"""
from __future__ import annotations

import asyncio
import socket
import struct
import zlib
from collections.abc import AsyncIterator

import pytest

from httpstream import spdy
from httpstream.spdysession import SpdySession, SpdyStream, StreamReset


def test_dictionary_is_spdy3s() -> None:
    d = spdy.DICTIONARY
    assert len(d) == 1423
    assert d.startswith(b"\x00\x00\x00\x07options\x00\x00\x00\x04head") and d.endswith(b"utf-,*,enq=0.")


def test_header_blocks_use_one_zlib_stream_per_direction() -> None:
    ours, theirs = spdy.HeaderCodec(), spdy.HeaderCodec()
    first = ours.pack({"streamType": ["stdin"], "x": ["a", "b"]})
    second = ours.pack({"streamType": ["stdout"]})
    # a zlib stream with SPDY's dictionary: the header names it (FDICT and its Adler-32)
    assert first[1] & 0x20 and struct.unpack(">I", first[2:6])[0] == zlib.adler32(spdy.DICTIONARY)
    assert theirs.unpack(first) == {"streamtype": ["stdin"], "x": ["a", "b"]}   # lowercase names, NUL-joined
    assert theirs.unpack(second) == {"streamtype": ["stdout"]}
    with pytest.raises(spdy.ProtocolError):
        spdy.HeaderCodec().unpack(second)   # a later block alone cannot be inflated


def test_frames_round_trip_in_pieces() -> None:
    sender, receiver = spdy.HeaderCodec(), spdy.FrameReader(spdy.HeaderCodec())
    wire = (spdy.encode_syn_stream(sender, 1, {"streamtype": ["error"]}) + spdy.encode_data(1, b"hello")
            + spdy.encode_data(1, b"", fin=True) + spdy.encode_rst_stream(3, spdy.RST_CANCEL)
            + spdy.encode_ping(7) + spdy.encode_goaway(5))
    frames = []
    for i in range(0, len(wire), 3):          # any split of the byte stream
        frames += receiver.feed(wire[i:i + 3])
    kinds = [(f.type, f.stream_id) for f in frames]
    assert kinds == [(spdy.SYN_STREAM, 1), (0, 1), (0, 1), (spdy.RST_STREAM, 3), (spdy.PING, 0), (spdy.GOAWAY, 5)]
    assert frames[0].headers == {"streamtype": ["error"]}
    assert frames[1].data == b"hello" and frames[2].flags & spdy.FLAG_FIN
    assert frames[3].status == spdy.RST_CANCEL and frames[4].value == 7


def test_other_versions_are_refused() -> None:
    frame = bytearray(spdy.encode_ping(1))
    frame[1] = 2
    with pytest.raises(spdy.ProtocolError, match="version 2"):
        spdy.FrameReader(spdy.HeaderCodec()).feed(bytes(frame))


async def _pair(on_stream: object) -> tuple[SpdySession, SpdySession]:
    a, b = socket.socketpair()
    ra, wa = await asyncio.open_connection(sock=a)
    rb, wb = await asyncio.open_connection(sock=b)
    client = SpdySession(ra, wa, client=True)
    server = SpdySession(rb, wb, client=False, on_stream=on_stream)  # type: ignore[arg-type]
    client.start()
    server.start()
    return client, server


@pytest.fixture
async def echo() -> AsyncIterator[tuple[SpdySession, SpdySession]]:
    """A server that echoes each stream's data back, upper-cased, until the stream's end."""
    async def upper(stream: SpdyStream) -> None:
        while data := await stream.read():
            await stream.write(data.upper())
        await stream.write(b"[" + stream.header("streamType").encode() + b" ended]")
        await stream.close()
    client, server = await _pair(upper)
    yield client, server
    await client.close()
    await server.close()


async def test_streams_carry_data_both_ways_and_half_close(echo: tuple[SpdySession, SpdySession]) -> None:
    client, _ = echo
    one = await client.open_stream({"streamType": "stdin"})
    two = await client.open_stream({"streamType": "other"})
    assert (one.id, two.id) == (1, 3)                    # a client's streams are odd
    await one.write(b"abc")
    assert await one.read() == b"ABC"
    await one.write(b"x" * 100_000)                      # several DATA frames
    got = b""
    while len(got) < 100_000:
        got += await one.read()
    assert got == b"X" * 100_000
    await one.close()                                    # our end of input: theirs follows
    assert await one.read() == b"[stdin ended]"
    assert await one.read() == b""
    await two.write(b"still open")
    assert await two.read() == b"STILL OPEN"


async def test_a_refused_stream_and_the_end_of_the_connection() -> None:
    client, server = await _pair(None)                   # no handler: every stream is refused
    with pytest.raises(StreamReset):
        await client.open_stream({"streamType": "stdin"})
    await server.close()
    await asyncio.wait_for(client.wait_closed(), 5)      # the socket's end ends the session
    await client.close()


async def test_pings_from_the_peer_are_answered() -> None:
    reader = spdy.FrameReader(spdy.HeaderCodec())
    seen: list[spdy.Frame] = []
    raw_a, raw_b = socket.socketpair()
    ra, wa = await asyncio.open_connection(sock=raw_a)
    rb, wb = await asyncio.open_connection(sock=raw_b)
    session = SpdySession(ra, wa, client=True)           # client: its own pings are odd
    session.start()
    wb.write(spdy.encode_ping(2))                        # an even id: the server's ping
    await wb.drain()
    while not seen:
        seen += reader.feed(await rb.read(100))
    assert seen[0].type == spdy.PING and seen[0].value == 2
    await session.close()
    wb.close()
