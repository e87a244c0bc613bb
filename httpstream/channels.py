"""The WebSocket channel protocols of exec, attach and port-forward (pure).

Each WebSocket message carries one channel: binary protocols put the channel number in the
first byte, the base64 ones put it as an ASCII digit before base64 text.
- exec/attach: 0 stdin, 1 stdout, 2 stderr, 3 error (v4+: a `Status` as JSON; before v4
  the error text), 4 resize (`{"Width":W,"Height":H}`); `v5.channel.k8s.io` adds 255,
  "close": its payload names the channel whose writer is done (stdin's end of file).
- port-forward (`v4.channel.k8s.io` and older, ports in the query): per requested port
  i, channel 2i carries data and 2i+1 errors; the first message on each channel is the
  port number as 2 bytes, little endian.
- `SPDY/3.1+portforward.k8s.io`: recent kubectl's port-forward, SPDY frames carried as
  the payload of binary messages (no channel byte).
"""
from __future__ import annotations

import base64
import json
import struct
from typing import Any

V5 = "v5.channel.k8s.io"
V4 = "v4.channel.k8s.io"
V4_BASE64 = "v4.base64.channel.k8s.io"
V1 = "channel.k8s.io"
V1_BASE64 = "base64.channel.k8s.io"
SPDY_PORTFORWARD_TUNNEL = "SPDY/3.1+portforward.k8s.io"

STDIN, STDOUT, STDERR, ERROR, RESIZE, CLOSE = 0, 1, 2, 3, 4, 255

# in the kubelet's order of preference; "" is a client that names no protocol (binary)
EXEC_PROTOCOLS = (V5, V4, V4_BASE64, V1, V1_BASE64)
PORTFORWARD_PROTOCOLS = (V4, V4_BASE64, V1, V1_BASE64)
# what the SPDY upgrade header X-Stream-Protocol-Version names
SPDY_EXEC_PROTOCOLS = ("v4.channel.k8s.io", "v3.channel.k8s.io", "v2.channel.k8s.io", "channel.k8s.io")
SPDY_PORTFORWARD_PROTOCOL = "portforward.k8s.io"


def offered(header: str | None) -> list[str]:
    """The names in a Sec-WebSocket-Protocol header (commas, any spacing)."""
    return [p.strip() for p in (header or "").split(",") if p.strip()]


def negotiate(offers: list[str], supported: tuple[str, ...]) -> str | None:
    """The server's pick: the first of `supported` the client offered; "" when the client
    offered nothing (the binary protocol); None when nothing fits."""
    if not offers:
        return ""
    return next((p for p in supported if p in offers), None)


def is_base64(protocol: str) -> bool:
    return "base64" in protocol


def encode(protocol: str, channel: int, data: bytes) -> bytes | str:
    """One message on `channel` in `protocol`'s framing."""
    if is_base64(protocol):
        return str(channel) + base64.b64encode(data).decode()
    return bytes([channel]) + data


def decode(protocol: str, message: bytes | str) -> tuple[int, bytes]:
    """(channel, payload) of one message; channel -1 for an empty one."""
    if is_base64(protocol):
        text = message if isinstance(message, str) else message.decode()
        if not text:
            return -1, b""
        return int(text[0]), base64.b64decode(text[1:])
    raw = message.encode() if isinstance(message, str) else message
    if not raw:
        return -1, b""
    return raw[0], raw[1:]


def resize(width: int, height: int) -> bytes:
    return json.dumps({"Width": width, "Height": height}).encode()


def exit_code(status: dict[str, Any]) -> int:
    """The remote command's exit code from the error channel's Status (1 for other failures)."""
    if status.get("status") == "Success":
        return 0
    for cause in (status.get("details") or {}).get("causes") or []:
        if cause.get("reason") == "ExitCode":
            try:
                return int(cause.get("message"))
            except (TypeError, ValueError):
                return 1
    return 1


def port_prefix(port: int) -> bytes:
    return struct.pack("<H", port)
