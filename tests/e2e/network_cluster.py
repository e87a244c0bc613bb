"""The cluster behind the network e2e tests: two netns nodes, kube-proxy, routes, DNS.

`NetworkCluster` wires, around an in-process apiserver and a `NetnsLab` of two nodes
(10.244.1.0/24 and 10.244.2.0/24, InternalIPs 172.31.X.11/12): the Node objects, the
Endpoints controller and ServiceLB (as the controller-manager runs them), per node a
`Proxier` and a `RouteManager` whose commands run inside the node's namespace, and the
cluster DNS listening on the lab bridge address (registered as kube-dns 10.96.0.10).
Pods are started the way a kubelet would: the Pod object first, then the sandbox through
the node's CRI with the kubelet's own DNS config, then the status with its IP and Ready.

`teardown()` stops everything, runs kube-proxy's cleanup (node 1 through the real
command line, `python -m kubelet.proxy.cli --cleanup`, inside its namespace), and returns
what is still inside a node (a KUBE- chain, the exemption rule, a route of ours).
"""
from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from api.models import Node, Pod
from api.models.core import PodCondition, PodIP, PodStatus
from client.rest import Client
from controllers.base import SharedInformers
from controllers.manager import ControllerManager, ControllerManagerOptions
from kubelet.dns.cli import DNSOptions, run_dns
from kubelet.podconfig import NodeContext, dns_config
from kubelet.proxy.iptables import IPTables, Runner
from kubelet.proxy.proxier import Proxier, ProxierConfig
from kubelet.proxy.routes import EXEMPT_COMMENT, ROUTE_PROTO, RouteManager
from controllers.servicelb import ServiceLBController
from tests.support.netns_node import NetnsLab, NetnsNode, PodHandle

REPO = Path(__file__).resolve().parents[2]
CLUSTER_CIDR = "10.244.0.0/16"
BUSYBOX, NGINX = "local/busybox:1", "local/nginx:1.22"
# busybox httpd answering "<pod name> <client address>" on /cgi-bin/id
HTTPD = ["sh", "-c", "mkdir -p /www/cgi-bin && printf '#!/bin/sh\\necho Content-Type: text/plain\\necho\\n"
         "echo \"$(hostname) $REMOTE_ADDR\"\\n' > /www/cgi-bin/id && chmod +x /www/cgi-bin/id && "
         "hostname > /www/index.html && exec httpd -f -p 80 -h /www"]
# run inside a node's namespace: N GETs of a URL, counted by the answering pod
COUNT = ("import json,sys,urllib.request as u\nseen={}\nfor _ in range(int(sys.argv[2])):\n"
         "    w=u.urlopen(sys.argv[1],timeout=5).read().decode().split()[0]\n    seen[w]=seen.get(w,0)+1\n"
         "print(json.dumps(seen))")
PROBE = ("import socket,sys,time\nt=time.monotonic()\ntry:\n"
         "    socket.create_connection((sys.argv[1],int(sys.argv[2])),timeout=3).close();r='open'\n"
         "except ConnectionRefusedError: r='refused'\nexcept OSError as e: r=type(e).__name__\n"
         "print(r, round(time.monotonic()-t,3))")


def peer(text: str) -> str:
    """busybox httpd's REMOTE_ADDR (`[::ffff:10.244.1.2]`) as a plain IPv4 address."""
    return text.strip("[]").removeprefix("::ffff:")


async def wait_for(check: Callable[[], Awaitable[Any]], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


class NetworkCluster:
    def __init__(self, kube: Client, lab: NetnsLab, kubeconfig_path: Path) -> None:
        self.kube, self.lab, self.kubeconfig_path = kube, lab, kubeconfig_path
        self.nodes: list[NetnsNode] = []
        self.proxiers: list[Proxier] = []
        self.routes: list[RouteManager] = []
        self.pods: dict[str, tuple[NetnsNode, PodHandle]] = {}
        self.tasks: list[asyncio.Task[Any]] = []
        self.dns_started = asyncio.Event()
        self.informers = SharedInformers(kube)

    async def start(self, images: Path) -> None:
        for i in (1, 2):
            node = await self.lab.add_node(f"10.244.{i}.0/24", images)
            self.nodes.append(node)
            await self._register(node)
        cm = ControllerManager(self.kube, ControllerManagerOptions(leader_elect=False, controllers=["endpoint"]))
        lb = ServiceLBController(self.kube, self.informers)
        self._spawn(cm.run(), lb.run(), self.informers.start_all(),
                    run_dns(DNSOptions(bind=self.lab.gateway, port=0), client=self.kube, started=self.dns_started))
        for node in self.nodes:
            runner = Runner(node.prefix)
            proxier = Proxier(self.kube, ProxierConfig(
                node_name=node.name, cluster_cidr=CLUSTER_CIDR, min_sync_period=0.5,
                healthz_bind_address="127.0.0.1:0", metrics_bind_address="127.0.0.1:0"), IPTables(runner))
            routes = RouteManager(self.kube, node.name, CLUSTER_CIDR, runner)
            self.proxiers.append(proxier)
            self.routes.append(routes)
            self._spawn(proxier.run(), routes.run())
        await asyncio.wait_for(self.dns_started.wait(), 20)
        for routes in self.routes:
            assert await routes.wait_until(lambda r: len(r) == 1, 20), "host-gw route not installed"
        for proxier in self.proxiers:
            assert await proxier.wait_until(lambda rs: "KUBE-SVC-TCOU7JCQXEZGVUNU" in rs["nat"], 20), \
                "kube-dns rules not in place"

    def _spawn(self, *coros: Awaitable[Any]) -> None:
        self.tasks += [asyncio.ensure_future(c) for c in coros]

    async def _register(self, node: NetnsNode) -> None:
        obj = await self.kube.create(Node.from_dict({"metadata": {"name": node.name}, "spec": {"podCIDR": node.pod_cidr}}))
        obj.status = Node.from_dict({"metadata": {"name": node.name}, "status": {
            "addresses": [{"type": "InternalIP", "address": node.ip}, {"type": "Hostname", "address": node.name}],
            "conditions": [{"type": "Ready", "status": "True"}]}}).status
        await self.kube.update_status(obj)

    # ---------------------------------------------------------------- pods, as a kubelet
    async def start_pod(self, node: NetnsNode, name: str, labels: dict[str, str] | None = None,
                        image: str = BUSYBOX, command: list[str] | None = None, serves: int | None = 80,
                        namespace: str = "default") -> PodHandle:
        command = command if command is not None else HTTPD
        pod = await self.kube.create(Pod.from_dict({
            "metadata": {"name": name, "namespace": namespace, "labels": labels or {}},
            "spec": {"nodeName": node.name, "containers": [{"name": "main", "image": image, "command": command}]}}))
        dns = dns_config(pod, NodeContext(node.base / "logs", "", ["10.96.0.10"], "cluster.local"))
        handle = await node.run_pod(name, image, command, namespace=namespace, uid=pod.metadata.uid, labels=labels,
                                    dns=dns)
        self.pods[name] = (node, handle)
        if serves:     # "readiness probe": the port answers from the node
            await wait_for(lambda: self.probe_is(node, handle.ip, serves, "open"), 20, f"{name} serving")
        pod.status = PodStatus(phase="Running", pod_ip=handle.ip, pod_ips=[PodIP(ip=handle.ip)], host_ip=node.ip,
                               conditions=[PodCondition(type="Ready", status="True")])
        await self.kube.update_status(pod)
        return handle

    async def stop_pod(self, name: str, grace: int | None = 0) -> None:
        node, handle = self.pods.pop(name)
        await node.remove_pod(handle)
        await self.kube.delete(Pod, name, namespace="default", grace_period_seconds=grace)

    # ---------------------------------------------------------------- traffic
    async def py(self, node: NetnsNode, script: str, *args: str, timeout: float = 60) -> str:
        env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
        proc = await asyncio.create_subprocess_exec(*node.prefix, sys.executable, "-c", script, *args, env=env,
                                                    stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
        assert proc.returncode == 0, err.decode()
        return out.decode().strip()

    async def count_from_node(self, node: NetnsNode, url: str, n: int = 100) -> dict[str, int]:
        return json.loads(await self.py(node, COUNT, url, str(n)))  # type: ignore[no-any-return]

    async def probe(self, node: NetnsNode, ip: str, port: int) -> tuple[str, float]:
        state, secs = (await self.py(node, PROBE, ip, str(port))).split()
        return state, float(secs)

    async def probe_is(self, node: NetnsNode, ip: str, port: int, want: str) -> bool:
        return (await self.probe(node, ip, port))[0] == want

    # ---------------------------------------------------------------- teardown
    async def teardown(self) -> list[str]:
        for t in self.tasks:
            t.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.informers.stop_all()
        problems: list[str] = []
        for i, node in enumerate(self.nodes):
            try:
                if i == 0:
                    env = {**os.environ, "PYTHONPATH": str(REPO)}
                    proc = await asyncio.create_subprocess_exec(
                        *node.prefix, sys.executable, "-m", "kubelet.proxy.cli", "--cleanup", "--hostname-override",
                        node.name, "--cluster-cidr", CLUSTER_CIDR, env=env, cwd=str(REPO),
                        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
                    out, _ = await proc.communicate()
                    if proc.returncode:
                        problems.append(f"{node.name}: proxy --cleanup failed: {out.decode()}")
                else:
                    await self.proxiers[i].iptables.cleanup()
                    await self.routes[i].cleanup()
                problems += await self.left_in(node)
            except Exception as e:  # noqa: BLE001 - collected and reported
                problems.append(f"{node.name}: cleanup failed: {e!r}")
        return problems

    async def left_in(self, node: NetnsNode) -> list[str]:
        _, rules, _ = await node.sh("iptables-save")
        _, routes, _ = await node.sh("ip", "-4", "route", "show", "proto", ROUTE_PROTO)
        left = [f"{node.name}: rule {r}" for r in rules.splitlines() if "KUBE-" in r or EXEMPT_COMMENT in r]
        return left + [f"{node.name}: route {r}" for r in routes.splitlines()]
