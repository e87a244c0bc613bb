"""Test support: a simulated kubelet for a few hollow nodes (no containers at all).

`KubeletSim(client, nodes=3)` registers Ready Node objects (allocatable cpu, memory,
pods; an InternalIP; a heartbeat) and then plays every node's kubelet through the
apiserver only:
- with `bind=True` (no scheduler running), binds unscheduled pods round-robin to its
  nodes through the pods/binding subresource;
- `ready_delay` seconds after it first sees a pod bound to one of its nodes, writes the
  status a kubelet would: phase Running, PodScheduled/Initialized/ContainersReady/Ready
  conditions, podIP and hostIP, startTime, running containerStatuses (`ready_when(pod)`
  False leaves the pod Running but not Ready, for stuck-rollout tests);
- deletes pods marked for graceful deletion with gracePeriodSeconds 0 (after
  `delete_delay`), as the kubelet does once containers stopped.

Use as `async with KubeletSim(client, ...) as sim:`; `stop()` cancels every task it
started. Nodes are left in the store (the apiserver fixture is per test).
"""
from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from api.models import Node, Pod
from api.models.core import PodStatus
from client.errors import AlreadyExists, APIError, Conflict, NotFound
from client.informer import Informer
from client.rest import Client
from client.workqueue import WorkQueue, run_workers

log = logging.getLogger(__name__)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class KubeletSim:
    def __init__(self, client: Client, nodes: int | list[str] = 3, *, bind: bool = True,
                 ready_delay: float = 0.05, delete_delay: float = 0.02,
                 cpu: str = "4", memory: str = "8Gi", max_pods: int = 110,
                 heartbeat: float = 10.0, workers: int = 8,
                 ready_when: Callable[[Pod], bool] | None = None) -> None:
        self.client = client
        self.node_names = nodes if isinstance(nodes, list) else \
            [f"sim-node-{i}" for i in range(1, nodes + 1)]
        self.bind = bind
        self.ready_delay = ready_delay
        self.delete_delay = delete_delay
        self.capacity = {"cpu": cpu, "memory": memory, "pods": str(max_pods)}
        self.heartbeat = heartbeat
        self.workers = workers
        self.ready_when = ready_when or (lambda pod: True)
        self.informer = Informer(client, Pod)
        self.queue = WorkQueue("kubelet-sim")
        self._rr = itertools.cycle(self.node_names)
        self._first_seen: dict[str, float] = {}
        self._ips: dict[str, itertools.count[int]] = {n: itertools.count(2)
                                                      for n in self.node_names}
        self._tasks: list[asyncio.Task[Any]] = []

    # ---------------------------------------------------------------- lifecycle
    async def start(self) -> None:
        for i, name in enumerate(self.node_names):
            await self._register(i, name)
        self.informer.add_handlers(on_add=self._enqueue,
                                   on_update=lambda old, new: self._enqueue(new))
        await self.informer.start()
        await self.informer.wait_synced(10)
        self._tasks.append(asyncio.create_task(run_workers(self.queue, self._sync_pod,
                                                           self.workers)))
        if self.heartbeat > 0:
            self._tasks.append(asyncio.create_task(self._heartbeats()))

    async def stop(self) -> None:
        self.queue.shutdown()
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        await self.informer.stop()

    async def __aenter__(self) -> KubeletSim:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ---------------------------------------------------------------- nodes
    def _node(self, index: int, name: str) -> Node:
        now = _now()
        return Node.from_dict({
            "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name,
                                                  "kubernetes.io/os": "linux"}},
            "spec": {"podCIDR": f"10.244.{index + 1}.0/24"},
            "status": {
                "capacity": dict(self.capacity), "allocatable": dict(self.capacity),
                "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                                "message": "kubelet is posting ready status (simulated)",
                                "lastHeartbeatTime": now, "lastTransitionTime": now}],
                "addresses": [{"type": "InternalIP", "address": f"192.168.77.{index + 1}"},
                              {"type": "Hostname", "address": name}],
                "nodeInfo": {"kubeletVersion": "v1.30.0-sim", "operatingSystem": "linux",
                             "architecture": "amd64", "containerRuntimeVersion": "sim://1"}}})

    async def _register(self, index: int, name: str) -> None:
        node = self._node(index, name)
        try:
            created = await self.client.create(node)
        except AlreadyExists:
            created = await self.client.get(Node, name)
        if created.status is None or not created.status.conditions:
            created.status = node.status
            await self.client.update_status(created)

    async def _heartbeats(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat)
            for name in self.node_names:
                try:
                    node = await self.client.get(Node, name)
                    for c in (node.status.conditions if node.status else None) or []:
                        if c.type == "Ready":
                            c.last_heartbeat_time = _now()
                    await self.client.update_status(node)
                except APIError as e:
                    log.debug("heartbeat of %s failed: %s", name, e)

    # ---------------------------------------------------------------- pods
    def _enqueue(self, pod: Pod) -> None:
        self.queue.add(pod.key)

    def node_ip(self, node: str) -> str:
        return f"192.168.77.{self.node_names.index(node) + 1}"

    async def _sync_pod(self, key: str) -> None:
        pod: Pod | None = self.informer.store.get(key)
        if pod is None:
            self._first_seen.pop(key, None)
            return
        node = pod.spec.node_name if pod.spec else None
        if pod.metadata.deletion_timestamp:
            if node is None or node in self.node_names:
                await self._delete_after(pod)
            return
        if not node:
            if self.bind:
                try:
                    await self.client.bind(pod, next(self._rr))
                except (Conflict, NotFound):
                    pass
            return
        if node not in self.node_names or self._is_running(pod):
            return
        seen = self._first_seen.setdefault(key, time.monotonic())
        wait = seen + self.ready_delay - time.monotonic()
        if wait > 0:
            self.queue.add_after(key, wait)
            return
        await self._start(pod, node)

    @staticmethod
    def _is_running(pod: Pod) -> bool:
        return bool(pod.status and pod.status.phase == "Running" and pod.status.pod_ip)

    async def _delete_after(self, pod: Pod) -> None:
        if self.delete_delay > 0:
            await asyncio.sleep(self.delete_delay)
        try:
            await self.client.delete(Pod, pod.name, pod.namespace, grace_period_seconds=0,
                                     preconditions={"uid": pod.metadata.uid or ""})
        except (NotFound, Conflict):
            pass

    async def _start(self, pod: Pod, node: str) -> None:
        """Write the status a kubelet writes once the containers run."""
        now = _now()
        ready = "True" if self.ready_when(pod) else "False"
        host_ip = self.node_ip(node)
        index = self.node_names.index(node) + 1
        pod_ip = f"10.244.{index}.{next(self._ips[node]) % 250 + 2}"
        containers = pod.spec.containers if pod.spec else []
        status = {
            "phase": "Running", "hostIP": host_ip, "hostIPs": [{"ip": host_ip}],
            "podIP": pod_ip, "podIPs": [{"ip": pod_ip}], "startTime": now,
            "qosClass": (pod.status.qos_class if pod.status else None) or "BestEffort",
            "conditions": [
                {"type": t, "status": s, "lastTransitionTime": now}
                for t, s in (("PodScheduled", "True"), ("Initialized", "True"),
                             ("ContainersReady", ready), ("Ready", ready))],
            "containerStatuses": [
                {"name": c.name, "image": c.image or "", "imageID": f"sim://{c.image}",
                 "containerID": f"sim://{pod.metadata.uid}/{c.name}", "ready": ready == "True",
                 "started": True, "restartCount": 0, "state": {"running": {"startedAt": now}}}
                for c in containers]}
        target = pod.model_copy(deep=True)
        target.status = PodStatus.from_dict(status)
        try:
            await self.client.update_status(target)
        except NotFound:
            return
