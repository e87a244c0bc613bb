"""Cross-node pod routes, as flannel's host-gw backend keeps them.

Owns, on one node: one kernel route per other node's pod CIDR via that node's InternalIP
(`ip route replace <podCIDR> via <nodeIP> proto 157`), added and removed as Nodes come
and go, and the NAT exemption that keeps a pod's own source address on pod-to-pod traffic
across nodes (the CNI bridge plugin's ipMasq would otherwise masquerade it):

    -t nat -I POSTROUTING 1 -s <cluster CIDR> -d <cluster CIDR> -m mark ! --mark 0x4000/0x4000
        -m comment --comment "pykube: pod-to-pod traffic keeps its source" -j RETURN

The mark test lets packets kube-proxy marked for masquerade (hairpin traffic) through to
KUBE-POSTROUTING whichever of the two rules comes first.

Invariants: only routes tagged with protocol 157 are ever deleted (`cleanup` deletes all
of them) and only the rule with exactly this spec; the decision (`desired_routes`,
`route_changes`) is pure; the kernel is re-read on every sync, so drift is repaired.
"""
from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping

from api.models import Node
from client.informer import Informer
from client.rest import Client
from kubelet.proxy.iptables import CommandError, IPTables, Runner
from kubelet.proxy.rules import RulesConfig

log = logging.getLogger("kube-proxy.routes")

ROUTE_PROTO = "157"  # marks the routes this module owns
EXEMPT_COMMENT = "pykube: pod-to-pod traffic keeps its source"


def node_internal_ip(node: Node) -> str | None:
    for a in (node.status.addresses if node.status else None) or []:
        if a.type == "InternalIP":
            return a.address
    return None


def node_pod_cidrs(node: Node) -> list[str]:
    spec = node.spec
    if spec is None:
        return []
    return list(spec.pod_cidrs or ([spec.pod_cidr] if spec.pod_cidr else []))


def desired_routes(nodes: Iterable[Node], self_name: str) -> dict[str, str]:
    """pod CIDR -> gateway (the node's InternalIP) for every other IPv4 node."""
    out: dict[str, str] = {}
    for node in nodes:
        if node.metadata.name == self_name:
            continue
        ip = node_internal_ip(node)
        if not ip or ipaddress.ip_address(ip).version != 4:
            continue
        for cidr in node_pod_cidrs(node):
            net = ipaddress.ip_network(cidr, strict=False)
            if net.version == 4:
                out[str(net)] = ip
    return out


def route_changes(current: Mapping[str, str], desired: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    """(routes to add or replace, destinations to delete)."""
    put = {dst: gw for dst, gw in desired.items() if current.get(dst) != gw}
    return put, sorted(dst for dst in current if dst not in desired)


def exemption_spec(cluster_cidr: str, mark: str | None = None) -> list[str]:
    mark = mark or RulesConfig().mark
    return ["-s", cluster_cidr, "-d", cluster_cidr, "-m", "mark", "!", "--mark", f"{mark}/{mark}",
            "-m", "comment", "--comment", EXEMPT_COMMENT, "-j", "RETURN"]


class RouteManager:
    def __init__(self, client: Client | None, node_name: str, cluster_cidr: str | None,
                 runner: Runner | None = None, resync_period: float = 30.0) -> None:
        self.client, self.node_name, self.cluster_cidr = client, node_name, cluster_cidr
        self.runner = runner or Runner()
        self.iptables = IPTables(self.runner)
        self.resync_period = resync_period
        self.nodes: dict[str, Node] = {}
        self.routes: dict[str, str] = {}   # what the last sync left in the kernel
        self._dirty = asyncio.Event()
        self._synced = asyncio.Condition()

    # ---------------------------------------------------------------- events
    def on_node(self, node: Node) -> None:
        old = self.nodes.get(node.metadata.name or "")
        self.nodes[node.metadata.name or ""] = node
        if old is None or desired_routes([old], self.node_name) != desired_routes([node], self.node_name):
            self._dirty.set()

    def on_node_delete(self, node: Node) -> None:
        if self.nodes.pop(node.metadata.name or "", None) is not None:
            self._dirty.set()

    # ---------------------------------------------------------------- kernel
    async def current(self) -> dict[str, str]:
        _, out, _ = await self.runner.run("ip", "-4", "-j", "route", "show", "proto", ROUTE_PROTO)
        routes = {}
        for r in json.loads(out or "[]"):
            if r.get("gateway"):
                dst = r["dst"] if "/" in r["dst"] else f"{r['dst']}/32"
                routes[dst] = r["gateway"]
        return routes

    async def sync(self) -> None:
        self._dirty.clear()
        desired = desired_routes(self.nodes.values(), self.node_name)
        put, delete = route_changes(await self.current(), desired)
        for dst in delete:
            await self.runner.run("ip", "route", "del", dst, "proto", ROUTE_PROTO, check=False)
            log.info("removed route %s", dst)
        for dst, gw in sorted(put.items()):
            try:
                await self.runner.run("ip", "route", "replace", dst, "via", gw, "proto", ROUTE_PROTO)
                log.info("route %s via %s", dst, gw)
            except CommandError as e:
                log.warning("cannot route %s via %s: %s", dst, gw, e)
        if self.cluster_cidr:
            await self.iptables.ensure_rule("nat", "POSTROUTING", exemption_spec(self.cluster_cidr))
        self.routes = await self.current()
        async with self._synced:
            self._synced.notify_all()

    async def wait_until(self, predicate: Callable[[dict[str, str]], bool], timeout: float = 10.0) -> bool:
        async def waiter() -> None:
            async with self._synced:
                await self._synced.wait_for(lambda: predicate(self.routes))
        try:
            await asyncio.wait_for(waiter(), timeout)
            return True
        except TimeoutError:
            return False

    async def cleanup(self) -> None:
        """Delete every route of ours and the exemption rule."""
        for dst in await self.current():
            await self.runner.run("ip", "route", "del", dst, "proto", ROUTE_PROTO, check=False)
        if self.cluster_cidr:
            await self.iptables.delete_rule("nat", "POSTROUTING", exemption_spec(self.cluster_cidr))
        self.routes = {}

    # ---------------------------------------------------------------- running
    async def run(self) -> None:
        assert self.client is not None, "run() needs an API client"
        informer = Informer(self.client, Node)
        informer.add_handlers(self.on_node, lambda _o, n: self.on_node(n), self.on_node_delete)
        await informer.start()
        try:
            await informer.wait_synced()
            last = 0.0
            while True:
                wait = last + self.resync_period - time.monotonic()
                if wait > 0 and not self._dirty.is_set():
                    try:
                        await asyncio.wait_for(self._dirty.wait(), wait)
                    except TimeoutError:
                        pass
                try:
                    await self.sync()
                    last = time.monotonic()
                except (CommandError, OSError, ValueError) as e:
                    log.error("route sync failed: %s", e)
                    await asyncio.sleep(1.0)
                    self._dirty.set()
        finally:
            await informer.stop()
