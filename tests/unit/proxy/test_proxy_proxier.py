"""The proxier over a simulated kernel: full and partial syncs, coalescing, health, metrics."""
from __future__ import annotations

import asyncio
import math
import json
from typing import Any

import pytest

from api.models import EndpointSlice, Service
from kubelet.proxy.iptables import CommandError
from kubelet.proxy.proxier import Limiter, Proxier, ProxierConfig
from kubelet.proxy.rules import JUMPS, Endpoint, ServicePortInfo, endpoint_chain, service_chain
from tests.support.fake_iptables import FakeIPTables


def service(name: str, ip: str, **spec: Any) -> Service:
    return Service.from_dict({"metadata": {"name": name, "namespace": "default"},
                              "spec": {"clusterIP": ip, "ports": [{"name": "http", "port": 80}], **spec}})


def endpoints(name: str, *ips: str) -> EndpointSlice:
    """The Service's one EndpointSlice, as the EndpointSlice controller writes it."""
    return EndpointSlice.from_dict({
        "metadata": {"name": f"{name}-abcde", "namespace": "default",
                     "labels": {"kubernetes.io/service-name": name}},
        "addressType": "IPv4", "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
        "endpoints": [{"addresses": [ip], "conditions": {"ready": True}} for ip in ips]})


SP = ServicePortInfo("default", "web", "http", "TCP", 80, "10.96.0.50")


def make(**cfg: Any) -> tuple[Proxier, FakeIPTables]:
    fake = FakeIPTables()
    conf = ProxierConfig(healthz_bind_address=None, metrics_bind_address=None, **cfg)
    return Proxier(None, conf, fake), fake  # type: ignore[arg-type]


async def test_first_sync_is_full_then_partial() -> None:
    p, fake = make()
    p.on_service(service("web", "10.96.0.50"))
    p.on_slice(endpoints("web", "10.244.1.5", "10.244.2.5"))
    await p.sync()
    assert p.last_sync_full and fake.saves == 1
    nat = fake.chains("nat")
    assert service_chain(SP) in nat and endpoint_chain(SP, Endpoint("10.244.1.5", 8080)) in nat
    assert any(r.endswith("-j KUBE-SERVICES") for r in fake.rules_of("nat", "PREROUTING"))
    assert len([r for c in ("INPUT", "FORWARD", "OUTPUT") for r in fake.rules_of("filter", c)]) == 7

    p.on_slice(endpoints("web", "10.244.1.5", "10.244.3.5"))
    await p.sync()
    assert not p.last_sync_full and fake.saves == 1
    text = fake.restores[-1]
    assert "*filter" not in text and "KUBE-SERVICES - [0:0]" not in text   # only what changed
    assert f"-X {endpoint_chain(SP, Endpoint('10.244.2.5', 8080))}" in text
    assert endpoint_chain(SP, Endpoint("10.244.3.5", 8080)) in fake.chains("nat")


async def test_scale_to_zero_rejects_and_removes_chains() -> None:
    p, fake = make()
    p.on_service(service("web", "10.96.0.50"))
    p.on_slice(endpoints("web", "10.244.1.5"))
    await p.sync()
    p.on_slice(endpoints("web"))
    await p.sync()
    assert not any(c.startswith(("KUBE-SVC-", "KUBE-SEP-")) for c in fake.chains("nat"))
    assert any("has no endpoints" in r and "-j REJECT" in r for r in fake.rules_of("filter", "KUBE-SERVICES"))
    p.on_service_delete(service("web", "10.96.0.50"))
    await p.sync()
    assert fake.rules_of("filter", "KUBE-SERVICES") == []


async def test_unchanged_objects_do_not_dirty() -> None:
    p, _ = make()
    p.on_service(service("web", "10.96.0.50"))
    await p.sync()
    assert not p._dirty.is_set()
    p.on_service(service("web", "10.96.0.50"))            # e.g. a status-only update
    p.on_slice(endpoints("other"))                    # Endpoints with nothing ready, first seen
    p.on_slice(endpoints("other"))
    assert p.metrics.changes.labels("service")._value.get() == 1


async def test_full_sync_deletes_stale_chains_and_keeps_foreign_ones() -> None:
    p, fake = make()
    fake.apply("*nat\n:KUBE-SVC-STALESTALESTALE0 - [0:0]\n:CNI-xyz - [0:0]\n:KUBE-MARK-DROP - [0:0]\nCOMMIT\n")
    p.on_service(service("web", "10.96.0.50"))
    await p.sync()
    assert "KUBE-SVC-STALESTALESTALE0" not in fake.chains("nat")
    assert {"CNI-xyz", "KUBE-MARK-DROP"} <= fake.chains("nat")
    # a second full sync neither duplicates the jumps nor fails
    await p.sync(full=True)
    assert len(fake.rules_of("nat", "PREROUTING")) == 1


async def test_failed_restore_forces_full_sync_next() -> None:
    p, fake = make()
    p.on_service(service("web", "10.96.0.50"))
    await p.sync()
    fake.fail_next = True
    p.on_slice(endpoints("web", "10.244.1.5"))
    with pytest.raises(CommandError):
        await p.sync()
    assert p.applied is None and p._pending_since is not None
    await p.sync()
    assert p.last_sync_full and service_chain(SP) in fake.chains("nat")
    assert p.metrics.failures._value.get() == 1


async def test_cleanup_after_sync_leaves_nothing() -> None:
    p, fake = make()
    p.on_service(service("web", "10.96.0.50", type="NodePort"))
    p.on_slice(endpoints("web", "10.244.1.5"))
    await p.sync()
    assert await fake.cleanup()
    assert fake.chains("nat") == {"PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"}
    assert all(not rs for rs in fake.kernel["nat"].values())
    assert all(not rs for rs in fake.kernel["filter"].values())
    assert len(JUMPS) == 10


async def test_udp_changes_clear_conntrack() -> None:
    p, fake = make()
    s = Service.from_dict({"metadata": {"name": "dns", "namespace": "default"}, "spec": {
        "clusterIP": "10.96.0.10", "ports": [{"name": "dns", "port": 53, "protocol": "UDP"}]}})
    p.on_service(s)
    await p.sync()
    p.on_slice(EndpointSlice.from_dict({
        "metadata": {"name": "dns-x", "namespace": "default", "labels": {"kubernetes.io/service-name": "dns"}},
        "addressType": "IPv4", "ports": [{"name": "dns", "port": 53, "protocol": "UDP"}],
        "endpoints": [{"addresses": ["10.244.1.9"]}]}))
    await p.sync()
    assert fake.conntrack == [["-D", "-p", "udp", "--orig-dst", "10.96.0.10", "--orig-port-dst", "53"]]


def test_limiter_bursts_then_spaces() -> None:
    now = [0.0]
    lim = Limiter(1.0, 2, clock=lambda: now[0])
    assert lim.delay() == 0 and lim.delay() == 0
    assert lim.delay() == pytest.approx(1.0)
    now[0] = 5.0
    assert lim.delay() == 0


async def test_sync_loop_coalesces_churn() -> None:
    p, fake = make(min_sync_period=0.3, sync_period=60)
    p.on_service(service("web", "10.96.0.50"))
    loop = asyncio.create_task(p.sync_loop())
    try:
        assert await p.wait_until(lambda rs: "KUBE-SERVICES" in rs["nat"], 2)
        clock = asyncio.get_running_loop().time
        before, start = p.syncs, clock()
        for i in range(30):                        # 30 changes in ~0.3 s (longer on a busy machine)
            p.on_slice(endpoints("web", f"10.244.1.{i + 1}"))
            await asyncio.sleep(0.01)
        last = endpoint_chain(SP, Endpoint("10.244.1.30", 8080))
        assert await p.wait_until(lambda rs: last in rs["nat"], 3)
        # a burst of 2 (one may have been spent on the first sync), then one per 0.3 s of the
        # time the churn actually took: far fewer than the 30 changes
        allowed = 2 + math.ceil((clock() - start) / 0.3)
        assert p.syncs - before <= allowed < 30, (p.syncs - before, allowed)
        # a quiet spell refills the bucket: the next change is applied at once
        await asyncio.sleep(0.7)
        t0 = asyncio.get_running_loop().time()
        p.on_slice(endpoints("web", "10.244.9.9"))
        assert await p.wait_until(lambda rs: endpoint_chain(SP, Endpoint("10.244.9.9", 8080)) in rs["nat"], 2)
        assert asyncio.get_running_loop().time() - t0 < 0.3   # sooner than a token would come back
    finally:
        loop.cancel()
        await asyncio.gather(loop, return_exceptions=True)


async def test_health_and_metrics_endpoints() -> None:
    fake = FakeIPTables()
    p = Proxier(None, ProxierConfig(node_name="n1", healthz_bind_address="127.0.0.1:0",
                                    metrics_bind_address="127.0.0.1:0"), fake)  # type: ignore[arg-type]
    await p.start_servers()
    try:
        assert p.healthz is not None and p.metrics_server is not None

        async def get(port: int, path: str) -> tuple[int, bytes]:
            r, w = await asyncio.open_connection("127.0.0.1", port)
            w.write(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            data = await r.read()
            w.close()
            head, _, body = data.partition(b"\r\n\r\n")
            return int(head.split()[1]), body

        assert (await get(p.healthz.port, "/healthz"))[0] == 503       # never synced yet
        await p.sync()
        code, body = await get(p.healthz.port, "/healthz")
        assert code == 200 and json.loads(body)["nodeName"] == "n1"
        assert (await get(p.healthz.port, "/nope"))[0] == 404
        code, body = await get(p.metrics_server.port, "/metrics")
        assert code == 200
        assert b"kubeproxy_sync_proxy_rules_duration_seconds_count 1.0" in body
        assert b'kubeproxy_sync_proxy_rules_iptables_total{table="nat"}' in body
    finally:
        await p.healthz.stop()  # type: ignore[union-attr]
        await p.metrics_server.stop()  # type: ignore[union-attr]


async def test_full_sync_turns_route_localnet_on_unless_localhost_nodeports_are_off() -> None:
    p, fake = make()
    await p.sync()
    assert fake.sysctls == {"net.ipv4.conf.all.route_localnet": "1"}
    assert fake.rules_of("filter", "KUBE-FIREWALL")
    p, fake = make(localhost_nodeports=False)
    await p.sync()
    assert fake.sysctls == {}
