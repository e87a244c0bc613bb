"""The agent's load balancer over the apiservers: the last server that answered is tried
first; a connection to a dead server moves on to the next; the list follows the
`kubernetes` Endpoints and always keeps the server the agent joined through."""
from __future__ import annotations

import asyncio
import socket

from pykube.apiserver_lb import APIServerLoadBalancer, order


def test_order_tries_the_last_good_server_first() -> None:
    assert order(["a:1", "b:1", "c:1"], "b:1") == ["b:1", "a:1", "c:1"]
    assert order(["a:1", "b:1"], "gone:1") == ["a:1", "b:1"]
    assert order([], None) == []


def _dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])    # closed again: nothing listens there


async def test_a_dead_server_is_skipped_and_bytes_flow_both_ways() -> None:
    async def echo(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        w.write(b"alive:" + await r.readline())
        await w.drain()
        w.close()
    live = await asyncio.start_server(echo, "127.0.0.1", 0)
    live_port = live.sockets[0].getsockname()[1]
    lb = APIServerLoadBalancer([f"127.0.0.1:{_dead_port()}", f"127.0.0.1:{live_port}"])
    await lb.start()
    try:
        r, w = await asyncio.open_connection("127.0.0.1", lb.port)
        w.write(b"hello\n")
        await w.drain()
        assert await asyncio.wait_for(r.read(), 5) == b"alive:hello\n"
        w.close()
        assert lb.preferred == f"127.0.0.1:{live_port}"
        lb.set_servers([f"127.0.0.1:{_dead_port()}"])        # nobody answers: the client is closed
        r, w = await asyncio.open_connection("127.0.0.1", lb.port)
        assert await asyncio.wait_for(r.read(), 5) == b""
        w.close()
    finally:
        await lb.close()
        live.close()
        await live.wait_closed()
