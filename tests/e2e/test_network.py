"""Service networking end to end, as root: real containerd, CNI, iptables, two netns nodes.

Two nodes, each its own network namespace with its own containerd (tests/support/
netns_node.py), kube-proxy and host-gw routes per node, cluster DNS on the lab bridge
(tests/e2e/network_cluster.py). The issue's "Must show": pods reach each other across
nodes by pod IP (keeping their source address); a ClusterIP Service over two pods
balances 100 requests from a node and from a pod, also hairpin and ClientIP affinity;
NodePort and LoadBalancer answer on the node addresses from outside, and a NodePort on the
node's own address and on 127.0.0.1 from the node itself; `nginx-svc` resolves
and serves by full and short name inside a pod; scaling to 0 refuses at once and scaling
back serves again. The fixture then runs `pykube proxy --cleanup`, checks every node is
clean, and the lab checks the host (namespaces, links, routes, rules, processes, mounts).
"""
from __future__ import annotations

import asyncio
import os
import shutil
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from api.models import Endpoints, Pod, Service
from client import kubeconfig
from client.errors import NotFound
from client.rest import Client
from kubelet.proxy.rules import service_chain
from kubelet.proxy.state import service_ports
from tests.e2e.network_cluster import NGINX, NetworkCluster, peer, wait_for
from tests.support.cluster import running_apiserver
from tests.support.netns_node import netns_lab
from tests.support.runtime_node import build_images, missing_node_tools

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.root]
PYKUBECTL = str(Path(sys.executable).parent / "pykubectl")


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if os.geteuid() != 0:
        pytest.skip("needs root (containerd, CNI, iptables, network namespaces)")
    missing = missing_node_tools() + [t for t in ("nsenter", "unshare", "iptables-restore") if not _which(t)]
    if missing:
        pytest.skip(f"missing: {', '.join(missing)}")
    if not Path("/usr/sbin/nginx").exists():
        pytest.skip("nginx-light is not installed (the nginx image is built from it)")
    return build_images(tmp_path_factory.mktemp("network-images"), ("pause", "busybox", "nginx"))


def _which(tool: str) -> bool:
    return shutil.which(tool) is not None


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def net(tmp_path_factory: pytest.TempPathFactory, images: Path) -> AsyncIterator[NetworkCluster]:
    base = tmp_path_factory.mktemp("network-e2e")
    async with running_apiserver(base / "apiserver") as srv:
        kube = Client(kubeconfig.load(srv.kubeconfig_path), component="e2e")
        cluster: NetworkCluster | None = None
        inside: list[str] = []
        try:
            async with netns_lab(base / "lab") as lab:
                cluster = NetworkCluster(kube, lab, srv.kubeconfig_path)
                try:
                    await cluster.start(images)
                    n1, n2 = cluster.nodes
                    await cluster.start_pod(n1, "web-a", {"app": "web"})
                    await cluster.start_pod(n2, "web-b", {"app": "web"})
                    await cluster.start_pod(n1, "client", serves=None, command=["sleep", "3600"])
                    yield cluster
                finally:
                    inside = await cluster.teardown()
            assert not inside, "a node kept what kube-proxy made:\n" + "\n".join(inside)
        finally:
            await kube.close()


async def create_service(net: NetworkCluster, name: str, **spec: object) -> Service:
    svc = await net.kube.create(Service.from_dict({
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": 80}], **spec}}))
    return svc


async def ready_everywhere(net: NetworkCluster, svc: Service, endpoints: int) -> None:
    """Wait until every node's kube-proxy balances `svc` over `endpoints` pods."""
    chain = service_chain(service_ports(svc)[0])
    for p in net.proxiers:
        assert await p.wait_until(lambda rs: len({r.rsplit(" ", 1)[1] for r in rs["nat"].get(chain, ())
                                                  if "-j KUBE-SEP-" in r}) == endpoints, 20), \
            f"{chain} never had {endpoints} endpoints"


async def test_pods_reach_each_other_across_nodes(net: NetworkCluster) -> None:
    n1, n2 = net.nodes
    web_b, client = net.pods["web-b"][1], net.pods["client"][1]
    _, routes, _ = await n1.sh("ip", "route", "show", "proto", "157")
    assert f"10.244.2.0/24 via {n2.ip}" in routes
    code, out, err = await n1.exec(client, f"wget -q -O - http://{web_b.ip}/cgi-bin/id")
    assert code == 0, err
    name, addr = out.split()
    assert name == "web-b" and peer(addr) == client.ip        # the pod's own address, not the node's
    code, out, _ = await n2.exec(web_b, f"wget -q -O - http://{net.pods['web-a'][1].ip}/cgi-bin/id")
    assert code == 0 and out.split()[0] == "web-a" and peer(out.split()[1]) == web_b.ip


async def test_cluster_ip_balances_from_node_and_pod(net: NetworkCluster) -> None:
    n1, n2 = net.nodes
    svc = await create_service(net, "web")
    await ready_everywhere(net, svc, 2)
    url = f"http://{svc.spec.cluster_ip}/cgi-bin/id"
    for node in (n1, n2):
        seen = await net.count_from_node(node, url, 100)
        assert sum(seen.values()) == 100 and set(seen) == {"web-a", "web-b"}, seen
        assert min(seen.values()) >= 15, seen
    code, out, err = await n1.exec(net.pods["client"][1],
                                   f"for i in $(seq 100); do wget -q -O - {url}; done", timeout=120)
    assert code == 0, err
    names = [line.split()[0] for line in out.splitlines()]
    assert len(names) == 100 and min(names.count("web-a"), names.count("web-b")) >= 15
    # hairpin: a pod reaching itself through its own Service
    code, out, err = await n1.exec(net.pods["web-a"][1], f"for i in $(seq 20); do wget -q -O - {url}; done")
    assert code == 0 and "web-a" in out.split(), (out, err)


async def test_session_affinity_client_ip(net: NetworkCluster) -> None:
    svc = await create_service(net, "web-sticky", sessionAffinity="ClientIP")
    await ready_everywhere(net, svc, 2)
    seen = await net.count_from_node(net.nodes[1], f"http://{svc.spec.cluster_ip}/cgi-bin/id", 30)
    assert len(seen) == 1 and sum(seen.values()) == 30, seen


async def test_nodeport_and_load_balancer_answer_on_node_addresses(net: NetworkCluster) -> None:
    n1, n2 = net.nodes
    svc = await create_service(net, "web-lb", type="LoadBalancer")
    node_port = svc.spec.ports[0].node_port

    async def ingress() -> list[str]:
        s = await net.kube.get(Service, "web-lb", namespace="default")
        lb = s.status.load_balancer if s.status else None
        return [i.ip for i in (lb.ingress if lb else None) or []]
    assert await wait_for(ingress, 20, "LoadBalancer ingress") == [n1.ip, n2.ip]
    svc = await net.kube.get(Service, "web-lb", namespace="default")
    await ready_everywhere(net, svc, 2)
    for p in net.proxiers:
        assert await p.wait_until(lambda rs: any(n1.ip in r for r in rs["nat"]["KUBE-SERVICES"]), 10)
    # from the machine outside the nodes, through the lab bridge
    async with httpx.AsyncClient(trust_env=False, timeout=5) as http:
        for url in (f"http://{n1.ip}:{node_port}/cgi-bin/id", f"http://{n2.ip}:{node_port}/cgi-bin/id",
                    f"http://{n1.ip}/cgi-bin/id", f"http://{n2.ip}/cgi-bin/id"):
            seen = set()
            for _ in range(12):
                r = await http.get(url)
                assert r.status_code == 200, url
                seen.add(r.text.split()[0])
            assert seen <= {"web-a", "web-b"} and seen, url
    # from each node itself: its own address and 127.0.0.1 (kube-proxy's localhost NodePorts)
    for node in (n1, n2):
        for url in (f"http://127.0.0.1:{node_port}/cgi-bin/id", f"http://{node.ip}:{node_port}/cgi-bin/id"):
            seen = await net.count_from_node(node, url, 20)
            assert sum(seen.values()) == 20 and set(seen) <= {"web-a", "web-b"}, (url, seen)
        _, localnet, _ = await node.sh("sysctl", "-n", "net.ipv4.conf.all.route_localnet")
        assert localnet.strip() == "1"
    env = {**os.environ, "KUBECONFIG": str(net.kubeconfig_path)}
    proc = await asyncio.create_subprocess_exec(PYKUBECTL, "get", "svc", "web-lb", env=env,
                                                stdout=asyncio.subprocess.PIPE)
    out, _ = await proc.communicate()
    assert f"{n1.ip},{n2.ip}" in out.decode(), out.decode()


async def test_dns_from_inside_a_pod(net: NetworkCluster) -> None:
    n1, n2 = net.nodes
    await net.start_pod(n2, "nginx", {"app": "nginx"}, image=NGINX, command=[])
    svc = await net.kube.create(Service.from_dict({
        "metadata": {"name": "nginx-svc", "namespace": "default"},
        "spec": {"selector": {"app": "nginx"}, "ports": [{"name": "http", "port": 80}]}}))
    await ready_everywhere(net, svc, 1)
    client = net.pods["client"][1]
    code, out, err = await n1.exec(client, "cat /etc/resolv.conf; nslookup nginx-svc.default.svc.cluster.local")
    assert code == 0, out + err
    assert "search default.svc.cluster.local svc.cluster.local cluster.local" in out
    assert "nameserver 10.96.0.10" in out and svc.spec.cluster_ip in out
    for name in ("nginx-svc.default.svc.cluster.local", "nginx-svc"):
        code, out, err = await n1.exec(client, f"wget -q -O - http://{name}/")
        assert code == 0 and "Welcome to nginx" in out, (name, out, err)
    headless = await net.kube.create(Service.from_dict({
        "metadata": {"name": "web-headless", "namespace": "default"},
        "spec": {"clusterIP": "None", "selector": {"app": "web"}, "ports": [{"name": "http", "port": 80}]}}))
    assert headless.spec.cluster_ip == "None"

    async def two_ips() -> bool:
        try:
            ep = await net.kube.get(Endpoints, "web-headless", namespace="default")
        except NotFound:
            return False
        return bool(ep.subsets) and len(ep.subsets[0].addresses or []) == 2
    await wait_for(two_ips, 10, "headless endpoints")
    code, out, err = await n1.exec(client, "nslookup web-headless.default.svc.cluster.local")
    assert code == 0 and net.pods["web-a"][1].ip in out and net.pods["web-b"][1].ip in out, out + err


async def test_scale_to_zero_refuses_then_serves_again(net: NetworkCluster) -> None:
    n1, n2 = net.nodes
    svc = await net.kube.get(Service, "web", namespace="default")
    cip = svc.spec.cluster_ip
    assert await net.probe_is(n1, cip, 80, "open")
    t0 = time.monotonic()
    for name in ("web-a", "web-b"):       # graceful deletion: endpoints drop at once
        await net.kube.delete(Pod, name, namespace="default", grace_period_seconds=30)
    await wait_for(lambda: net.probe_is(n1, cip, 80, "refused"), 5, "REJECT")
    assert time.monotonic() - t0 < 3
    state, secs = await net.probe(n2, cip, 80)
    assert state == "refused" and secs < 0.5          # refused, not a timeout
    code, out, err = await n1.exec(net.pods["client"][1], f"wget -q -O - http://{cip}/ 2>&1")
    assert code != 0 and "refused" in (out + err).lower(), out + err
    for name in ("web-a", "web-b"):       # the "kubelet" finishes the deletion
        await net.stop_pod(name)
    await net.start_pod(n2, "web-c", {"app": "web"})
    await net.start_pod(n1, "web-d", {"app": "web"})
    await ready_everywhere(net, svc, 2)
    seen = await net.count_from_node(n1, f"http://{cip}/cgi-bin/id", 40)
    assert set(seen) == {"web-c", "web-d"}, seen


async def test_health_and_metrics(net: NetworkCluster) -> None:
    p = net.proxiers[0]
    assert p.healthz is not None and p.metrics_server is not None
    async with httpx.AsyncClient(trust_env=False, timeout=5) as http:
        r = await http.get(f"http://127.0.0.1:{p.healthz.port}/healthz")
        assert r.status_code == 200 and r.json()["nodeName"] == "n1"
        m = (await http.get(f"http://127.0.0.1:{p.metrics_server.port}/metrics")).text
        assert "kubeproxy_sync_proxy_rules_duration_seconds_count" in m
        assert "kubeproxy_network_programming_duration_seconds_bucket" in m


# ---------------------------------------------------------------- NetworkPolicy
TEAM_PODS = {"a1": ("team-a", 0, True), "a2": ("team-a", 1, False), "b1": ("team-b", 1, False)}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def teams(net: NetworkCluster) -> AsyncIterator[NetworkCluster]:
    """Two teams' pods across both nodes, with `pykube netpol`'s controller on each node;
    afterwards every chain and set it made must be gone (its own cleanup)."""
    from kubelet.netpol.controller import NetworkPolicyController, cleanup
    from kubelet.proxy.iptables import Runner
    for ns in ("team-a", "team-b"):
        await net.kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    controllers = [NetworkPolicyController(net.kube, n.name, Runner(n.prefix), resync_seconds=5) for n in net.nodes]
    tasks = [asyncio.ensure_future(c.run()) for c in controllers]
    try:
        for name, (ns, node, serves) in TEAM_PODS.items():
            await net.start_pod(net.nodes[node], name, {"app": name}, namespace=ns,
                                command=None if serves else ["sleep", "3600"], serves=80 if serves else None)
        yield net
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        left = []
        for n in net.nodes:
            await cleanup(Runner(n.prefix))
            _, saved, _ = await n.sh("iptables-save")
            _, sets, _ = await n.sh("ipset", "list", "-n")
            left += [f"{n.name}: {r}" for r in saved.splitlines() if "PYKUBE-N" in r]
            left += [f"{n.name}: set {s}" for s in sets.split() if s.startswith("PYKUBE-NP")]
        assert not left, "network policy left behind:\n" + "\n".join(left)


async def _reaches(net: NetworkCluster, src: str, dst: str, port: int = 80, via: str | None = None) -> bool:
    """`src` gets an answer from `dst` (at its pod IP, or through a Service's ClusterIP `via`)."""
    node, handle = net.pods[src]
    code, out, _ = await node.exec(handle, f"timeout 3 wget -q -O - http://{via or net.pods[dst][1].ip}:{port}/cgi-bin/id")
    return code == 0 and out.split()[0] == dst


async def _policy(net: NetworkCluster, ns: str, name: str, spec: dict) -> None:
    await net.kube.create({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                           "metadata": {"name": name, "namespace": ns}, "spec": spec})


async def _until(net: NetworkCluster, src: str, dst: str, want: bool) -> None:
    async def check() -> bool:
        return await _reaches(net, src, dst) == want
    await wait_for(check, 30, f"{src} -> {dst} {'allowed' if want else 'blocked'}")


async def test_network_policy_isolates_teams_across_nodes(teams: NetworkCluster) -> None:
    net = teams
    svc = await net.kube.create({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "a1", "namespace": "team-a"},
                                 "spec": {"selector": {"app": "a1"}, "ports": [{"port": 80, "targetPort": 80}]}})
    cip = svc["spec"]["clusterIP"]

    async def via_service() -> bool:
        return await _reaches(net, "b1", "a1", via=cip)
    await wait_for(via_service, 30, "team-a's Service answering team-b")
    assert await _reaches(net, "b1", "a1") and await _reaches(net, "a2", "a1")
    # team-a admits only its own namespace: b1 (other node, other team) is refused, directly
    # and through the Service; a2 (other node, same team) still gets through
    await _policy(net, "team-a", "same-namespace", {"podSelector": {}, "ingress": [{"from": [{"podSelector": {}}]}]})
    await _until(net, "b1", "a1", False)
    assert not await via_service()
    assert await _reaches(net, "a2", "a1") and await _reaches(net, "a2", "a1", via=cip)
    # an allow rule by namespaceSelector opens it for team-b
    await _policy(net, "team-a", "from-team-b", {"podSelector": {"matchLabels": {"app": "a1"}}, "ingress": [
        {"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "team-b"}}}],
         "ports": [{"port": 80, "protocol": "TCP"}]}]})
    await _until(net, "b1", "a1", True)
    # team-b denies egress except DNS (the cluster DNS of this lab listens on the lab gateway)
    await _policy(net, "team-b", "egress-dns-only", {"podSelector": {}, "policyTypes": ["Egress"], "egress": [
        {"to": [{"ipBlock": {"cidr": f"{net.lab.gateway}/32"}}]}]})
    await _until(net, "b1", "a1", False)
    node, b1 = net.pods["b1"]
    code, out, err = await node.exec(b1, "nslookup kubernetes.default.svc.cluster.local 10.96.0.10")
    assert code == 0 and "10.96.0.1" in out, out + err
    # removing the policies restores traffic
    for ns, name in (("team-b", "egress-dns-only"), ("team-a", "from-team-b"), ("team-a", "same-namespace")):
        await net.kube.request("DELETE", f"/apis/networking.k8s.io/v1/namespaces/{ns}/networkpolicies/{name}")
    await _until(net, "b1", "a1", True)
