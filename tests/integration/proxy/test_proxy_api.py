"""kube-proxy, ServiceLB and the DNS registration against the in-process apiserver.

The proxier runs its informers against the real apiserver and writes into a simulated
kernel (`FakeIPTables`), so these run without root; the e2e test does the real thing.
"""
from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from api.models import Endpoints, EndpointSlice, Node, Service
from client import kubeconfig
from client.rest import Client
from controllers.base import SharedInformers
from controllers.endpointslicemirroring import EndpointSliceMirroringController
from kubelet.dns import registration
from kubelet.dns.cli import DNSOptions, run_dns
from kubelet.proxy.proxier import Proxier, ProxierConfig
from kubelet.proxy.rules import Endpoint, ServicePortInfo, endpoint_chain, service_chain
from controllers.servicelb import ServiceLBController
from tests.support.dns_client import udp_query
from tests.support.fake_iptables import FakeIPTables

PYKUBECTL = str(Path(sys.executable).parent / "pykubectl")


@pytest.fixture
async def kube(apiserver: Any) -> AsyncIterator[Client]:
    client = Client(kubeconfig.load(str(apiserver.kubeconfig_path)), component="test")
    try:
        yield client
    finally:
        await client.close()


async def running(coro: Any) -> asyncio.Task[Any]:
    task = asyncio.create_task(coro)
    await asyncio.sleep(0)
    return task


async def stop(*tasks: asyncio.Task[Any]) -> None:
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def web_service(**spec: Any) -> Service:
    return Service.from_dict({"metadata": {"name": "web", "namespace": "default"},
                              "spec": {"ports": [{"name": "http", "port": 80, "targetPort": 8080}], **spec}})


async def test_proxier_follows_services_and_endpoints(kube: Client) -> None:
    """A Service without a selector and a hand-written Endpoints: the mirroring controller
    turns the Endpoints into an EndpointSlice, which is what kube-proxy reads."""
    fake = FakeIPTables()
    proxier = Proxier(kube, ProxierConfig(healthz_bind_address=None, metrics_bind_address=None,
                                          min_sync_period=0.05), fake)  # type: ignore[arg-type]
    informers = SharedInformers(kube)
    mirroring = EndpointSliceMirroringController(kube, informers)
    task = await running(proxier.run())
    mirror_task = await running(mirroring.run(1))
    await informers.start_all()
    try:
        svc = await kube.create(web_service(type="NodePort"))
        ip = svc.spec.cluster_ip
        sp = ServicePortInfo("default", "web", "http", "TCP", 80, ip)
        # no endpoints yet: REJECT
        assert await proxier.wait_until(lambda rs: any(ip in r for r in rs["filter"]["KUBE-SERVICES"]))
        await kube.create(Endpoints.from_dict({"metadata": {"name": "web", "namespace": "default"}, "subsets": [
            {"addresses": [{"ip": "10.244.1.5"}], "ports": [{"name": "http", "port": 8080}]}]}))
        sep = endpoint_chain(sp, Endpoint("10.244.1.5", 8080))
        assert await proxier.wait_until(lambda rs: sep in rs["nat"])
        (mirrored,) = (await kube.list(EndpointSlice, "default", label_selector="kubernetes.io/service-name=web")).items
        assert (mirrored.metadata.labels or {})["endpointslice.kubernetes.io/managed-by"] == \
            "endpointslicemirroring-controller.k8s.io"
        assert [e.addresses for e in mirrored.endpoints or []] == [["10.244.1.5"]]
        # a not-ready address is mirrored as such and gets no rules
        ep = await kube.get(Endpoints, "web", "default")
        ep.subsets[0].not_ready_addresses = ep.subsets[0].addresses
        ep.subsets[0].addresses = None
        await kube.update(ep)
        assert await proxier.wait_until(lambda rs: sep not in rs["nat"])
        ep = await kube.get(Endpoints, "web", "default")
        ep.subsets[0].addresses, ep.subsets[0].not_ready_addresses = ep.subsets[0].not_ready_addresses, None
        await kube.update(ep)
        assert await proxier.wait_until(lambda rs: sep in rs["nat"])
        assert sep in fake.chains("nat") and service_chain(sp) in fake.chains("nat")
        nodeport = svc.spec.ports[0].node_port
        assert any(f"--dport {nodeport}" in r for r in fake.rules_of("nat", "KUBE-NODEPORTS"))
        # the apiserver's own Service is there too
        assert "KUBE-SVC-NPX46M4PTMTKRN6Y" in fake.chains("nat")
        await kube.delete(Service, "web", namespace="default")
        assert await proxier.wait_until(lambda rs: service_chain(sp) not in rs["nat"])
        assert service_chain(sp) not in fake.chains("nat") and sep not in fake.chains("nat")
    finally:
        await stop(task, mirror_task)
        await informers.stop_all()


async def test_servicelb_writes_node_addresses(kube: Client, apiserver: Any) -> None:
    for name, ip in (("n1", "172.31.9.11"), ("n2", "172.31.9.12")):
        node = await kube.create(Node.from_dict({"metadata": {"name": name}}))
        node.status = Node.from_dict({"metadata": {"name": name}, "status": {
            "addresses": [{"type": "InternalIP", "address": ip}],
            "conditions": [{"type": "Ready", "status": "True"}]}}).status
        await kube.update_status(node)
    informers = SharedInformers(kube)
    ctl = ServiceLBController(kube, informers)
    task = await running(ctl.run())
    await informers.start_all()
    try:
        svc = await kube.create(web_service(type="LoadBalancer"))
        for _ in range(100):
            svc = await kube.get(Service, "web", namespace="default")
            if svc.status and svc.status.load_balancer and svc.status.load_balancer.ingress:
                break
            await asyncio.sleep(0.05)
        assert [i.ip for i in svc.status.load_balancer.ingress] == ["172.31.9.11", "172.31.9.12"]
        env = {**os.environ, "KUBECONFIG": str(apiserver.kubeconfig_path)}
        proc = await asyncio.create_subprocess_exec(PYKUBECTL, "get", "svc", "web", env=env,
                                                    stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        raw, err = await proc.communicate()
        out = raw.decode() + err.decode()
        assert "172.31.9.11,172.31.9.12" in out and "<pending>" not in out, out
        # a node going NotReady leaves the list
        n2 = await kube.get(Node, "n2")
        n2.status.conditions[0].status = "False"
        await kube.update_status(n2)
        for _ in range(100):
            svc = await kube.get(Service, "web", namespace="default")
            if [i.ip for i in svc.status.load_balancer.ingress] == ["172.31.9.11"]:
                break
            await asyncio.sleep(0.05)
        assert [i.ip for i in svc.status.load_balancer.ingress] == ["172.31.9.11"]
    finally:
        await stop(task)
        await informers.stop_all()


async def test_dns_registers_kube_dns_and_answers(kube: Client) -> None:
    started = asyncio.Event()
    opts = DNSOptions(bind="127.0.0.1", port=0, upstreams=["127.0.0.1:9"], register_period=0.1)
    task = await running(run_dns(opts, client=kube, started=started))
    try:
        await asyncio.wait_for(started.wait(), 10)
        ep = None
        for _ in range(100):
            try:
                ep = await kube.get(Endpoints, "kube-dns", namespace="kube-system")
                break
            except Exception:  # noqa: BLE001 - not there yet
                await asyncio.sleep(0.05)
        assert ep is not None
        svc = await kube.get(Service, "kube-dns", namespace="kube-system")
        assert svc.spec.cluster_ip == "10.96.0.10" and not svc.spec.selector
        assert [(p.name, p.port, p.protocol) for p in svc.spec.ports] == [("dns", 53, "UDP"), ("dns-tcp", 53, "TCP")]
        (subset,) = ep.subsets
        assert subset.addresses[0].ip == "127.0.0.1"
        port = subset.ports[0].port
        # a second registration changes nothing
        rv = ep.metadata.resource_version
        await registration.ensure_registered(kube, "127.0.0.1", port)
        again = await kube.get(Endpoints, "kube-dns", namespace="kube-system")
        assert again.metadata.resource_version == rv
        # and the server it registered answers for the cluster
        r = await udp_query(port, "kube-dns.kube-system.svc.cluster.local")
        assert [str(a.rdata) for a in r.rr] == ["10.96.0.10"]
    finally:
        await stop(task)
