"""Channel framing, subprotocol negotiation, the WebSocket handshake and frames, upgrade heads."""
from __future__ import annotations

import asyncio
import socket

from httpstream import channels, upgrade
from httpstream.hijack import upgrade_of
from httpstream.websocket import Side, WebSocket, accept_key, accept_response


def test_negotiation_prefers_the_servers_order_and_accepts_odd_names() -> None:
    offers = channels.offered("v4.channel.k8s.io, v5.channel.k8s.io")
    assert channels.negotiate(offers, channels.EXEC_PROTOCOLS) == "v5.channel.k8s.io"
    assert channels.negotiate([], channels.EXEC_PROTOCOLS) == ""          # no protocol: binary channels
    assert channels.negotiate(["v3.channel.k8s.io"], channels.EXEC_PROTOCOLS) is None
    assert channels.offered("SPDY/3.1+portforward.k8s.io") == [channels.SPDY_PORTFORWARD_TUNNEL]
    assert channels.negotiate(["v5.channel.k8s.io", "v4.channel.k8s.io"],
                              channels.PORTFORWARD_PROTOCOLS) == "v4.channel.k8s.io"   # no v5 port-forward


def test_binary_and_base64_framing() -> None:
    assert channels.encode(channels.V4, channels.STDOUT, b"hi") == b"\x01hi"
    assert channels.encode(channels.V4_BASE64, channels.STDERR, b"hi") == "2aGk="
    assert channels.decode(channels.V1_BASE64, "1aGk=") == (1, b"hi")
    assert channels.decode(channels.V5, b"\xff\x00") == (channels.CLOSE, b"\x00")
    assert channels.decode(channels.V4, b"") == (-1, b"")
    assert channels.port_prefix(8080) == b"\x90\x1f"
    assert channels.exit_code({"status": "Failure", "reason": "InternalError"}) == 1


def test_handshake_answer() -> None:
    assert accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="   # RFC 6455's example
    answer = accept_response("dGhlIHNhbXBsZSBub25jZQ==", "SPDY/3.1+portforward.k8s.io").decode()
    assert answer.startswith("HTTP/1.1 101 Switching Protocols\r\n") and answer.endswith("\r\n\r\n")
    assert "Sec-WebSocket-Protocol: SPDY/3.1+portforward.k8s.io\r\n" in answer


def test_upgrade_requests_and_answers() -> None:
    assert upgrade_of([(b"connection", b"keep-alive, Upgrade"), (b"upgrade", b"SPDY/3.1")]) == "spdy/3.1"
    assert upgrade_of([(b"upgrade", b"websocket")]) == ""                  # no "Connection: Upgrade"
    head = upgrade.parse_head(b"HTTP/1.1 101 Switching Protocols\r\nX-Stream-Protocol-Version: v4.channel.k8s.io"
                              b"\r\nUpgrade: SPDY/3.1\r\n\r\n")
    assert (head.status, head.header("x-stream-protocol-version")) == (101, "v4.channel.k8s.io")
    assert upgrade.request_head("POST", "/exec/x", "127.0.0.1:1", [("Host", "ignored"), ("A", "b")]) == \
        b"POST /exec/x HTTP/1.1\r\nHost: 127.0.0.1:1\r\nA: b\r\n\r\n"


async def test_messages_fragments_and_close_between_our_two_ends() -> None:
    a, b = socket.socketpair()
    server = WebSocket(*await asyncio.open_connection(sock=a), subprotocol=channels.V4)
    client = WebSocket(*await asyncio.open_connection(sock=b), subprotocol=channels.V4, side=Side.CLIENT)
    await client.send(b"\x00" + b"x" * 200_000)
    await client.send("text")
    client.protocol.send_binary(b"frag", fin=False)                  # a fragmented message
    client.protocol.send_continuation(b"ment", fin=True)
    client._flush()
    assert await server.recv() == b"\x00" + b"x" * 200_000
    assert await server.recv() == "text"
    assert await server.recv() == b"fragment"
    await client.close()
    assert await server.recv() is None
    await server.close()
