"""SPDY/3.1 framing: frames to bytes and back, and the zlib-compressed header blocks.

Pure (no I/O). `encode_*` build one frame; `FrameReader.feed(bytes)` returns the frames
completed so far. Header blocks are compressed with one zlib stream per direction of a
connection, primed with SPDY/3's dictionary and sync-flushed after each block, so a
`HeaderCodec` belongs to one connection. Header names are lowercase on the wire (Go's
framer refuses others) and a name's several values are joined with NUL.

Frame layout (draft-mbelshe-httpbis-spdy-00): a control frame starts with the control bit,
version 3 and a 16-bit type; a data frame with a 31-bit stream id; both then carry 8 bits
of flags and a 24-bit length.
"""
from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field

VERSION = 3
SYN_STREAM, SYN_REPLY, RST_STREAM, SETTINGS, PING, GOAWAY, HEADERS, WINDOW_UPDATE = 1, 2, 3, 4, 6, 7, 8, 9
FLAG_FIN, FLAG_UNIDIRECTIONAL = 0x01, 0x02
RST_PROTOCOL_ERROR, RST_INVALID_STREAM, RST_REFUSED_STREAM, RST_CANCEL = 1, 2, 3, 5
MAX_LENGTH = (1 << 24) - 1

_WORDS = ("options head post put delete trace accept accept-charset accept-encoding accept-language "
          "accept-ranges age allow authorization cache-control connection content-base content-encoding "
          "content-language content-length content-location content-md5 content-range content-type date "
          "etag expect expires from host if-match if-modified-since if-none-match if-range "
          "if-unmodified-since last-modified location max-forwards pragma proxy-authenticate "
          "proxy-authorization range referer retry-after server te trailer transfer-encoding upgrade "
          "user-agent vary via warning www-authenticate method get status").split() + ["200 OK"] + \
    "version HTTP/1.1 url public set-cookie keep-alive origin".split()
_TAIL = ("100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505"
         "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request"
         "401 Unauthorized403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented"
         "503 Service UnavailableJan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 "
         "Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMTchunked,text/html,image/png,image/jpg,image/gif,"
         "application/xml,application/xhtml+xml,text/plain,text/javascript,publicprivatemax-age="
         "gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.")
# SPDY/3's header dictionary: length-prefixed words, then a plain tail (1423 bytes)
DICTIONARY = b"".join(len(w).to_bytes(4, "big") + w.encode() for w in _WORDS) + _TAIL.encode()

Headers = dict[str, list[str]]


class ProtocolError(Exception):
    """The peer sent something that is not SPDY/3.1."""


@dataclass
class Frame:
    """One frame. `type` is 0 for DATA; `stream_id` is 0 for connection-level frames."""

    type: int
    flags: int = 0
    stream_id: int = 0
    data: bytes = b""                       # DATA payload
    headers: Headers = field(default_factory=dict)
    status: int = 0                         # RST_STREAM, GOAWAY
    value: int = 0                          # PING id, WINDOW_UPDATE delta, SYN_STREAM associated id


class HeaderCodec:
    """Header blocks of one connection: a compressor for what we send, a decompressor for
    what we receive."""

    def __init__(self) -> None:
        self._out = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, 15, 9, zlib.Z_DEFAULT_STRATEGY,
                                     DICTIONARY)
        self._in = zlib.decompressobj(zdict=DICTIONARY)

    def pack(self, headers: Headers) -> bytes:
        block = [struct.pack(">I", len(headers))]
        for name, values in headers.items():
            n, v = name.lower().encode(), "\0".join(values).encode()
            block += [struct.pack(">I", len(n)), n, struct.pack(">I", len(v)), v]
        return self._out.compress(b"".join(block)) + self._out.flush(zlib.Z_SYNC_FLUSH)

    def unpack(self, data: bytes) -> Headers:
        try:
            raw = self._in.decompress(data)
        except zlib.error as e:
            raise ProtocolError(f"bad header block: {e}") from None
        try:
            (count,), pos = struct.unpack_from(">I", raw), 4
            out: Headers = {}
            for _ in range(count):
                (nlen,) = struct.unpack_from(">I", raw, pos)
                name = raw[pos + 4:pos + 4 + nlen].decode()
                pos += 4 + nlen
                (vlen,) = struct.unpack_from(">I", raw, pos)
                value = raw[pos + 4:pos + 4 + vlen].decode()
                pos += 4 + vlen
                out.setdefault(name.lower(), []).extend(value.split("\0"))
        except (struct.error, UnicodeDecodeError) as e:
            raise ProtocolError(f"bad header block: {e}") from None
        return out


def _control(ftype: int, flags: int, body: bytes) -> bytes:
    if len(body) > MAX_LENGTH:
        raise ValueError("frame too large")
    return struct.pack(">HHI", 0x8000 | VERSION, ftype, (flags << 24) | len(body)) + body


def encode_data(stream_id: int, data: bytes, fin: bool = False) -> bytes:
    return struct.pack(">II", stream_id & 0x7FFFFFFF, ((FLAG_FIN if fin else 0) << 24) | len(data)) + data


def encode_syn_stream(codec: HeaderCodec, stream_id: int, headers: Headers, fin: bool = False,
                      priority: int = 0) -> bytes:
    body = struct.pack(">IIBB", stream_id, 0, (priority & 7) << 5, 0) + codec.pack(headers)
    return _control(SYN_STREAM, FLAG_FIN if fin else 0, body)


def encode_syn_reply(codec: HeaderCodec, stream_id: int, headers: Headers, fin: bool = False) -> bytes:
    return _control(SYN_REPLY, FLAG_FIN if fin else 0, struct.pack(">I", stream_id) + codec.pack(headers))


def encode_rst_stream(stream_id: int, status: int) -> bytes:
    return _control(RST_STREAM, 0, struct.pack(">II", stream_id, status))


def encode_ping(ping_id: int) -> bytes:
    return _control(PING, 0, struct.pack(">I", ping_id))


def encode_goaway(last_stream_id: int, status: int = 0) -> bytes:
    return _control(GOAWAY, 0, struct.pack(">II", last_stream_id, status))


class FrameReader:
    """Frames out of a byte stream, for one connection (it owns the receiving header codec)."""

    def __init__(self, codec: HeaderCodec) -> None:
        self.codec = codec
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[Frame]:
        self._buf += data
        frames = []
        while len(self._buf) >= 8:
            word, flags_len = struct.unpack_from(">II", self._buf)
            length = flags_len & 0xFFFFFF
            if len(self._buf) < 8 + length:
                break
            body = bytes(self._buf[8:8 + length])
            del self._buf[:8 + length]
            flags = flags_len >> 24
            if word & 0x80000000:
                version, ftype = (word >> 16) & 0x7FFF, word & 0xFFFF
                if version != VERSION:
                    raise ProtocolError(f"unsupported SPDY version {version}")
                frame = self._control(ftype, flags, body)
                if frame is not None:
                    frames.append(frame)
            else:
                frames.append(Frame(0, flags, word & 0x7FFFFFFF, data=body))
        return frames

    def _control(self, ftype: int, flags: int, body: bytes) -> Frame | None:
        try:
            if ftype == SYN_STREAM:
                sid, assoc = struct.unpack_from(">II", body)
                return Frame(ftype, flags, sid & 0x7FFFFFFF, headers=self.codec.unpack(body[10:]),
                             value=assoc & 0x7FFFFFFF)
            if ftype in (SYN_REPLY, HEADERS):
                (sid,) = struct.unpack_from(">I", body)
                return Frame(ftype, flags, sid & 0x7FFFFFFF, headers=self.codec.unpack(body[4:]))
            if ftype in (RST_STREAM, GOAWAY):
                sid, status = struct.unpack_from(">II", body)
                return Frame(ftype, flags, sid & 0x7FFFFFFF, status=status)
            if ftype == PING:
                return Frame(ftype, flags, value=struct.unpack_from(">I", body)[0])
            if ftype == WINDOW_UPDATE:
                sid, delta = struct.unpack_from(">II", body)
                return Frame(ftype, flags, sid & 0x7FFFFFFF, value=delta & 0x7FFFFFFF)
        except struct.error:
            raise ProtocolError(f"short control frame of type {ftype}") from None
        return None if ftype != SETTINGS else Frame(ftype, flags)
