"""The DNS server on loopback: UDP, TCP, truncation, forwarding, bad packets."""
from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from dnslib import QTYPE, RCODE

sys.path.insert(0, os.path.dirname(__file__))  # helpers beside the tests

from dns_view import DictView, cluster, eps, svc

from kubelet.dns import cli
from kubelet.dns.server import DNSServer, host_upstreams, parse_upstream
from tests.support.dns_client import tcp_query, udp_query


@pytest.fixture
async def servers() -> AsyncIterator[tuple[DNSServer, DNSServer]]:
    # the "upstream" is another of our servers, authoritative for example.test
    upstream = DNSServer(DictView([svc("www", {"clusterIP": "192.0.2.80"}, ns="zone")]), domain="example.test")
    await upstream.start("127.0.0.1", 0)
    server = DNSServer(cluster(), upstreams=[("127.0.0.1", upstream.port)])
    await server.start("127.0.0.1", 0)
    yield server, upstream
    await server.stop()
    await upstream.stop()


async def test_udp_and_tcp_answers(servers: tuple[DNSServer, DNSServer]) -> None:
    server, _ = servers
    r = await udp_query(server.port, "nginx-svc.default.svc.cluster.local")
    assert r.header.aa and r.header.rcode == RCODE.NOERROR
    assert [str(a.rdata) for a in r.rr] == ["10.96.0.20"] and r.rr[0].ttl == 5
    r = await tcp_query(server.port, "_pg._tcp.db.default.svc.cluster.local", "SRV")
    assert sorted(str(a.rdata) for a in r.rr)[0].startswith("0 50 5432 ")
    r = await udp_query(server.port, "nope.default.svc.cluster.local")
    assert r.header.rcode == RCODE.NXDOMAIN and r.auth[0].rtype == QTYPE.SOA


async def test_forwarding_udp_and_tcp(servers: tuple[DNSServer, DNSServer]) -> None:
    server, upstream = servers
    r = await udp_query(server.port, "www.zone.svc.example.test")
    assert [str(a.rdata) for a in r.rr] == ["192.0.2.80"]
    r = await tcp_query(server.port, "www.zone.svc.example.test")
    assert [str(a.rdata) for a in r.rr] == ["192.0.2.80"]
    assert upstream.queries == 2


async def test_no_upstream_answers_servfail() -> None:
    server = DNSServer(cluster(), upstreams=[("127.0.0.1", 9)], forward_timeout=0.2)
    await server.start("127.0.0.1", 0)
    try:
        r = await udp_query(server.port, "example.org")
        assert r.header.rcode == RCODE.SERVFAIL
    finally:
        await server.stop()


async def test_big_answers_truncate_on_udp() -> None:
    addrs = [{"ip": f"10.244.{i // 200}.{i % 200 + 1}"} for i in range(100)]
    view = DictView([svc("big", {"clusterIP": "None", "ports": [{"port": 80}]})],
                    [eps("big", addrs, [{"port": 80}])])
    server = DNSServer(view)
    await server.start("127.0.0.1", 0)
    try:
        r = await udp_query(server.port, "big.default.svc.cluster.local")
        assert r.header.tc and not r.rr
        r = await udp_query(server.port, "big.default.svc.cluster.local", edns=True)
        assert not r.header.tc and len(r.rr) == 100
        r = await tcp_query(server.port, "big.default.svc.cluster.local")
        assert len(r.rr) == 100
    finally:
        await server.stop()


async def test_garbage_is_dropped(servers: tuple[DNSServer, DNSServer]) -> None:
    server, _ = servers
    assert await server.handle(b"\x00\x01garbage", tcp=False) is None
    r = await udp_query(server.port, "nginx-svc.default.svc.cluster.local")   # still serving
    assert r.rr


def test_upstreams_from_resolv_conf(tmp_path: Path) -> None:
    f = tmp_path / "resolv.conf"
    f.write_text("search x\nnameserver 10.255.255.53\nnameserver 10.96.0.10\noptions ndots:1\n")
    assert host_upstreams(f, exclude=["10.96.0.10"]) == [("10.255.255.53", 53)]
    assert host_upstreams(tmp_path / "missing") == []
    assert parse_upstream("1.1.1.1:5353") == ("1.1.1.1", 5353)
    assert parse_upstream("1.1.1.1") == ("1.1.1.1", 53)


def test_cli_flags() -> None:
    import argparse
    p = argparse.ArgumentParser()
    cli.register(p.add_subparsers())
    args = p.parse_args(["dns", "--kubeconfig", "k", "--bind", "172.31.1.1", "--port", "5353",
                         "--upstream", "10.0.0.2"])
    o = cli.options_from_args(args)
    assert (o.bind, o.port, o.upstreams, o.register, o.cluster_ip) == \
        ("172.31.1.1", 5353, ["10.0.0.2"], True, "10.96.0.10")
    assert cli.advertise_address(o) == "172.31.1.1"
