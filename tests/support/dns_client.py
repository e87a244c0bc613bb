"""Test support: tiny asyncio DNS clients (UDP and TCP) built on dnslib."""
from __future__ import annotations

import asyncio
import struct

from dnslib import EDNS0, DNSRecord


class _Client(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.reply: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if not self.reply.done():
            self.reply.set_result(data)


async def udp_query(port: int, name: str, qtype: str = "A", edns: bool = False,
                    host: str = "127.0.0.1", timeout: float = 5.0) -> DNSRecord:
    q = DNSRecord.question(name, qtype)
    if edns:
        q.add_ar(EDNS0(udp_len=4096))
    loop = asyncio.get_running_loop()
    transport, proto = await loop.create_datagram_endpoint(_Client, remote_addr=(host, port))
    try:
        transport.sendto(q.pack())
        return DNSRecord.parse(await asyncio.wait_for(proto.reply, timeout))
    finally:
        transport.close()


async def tcp_query(port: int, name: str, qtype: str = "A", host: str = "127.0.0.1") -> DNSRecord:
    r, w = await asyncio.open_connection(host, port)
    try:
        data = DNSRecord.question(name, qtype).pack()
        w.write(struct.pack("!H", len(data)) + data)
        (size,) = struct.unpack("!H", await r.readexactly(2))
        return DNSRecord.parse(await r.readexactly(size))
    finally:
        w.close()
