"""The kubelet's Node: registration, status from the host and the runtime, lease heartbeat.

Owns:
- pure helpers: `host_capacity` (cpu, memory, pods, ephemeral-storage read from the
  host, overridable for hollow nodes), `node_conditions` (MemoryPressure, DiskPressure,
  PIDPressure and Ready with Kubernetes' reasons; lastTransitionTime moves only on a
  status change), `node_status` (addresses, capacity, allocatable, conditions,
  daemonEndpoints with the kubelet's port, nodeInfo with kubelet and runtime versions);
- `NodeStatusManager`: registers the Node (or adopts an existing one), patches
  nodes/status when it changes (and at least every `report_interval` for the
  heartbeat times), renews the Lease `kube-node-lease/<node>` every `lease_interval`
  (10 s), and reports the node's spec.podCIDR to the kubelet as soon as it is set.
"""
from __future__ import annotations

import asyncio
import functools
import logging
import os
import platform
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from api.meta import now_rfc3339
from api.models import Lease, Node
from api.models.coordination import LeaseSpec
from client.errors import AlreadyExists, Conflict, ConnectionFailed, NotFound, ServerError, TooManyRequests
from client.rest import Client

log = logging.getLogger("kubelet.node")

KUBELET_VERSION = "v1.30.0-pykube"
LEASE_NAMESPACE = "kube-node-lease"
LEASE_DURATION = 40


def host_memory_bytes() -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def host_capacity(max_pods: int, data_dir: Path, cpu: str | None = None,
                  memory: str | None = None) -> dict[str, str]:
    try:
        st = os.statvfs(data_dir if data_dir.exists() else "/")
        disk = st.f_blocks * st.f_frsize
    except OSError:
        disk = 0
    return {
        "cpu": cpu or str(os.cpu_count() or 1),
        "memory": memory or f"{host_memory_bytes() // 1024}Ki",
        "pods": str(max_pods),
        "ephemeral-storage": f"{disk // 1024}Ki",
        "hugepages-2Mi": "0",
    }


def default_node_ip() -> str:
    """The address the host would use to reach the outside (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))
            return str(s.getsockname()[0])
        except OSError:
            return "127.0.0.1"


def _cond(prev: dict[str, Any], ctype: str, ok: bool, reason: str, message: str, now: str) -> dict[str, Any]:
    status = "True" if ok else "False"
    old = prev.get(ctype)
    since = old.get("lastTransitionTime") if old and old.get("status") == status else None
    return {"type": ctype, "status": status, "lastHeartbeatTime": now,
            "lastTransitionTime": since or now, "reason": reason, "message": message}


def node_conditions(ready_problems: list[str], previous: list[dict[str, Any]] | None, now: str,
                    pressure: set[str] | frozenset[str] = frozenset()) -> list[dict[str, Any]]:
    """The Node's conditions; `pressure` names those the eviction manager sees True."""
    prev = {c["type"]: c for c in previous or []}
    ready = not ready_problems
    mem, disk = "MemoryPressure" in pressure, "DiskPressure" in pressure
    return [
        _cond(prev, "MemoryPressure", mem, "KubeletHasInsufficientMemory" if mem else "KubeletHasSufficientMemory",
              "kubelet has insufficient memory available" if mem else "kubelet has sufficient memory available", now),
        _cond(prev, "DiskPressure", disk, "KubeletHasDiskPressure" if disk else "KubeletHasNoDiskPressure",
              "kubelet has disk pressure" if disk else "kubelet has no disk pressure", now),
        _cond(prev, "PIDPressure", False, "KubeletHasSufficientPID", "kubelet has sufficient PID available", now),
        _cond(prev, "Ready", ready, "KubeletReady" if ready else "KubeletNotReady",
              "kubelet is posting ready status" if ready else "; ".join(ready_problems), now),
    ]


@dataclass
class NodeInfo:
    node_name: str
    node_ip: str
    port: int
    capacity: dict[str, str]
    runtime_version: str = ""
    hostname: str = field(default_factory=socket.gethostname)


def _read(path: str) -> str:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return ""


def _os_image() -> str:
    for line in _read("/etc/os-release").splitlines():
        if line.startswith("PRETTY_NAME="):
            return line.split("=", 1)[1].strip('"')
    return "Linux"


@functools.cache
def _host_info() -> tuple[tuple[str, str], ...]:
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
    return (("machineID", _read("/etc/machine-id")), ("bootID", _read("/proc/sys/kernel/random/boot_id")),
            ("kernelVersion", platform.release()), ("osImage", _os_image()), ("architecture", arch))


def node_status(info: NodeInfo, conditions: list[dict[str, Any]]) -> dict[str, Any]:
    host = dict(_host_info())
    return {
        "capacity": dict(info.capacity),
        "allocatable": dict(info.capacity),
        "conditions": conditions,
        "addresses": [{"type": "InternalIP", "address": info.node_ip},
                      {"type": "Hostname", "address": info.node_name}],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": info.port}},
        "nodeInfo": {
            "machineID": host["machineID"], "systemUUID": "", "bootID": host["bootID"],
            "kernelVersion": host["kernelVersion"], "osImage": host["osImage"],
            "containerRuntimeVersion": info.runtime_version, "kubeletVersion": KUBELET_VERSION,
            "kubeProxyVersion": "", "operatingSystem": "linux", "architecture": host["architecture"],
        },
    }


def _ready(conditions: list[dict[str, Any]] | None) -> bool | None:
    for c in conditions or []:
        if c.get("type") == "Ready":
            return bool(c.get("status") == "True")
    return None


def _without_heartbeats(status: dict[str, Any]) -> dict[str, Any]:
    out = dict(status)
    out["conditions"] = [{k: v for k, v in c.items() if k != "lastHeartbeatTime"} for c in status.get("conditions") or []]
    return out


class NodeStatusManager:
    def __init__(self, client: Client, info: NodeInfo, problems: Callable[[], Awaitable[list[str]]],
                 pod_cidr: str | None = None, labels: dict[str, str] | None = None,
                 lease_interval: float = 10.0, report_interval: float = 300.0,
                 on_pod_cidr: Callable[[str], Any] | None = None,
                 on_ready: Callable[[bool], None] | None = None,
                 pressure: Callable[[], set[str]] | None = None) -> None:
        self.client, self.info, self.problems = client, info, problems
        self.wanted_pod_cidr = pod_cidr
        self.labels = labels or {}
        self.lease_interval, self.report_interval = lease_interval, report_interval
        self.on_pod_cidr = on_pod_cidr
        self.on_ready = on_ready   # the Ready condition changed (NodeReady / NodeNotReady events)
        self.pressure = pressure or set   # MemoryPressure / DiskPressure seen by the eviction manager
        self.pod_cidr: str | None = None
        self._last_status: dict[str, Any] | None = None
        self._last_report = 0.0
        self._lease: Lease | None = None
        self._wake = asyncio.Event()
        self.lease_renewals = 0

    def _metadata(self) -> dict[str, Any]:
        arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
        labels = {"kubernetes.io/hostname": self.info.node_name, "kubernetes.io/os": "linux",
                  "kubernetes.io/arch": arch, "beta.kubernetes.io/os": "linux", "beta.kubernetes.io/arch": arch,
                  **self.labels}
        return {"name": self.info.node_name, "labels": labels}

    async def register(self, retry_cap: float = 7.0) -> Node:
        """Register the Node, retrying (0.2 s doubling to `retry_cap`) while the apiserver
        is unreachable or failing, as a kubelet started before its apiserver must."""
        delay = 0.2
        while True:
            try:
                return await self._register()
            except (ConnectionFailed, ServerError, TooManyRequests) as e:
                log.warning("registering node %s failed (%s); retrying in %.1fs", self.info.node_name, e, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, retry_cap)

    async def _register(self) -> Node:
        conds = node_conditions(await self.problems(), None, now_rfc3339())
        body: dict[str, Any] = {"apiVersion": "v1", "kind": "Node", "metadata": self._metadata(),
                                "spec": {}, "status": node_status(self.info, conds)}
        if self.wanted_pod_cidr:
            body["spec"] = {"podCIDR": self.wanted_pod_cidr, "podCIDRs": [self.wanted_pod_cidr]}
        try:
            node = Node.from_dict(await self.client.create(body))
            log.info("registered node %s", self.info.node_name)
        except AlreadyExists:
            node = await self.client.get(Node, self.info.node_name)
            if self.wanted_pod_cidr and not (node.spec and node.spec.pod_cidr):
                node = await self.client.patch(Node, self.info.node_name, {"spec": body["spec"]})
        await self._note_pod_cidr(node)
        await self.update_status(node, force=True)
        return node

    async def _note_pod_cidr(self, node: Node) -> None:
        cidr = node.spec.pod_cidr if node.spec else None
        if cidr and cidr != self.pod_cidr:
            self.pod_cidr = cidr
            if self.on_pod_cidr is not None:
                r = self.on_pod_cidr(cidr)
                if asyncio.iscoroutine(r):
                    await r

    def trigger(self) -> None:
        """Update the status now (the runtime or network state changed)."""
        self._wake.set()

    async def update_status(self, node: Node | None = None, force: bool = False) -> bool:
        if node is None:
            try:
                node = await self.client.get(Node, self.info.node_name)
            except NotFound:  # deleted behind our back: register again, as a kubelet does
                log.warning("node %s is gone; registering it again", self.info.node_name)
                await self._register()
                return True
        await self._note_pod_cidr(node)
        prev = node.status.to_dict().get("conditions") if node.status else None
        status = node_status(self.info, node_conditions(await self.problems(), prev, now_rfc3339(), self.pressure()))
        due = time.monotonic() - self._last_report >= self.report_interval
        if not force and not due and self._last_status is not None and \
                _without_heartbeats(status) == _without_heartbeats(self._last_status):
            return False
        await self.client.patch(Node, self.info.node_name, {"status": status}, subresource="status")
        self._last_status, self._last_report = status, time.monotonic()
        was, now = _ready(prev), _ready(status["conditions"])
        if self.on_ready is not None and now is not None and was != now:
            self.on_ready(now)
        return True

    async def renew_lease(self) -> None:
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        name = self.info.node_name
        for _ in range(3):
            lease = self._lease
            if lease is None:
                try:
                    lease = await self.client.get(Lease, name, namespace=LEASE_NAMESPACE)
                except NotFound:
                    body = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                            "metadata": {"name": name, "namespace": LEASE_NAMESPACE},
                            "spec": {"holderIdentity": name, "leaseDurationSeconds": LEASE_DURATION,
                                     "renewTime": now}}
                    try:
                        self._lease = Lease.from_dict(await self.client.create(body))
                        self.lease_renewals += 1
                        return
                    except AlreadyExists:
                        continue
            new = lease.model_copy(deep=True)
            new.spec = new.spec or LeaseSpec()
            new.spec.holder_identity, new.spec.lease_duration_seconds = name, LEASE_DURATION
            new.spec.renew_time = now
            try:
                self._lease = await self.client.update(new)
                self.lease_renewals += 1
                return
            except (Conflict, NotFound):
                self._lease = None
        raise Conflict({"code": 409, "reason": "Conflict", "message": "lease renewal kept conflicting"})

    async def run(self) -> None:
        """Heartbeat forever: lease every `lease_interval`, status when it changes (or
        when `trigger()` asks), at least checked at each lease renewal; every 0.5 s while the
        node waits for node IPAM's pod CIDR (no network, no pods, until it comes)."""
        next_lease = time.monotonic() + self.lease_interval
        while True:
            wait = max(0.0, next_lease - time.monotonic())
            if self.pod_cidr is None:
                wait = min(wait, 0.5)
            try:
                async with asyncio.timeout(wait):
                    await self._wake.wait()
            except TimeoutError:
                pass
            self._wake.clear()
            steps: list[Callable[[], Awaitable[Any]]] = []
            if time.monotonic() >= next_lease:
                next_lease = time.monotonic() + self.lease_interval
                steps.append(self.renew_lease)
            steps.append(self.update_status)
            for step in steps:
                try:
                    await step()
                except asyncio.CancelledError:
                    raise
                except Exception as e:  # noqa: BLE001 - the heartbeat must go on
                    log.warning("node %s: %s failed: %s", self.info.node_name, getattr(step, "__name__", step), e)
