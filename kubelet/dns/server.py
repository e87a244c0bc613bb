"""The cluster DNS server: UDP and TCP on one port, cluster names answered, others forwarded.

Owns the wire (dnslib): `DNSServer.handle(packet)` parses a query, asks
`records.Resolver` and packs the answer (authoritative, EDNS-aware truncation on UDP:
`TC` set, the client retries over TCP), or forwards the query unchanged to the upstream
resolvers (the host's `/etc/resolv.conf` by default; first one to answer wins, SERVFAIL
when none does). `InformerView` is the `ClusterView` over the Service and EndpointSlice caches (endpoints
read from slices, as CoreDNS's kubernetes plugin does).

Invariants: a malformed packet is dropped, never answered; one slow upstream never
blocks other queries (each query is its own task); the listeners bind UDP and TCP to the
same port (port 0 picks one free for both).
"""
from __future__ import annotations

import asyncio
import logging
import struct
from collections.abc import Iterable
from pathlib import Path

from dnslib import AAAA, CNAME, PTR, QTYPE, RCODE, RR, SOA, SRV, A, DNSError, DNSRecord

from api.models import Endpoints, EndpointSlice, Service
from client.informer import Informer
from kubelet.dns import records
from kubelet.endpointslices import SliceCache

log = logging.getLogger("dns")
Upstream = tuple[str, int]


class InformerView:
    """Services from their informer; each Service's endpoints merged from its EndpointSlices
    (the informer's events keep a `SliceCache`; merged views are computed once per change)."""

    def __init__(self, services: Informer, slices: Informer) -> None:
        self._services = services
        self._slices = SliceCache()
        self._merged: dict[str, Endpoints | None] = {}
        slices.add_handlers(self._on_slice, lambda _o, n: self._on_slice(n), self._on_slice_delete)

    def _on_slice(self, es: EndpointSlice) -> None:
        for key in self._slices.update(es):
            self._merged.pop(key, None)

    def _on_slice_delete(self, es: EndpointSlice) -> None:
        for key in self._slices.delete(es):
            self._merged.pop(key, None)

    def service(self, namespace: str, name: str) -> Service | None:
        obj = self._services.store.get(f"{namespace}/{name}")
        return obj if isinstance(obj, Service) else None

    def endpoints(self, namespace: str, name: str) -> Endpoints | None:
        key = f"{namespace}/{name}"
        if key not in self._merged:
            self._merged[key] = self._slices.endpoints(key)
        return self._merged[key]

    def services(self) -> Iterable[Service]:
        return self._services.store.list()


def host_upstreams(path: Path = Path("/etc/resolv.conf"), exclude: Iterable[str] = ()) -> list[Upstream]:
    skip = set(exclude)
    out = []
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return []
    for line in lines:
        words = line.split()
        if len(words) >= 2 and words[0] == "nameserver" and words[1] not in skip:
            out.append((words[1], 53))
    return out


def parse_upstream(text: str) -> Upstream:
    host, _, port = text.rpartition(":") if text.count(":") == 1 else (text, "", "")
    return (host, int(port)) if port else (text, 53)


def _rdata(rr: records.RR) -> object:
    d = rr.data
    if rr.rtype == "A":
        return A(str(d[0]))
    if rr.rtype == "AAAA":
        return AAAA(str(d[0]))
    if rr.rtype == "CNAME":
        return CNAME(str(d[0]))
    if rr.rtype == "PTR":
        return PTR(str(d[0]))
    if rr.rtype == "SRV":
        return SRV(priority=int(d[0]), weight=int(d[1]), port=int(d[2]), target=str(d[3]))  # type: ignore[call-overload]
    if rr.rtype == "SOA":
        return SOA(mname=str(d[0]), rname=str(d[1]), times=tuple(int(x) for x in d[2:]))
    raise ValueError(rr.rtype)


def _rr(rr: records.RR) -> RR:
    return RR(rr.name, getattr(QTYPE, rr.rtype), ttl=rr.ttl, rdata=_rdata(rr))


class _UDP(asyncio.DatagramProtocol):
    def __init__(self, server: DNSServer) -> None:
        self.server = server
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.server._spawn(self._reply(data, addr))

    async def _reply(self, data: bytes, addr: tuple[str, int]) -> None:
        out = await self.server.handle(data, tcp=False)
        if out is not None and self.transport is not None:
            self.transport.sendto(out, addr)


class _Forward(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.reply: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if not self.reply.done():
            self.reply.set_result(data)


class DNSServer:
    def __init__(self, view: records.ClusterView, domain: str = "cluster.local",
                 upstreams: list[Upstream] | None = None, ttl: int = records.DEFAULT_TTL,
                 forward_timeout: float = 2.0) -> None:
        self.resolver = records.Resolver(view, domain, ttl)
        self.upstreams = list(upstreams or [])
        self.forward_timeout = forward_timeout
        self.port = 0
        self.queries = 0
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    # ---------------------------------------------------------------- lifecycle
    async def start(self, host: str = "0.0.0.0", port: int = 53, attempts: int = 20) -> int:
        loop = asyncio.get_running_loop()
        for _ in range(attempts if port == 0 else 1):
            transport, _ = await loop.create_datagram_endpoint(lambda: _UDP(self), local_addr=(host, port))
            chosen = transport.get_extra_info("sockname")[1]
            try:
                self._tcp = await asyncio.start_server(self._serve_tcp, host, chosen, reuse_address=True)
            except OSError:
                transport.close()
                if port:
                    raise
                continue
            self._udp, self.port = transport, chosen
            log.info("serving on %s:%d (udp+tcp)", host, chosen)
            return chosen
        raise OSError("no port free for both UDP and TCP")

    async def stop(self) -> None:
        if self._udp is not None:
            self._udp.close()
            self._udp = None
        if self._tcp is not None:
            self._tcp.close()
            await self._tcp.wait_closed()
            self._tcp = None
        for t in list(self._tasks):
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _spawn(self, coro: object) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ---------------------------------------------------------------- queries
    async def handle(self, data: bytes, tcp: bool) -> bytes | None:
        try:
            request = DNSRecord.parse(data)
        except (DNSError, struct.error, IndexError, ValueError):
            return None
        if request.header.qr or not request.questions:
            return None
        self.queries += 1
        q = request.q
        qtype = QTYPE.get(q.qtype, str(q.qtype))
        ans = self.resolver.answer(str(q.qname), str(qtype))
        if ans is None:
            return await self.forward(data, tcp) or self._servfail(request)
        reply = request.reply()
        reply.header.rcode = RCODE.NXDOMAIN if ans.rcode == "NXDOMAIN" else RCODE.NOERROR
        for rr in ans.answers:
            reply.add_answer(_rr(rr))
        for rr in ans.authority:
            reply.add_auth(_rr(rr))
        for rr in ans.additional:
            reply.add_ar(_rr(rr))
        out = bytes(reply.pack())
        limit = 512
        for ar in request.ar:
            if ar.rtype == QTYPE.OPT:
                limit = max(512, int(ar.rclass))
        if not tcp and len(out) > limit:
            short = request.reply()
            short.header.tc = 1
            out = bytes(short.pack())
        return out

    def _servfail(self, request: DNSRecord) -> bytes:
        reply = request.reply()
        reply.header.rcode = RCODE.SERVFAIL
        return bytes(reply.pack())

    async def forward(self, data: bytes, tcp: bool) -> bytes | None:
        for host, port in self.upstreams:
            try:
                if tcp:
                    return await asyncio.wait_for(self._forward_tcp(data, host, port), self.forward_timeout)
                return await self._forward_udp(data, host, port)
            except (OSError, TimeoutError, asyncio.IncompleteReadError) as e:
                log.debug("upstream %s:%d failed: %s", host, port, e)
        return None

    async def _forward_udp(self, data: bytes, host: str, port: int) -> bytes:
        loop = asyncio.get_running_loop()
        transport, proto = await loop.create_datagram_endpoint(_Forward, remote_addr=(host, port))
        try:
            transport.sendto(data)
            return await asyncio.wait_for(proto.reply, self.forward_timeout)
        finally:
            transport.close()

    async def _forward_tcp(self, data: bytes, host: str, port: int) -> bytes:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            writer.write(struct.pack("!H", len(data)) + data)
            await writer.drain()
            (size,) = struct.unpack("!H", await reader.readexactly(2))
            return await reader.readexactly(size)
        finally:
            writer.close()

    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                (size,) = struct.unpack("!H", await asyncio.wait_for(reader.readexactly(2), 30))
                out = await self.handle(await reader.readexactly(size), tcp=True)
                if out is None:
                    break
                writer.write(struct.pack("!H", len(out)) + out)
                await writer.drain()
        except (asyncio.IncompleteReadError, TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()
