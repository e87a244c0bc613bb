"""Test support for controller integration tests: simulated nodes plus a tiny scheduler.

`SimNodes(client, ["n1", "n2"])` registers Ready nodes and then, every `tick` seconds:
- renews each running node's Lease in kube-node-lease (its heartbeat);
- binds unscheduled pods round-robin to running nodes without NoSchedule/NoExecute taints
  (a scheduler reduced to what these tests need);
- plays each running node's kubelet: bound pods become Running and Ready with an IP from
  the node's podCIDR (or 10.250.<node>.x), and terminating pods are deleted with grace 0.

`stop_node(name)` silences one node (no lease, no pod work), as a crashed host;
`start_node(name)` brings it back (it posts Ready again). Nothing here is a product
component; the real kubelet and scheduler live in kubelet/ and scheduler/.
"""
from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import itertools
import logging
from collections.abc import AsyncIterator
from typing import Any

from api.meta import now_rfc3339
from api.models import Lease, Node, Pod
from client.errors import APIError, Conflict, NotFound
from client.leaderelection import micro_time
from client.rest import Client

log = logging.getLogger(__name__)
LEASE_NS = "kube-node-lease"


class SimNodes:
    def __init__(self, client: Client, names: list[str], *, tick: float = 0.2,
                 schedule: bool = True) -> None:
        self.client = client
        self.names = list(names)
        self.tick = tick
        self.schedule = schedule
        self.running: set[str] = set(names)
        self._ips: dict[str, itertools.count[int]] = {n: itertools.count(2) for n in names}
        self._rr = itertools.count()
        self._task: asyncio.Task[None] | None = None

    # ---------------------------------------------------------------- lifecycle
    async def start(self) -> None:
        for name in self.names:
            await self._register(name)
        self._task = asyncio.create_task(self._loop(), name="sim-nodes")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    def stop_node(self, name: str) -> None:
        self.running.discard(name)

    async def start_node(self, name: str) -> None:
        self.running.add(name)
        await self._post_ready(name)

    # ---------------------------------------------------------------- registration
    async def _register(self, name: str) -> None:
        node = Node.from_dict({"metadata": {"name": name, "labels": {
            "kubernetes.io/hostname": name}}, "spec": {}})
        with contextlib.suppress(APIError):
            await self.client.create(node)
        await self._post_ready(name)
        lease = Lease.from_dict({"metadata": {"name": name, "namespace": LEASE_NS},
                                 "spec": {"holderIdentity": name, "leaseDurationSeconds": 40,
                                          "renewTime": micro_time()}})
        with contextlib.suppress(APIError):
            await self.client.create(lease)

    async def _post_ready(self, name: str) -> None:
        for _ in range(5):
            body = (await self.client.get(Node, name)).to_dict()
            now = now_rfc3339()
            new_status: dict[str, Any] = body.setdefault("status", {})
            new_status["conditions"] = [{
                "type": "Ready", "status": "True", "reason": "KubeletReady",
                "message": "kubelet is posting ready status", "lastHeartbeatTime": now,
                "lastTransitionTime": now}]
            new_status["addresses"] = [{"type": "InternalIP",
                                        "address": f"192.168.77.{self.names.index(name) + 2}"}]
            try:
                await self.client.update_status(Node.from_dict(body))
                return
            except Conflict:
                continue

    # ---------------------------------------------------------------- the loop
    async def _loop(self) -> None:
        while True:
            try:
                await self._once()
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001 - a test helper keeps going
                log.debug("sim nodes: %s", e)
            await asyncio.sleep(self.tick)

    async def _once(self) -> None:
        for name in list(self.running):
            await self._renew(name)
        nodes = {n.name: n for n in (await self.client.list(Node)).items}
        pods = (await self.client.list(Pod)).items
        for pod in pods:
            node_name = pod.spec.node_name if pod.spec else None
            if not node_name:
                if self.schedule and not pod.metadata.deletion_timestamp:
                    await self._bind(pod, nodes)
            elif node_name in self.running:
                await self._kubelet(pod, nodes.get(node_name))

    async def _renew(self, name: str) -> None:
        try:
            lease = await self.client.get(Lease, name, namespace=LEASE_NS)
        except NotFound:
            return
        assert lease.spec is not None
        lease.spec.renew_time = micro_time()
        with contextlib.suppress(Conflict):
            await self.client.update(lease)

    def _schedulable(self, node: Node) -> bool:
        taints = (node.spec.taints if node.spec else None) or []
        return not any(t.effect in ("NoSchedule", "NoExecute") for t in taints)

    async def _bind(self, pod: Pod, nodes: dict[str, Node]) -> None:
        choices = sorted(n for n in self.running if n in nodes and self._schedulable(nodes[n]))
        if not choices:
            return
        target = choices[next(self._rr) % len(choices)]
        with contextlib.suppress(APIError):
            await self.client.bind(pod, target)

    async def _kubelet(self, pod: Pod, node: Node | None) -> None:
        if pod.metadata.deletion_timestamp:
            with contextlib.suppress(NotFound, Conflict):
                await self.client.delete(Pod, pod.name, namespace=pod.namespace,
                                         grace_period_seconds=0)
            return
        status = pod.status
        ready = any(c.type == "Ready" and c.status == "True" for c in (status.conditions or [])) \
            if status else False
        if status is not None and status.phase == "Running" and status.pod_ip and ready:
            return
        now = now_rfc3339()
        body = pod.to_dict()
        st = body.setdefault("status", {})
        st["phase"] = "Running"
        st["podIP"] = st.get("podIP") or self._ip(node)
        st["podIPs"] = [{"ip": st["podIP"]}]
        st["startTime"] = st.get("startTime") or now
        conds = [c for c in st.get("conditions") or []
                 if c.get("type") not in ("Ready", "ContainersReady", "Initialized")]
        for ctype in ("Initialized", "Ready", "ContainersReady"):
            conds.append({"type": ctype, "status": "True", "lastTransitionTime": now})
        st["conditions"] = conds
        with contextlib.suppress(Conflict, NotFound):
            await self.client.update_status(Pod.from_dict(body))

    def _ip(self, node: Node | None) -> str:
        name = node.name if node else "?"
        n = next(self._ips.setdefault(name, itertools.count(2)))
        cidr = node.spec.pod_cidr if node is not None and node.spec else None
        if cidr:
            return str(ipaddress.ip_network(cidr)[n])
        idx = self.names.index(name) if name in self.names else 99
        return f"10.250.{idx}.{n}"


@contextlib.asynccontextmanager
async def sim_nodes(client: Client, names: list[str], **kw: Any) -> AsyncIterator[SimNodes]:
    sim = SimNodes(client, names, **kw)
    await sim.start()
    try:
        yield sim
    finally:
        await sim.stop()


async def wait_for(predicate: Any, timeout: float = 10.0, interval: float = 0.1,
                   what: str = "condition") -> Any:
    """Poll an async (or sync) predicate until it answers something truthy."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(interval)

