"""The agent's client-side load balancer for the apiservers, as k3s' agent has one.

Owns a TCP listener on 127.0.0.1 (a free port) that the node's kubelet, kube-proxy and
network policy reach the control plane through: each connection goes to the server that
answered last, else to the next that accepts a connection (TLS stays end to end: every
server's certificate names 127.0.0.1 and comes from the one cluster CA). The servers are
the one `pykube agent --server` named plus every address of the `default/kubernetes`
Endpoints (one per live apiserver, apiserver/endpoint_reconciler.py), refreshed every
REFRESH seconds by `follow_endpoints`. `order` is the pure choice of who is tried first.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger("pykube.lb")

REFRESH = 10.0
CONNECT_TIMEOUT = 2.0


def order(servers: list[str], preferred: str | None) -> list[str]:
    """The servers to try, the preferred (last good) one first, the rest in their order."""
    if preferred in servers:
        return [preferred, *[s for s in servers if s != preferred]]  # type: ignore[list-item]
    return list(servers)


def _split(hostport: str) -> tuple[str, int]:
    host, port = hostport.rsplit(":", 1)
    return host.strip("[]"), int(port)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


class APIServerLoadBalancer:
    def __init__(self, servers: list[str]) -> None:
        self.servers = list(servers)      # host:port
        self.preferred: str | None = self.servers[0] if self.servers else None
        self._server: asyncio.base_events.Server | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def set_servers(self, servers: list[str]) -> None:
        if servers != self.servers:
            log.info("apiservers: %s", ", ".join(servers))
            self.servers = list(servers)

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("apiserver load balancer on 127.0.0.1:%d -> %s", self.port, ", ".join(self.servers))

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        for server in order(self.servers, self.preferred):
            try:
                conn = await asyncio.wait_for(asyncio.open_connection(*_split(server)), CONNECT_TIMEOUT)
            except (OSError, asyncio.TimeoutError):
                continue
            if server != self.preferred:
                log.info("apiserver %s answers; using it", server)
                self.preferred = server
            return conn
        return None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream = await self._connect()
        if upstream is None:
            writer.close()
            return
        ur, uw = upstream
        await asyncio.gather(_pipe(reader, uw), _pipe(ur, writer))


async def follow_endpoints(lb: APIServerLoadBalancer, first: str,
                           fetch: Callable[[], Awaitable[list[str]]]) -> None:
    """Keep `lb.servers` = `first` plus the `kubernetes` Endpoints' addresses (`fetch()`)."""
    while True:
        try:
            found = await fetch()
            lb.set_servers([first, *[s for s in found if s != first]])
        except Exception as e:  # noqa: BLE001 - the next round tries again
            log.debug("kubernetes endpoints: %s", e)
        await asyncio.sleep(REFRESH)
