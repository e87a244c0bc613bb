"""`NodeInfo`: one node plus the running sums of the pods placed on it (bound or assumed).

Owns the aggregates every filter and score reads in O(1): allocatable cpu/memory/pods,
requested and non-zero-requested cpu/memory, the pod count, used host ports, the count of
pods per controller owner (for spreading), and the node's parsed labels and taints.

Invariants: the sums always equal the sums over `pods`; adding a pod already present
replaces it (its old contribution removed first). A NodeInfo whose `node` is None holds
pods bound to a node the cache has not seen (yet); it is never offered to filters.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from api.quantity import cpu_millis, memory_bytes
from scheduler.podinfo import HostPort, PodInfo

UNSCHEDULABLE_TAINT_KEY = "node.kubernetes.io/unschedulable"


class Taint(NamedTuple):
    key: str
    value: str
    effect: str        # NoSchedule, PreferNoSchedule, NoExecute


@dataclass(slots=True)
class NodeInfo:
    name: str
    node: dict[str, Any] | None = None
    labels: dict[str, str] = field(default_factory=dict)
    unschedulable: bool = False
    taints: tuple[Taint, ...] = ()            # NoSchedule / NoExecute (filtering)
    prefer_taints: tuple[Taint, ...] = ()     # PreferNoSchedule (scoring)
    allocatable_cpu: int = 0
    allocatable_memory: int = 0
    allocatable_pods: int = 0
    requested_cpu: int = 0
    requested_memory: int = 0
    non_zero_cpu: int = 0
    non_zero_memory: int = 0
    pods: dict[str, PodInfo] = field(default_factory=dict)
    used_ports: Counter[HostPort] = field(default_factory=Counter)
    owner_counts: Counter[str] = field(default_factory=Counter)
    generation: int = 0

    # ---------------------------------------------------------------- node
    def set_node(self, node: dict[str, Any]) -> None:
        """Take a node's wire dict: labels, unschedulable, taints, allocatable."""
        meta = node.get("metadata") or {}
        spec = node.get("spec") or {}
        status = node.get("status") or {}
        self.node = node
        self.labels = dict(meta.get("labels") or {})
        self.unschedulable = bool(spec.get("unschedulable"))
        taints = [Taint(t.get("key") or "", t.get("value") or "", t.get("effect") or "")
                  for t in spec.get("taints") or []]
        self.taints = tuple(t for t in taints if t.effect in ("NoSchedule", "NoExecute"))
        self.prefer_taints = tuple(t for t in taints if t.effect == "PreferNoSchedule")
        alloc = status.get("allocatable")
        if alloc is None:
            alloc = status.get("capacity") or {}
        self.allocatable_cpu = _convert(alloc.get("cpu"), cpu_millis)
        self.allocatable_memory = _convert(alloc.get("memory"), memory_bytes)
        self.allocatable_pods = _convert(alloc.get("pods"), memory_bytes)
        self.generation += 1

    # ---------------------------------------------------------------- pods
    def add_pod(self, pod: PodInfo) -> None:
        if pod.key in self.pods:
            self.remove_pod(pod.key)
        self.pods[pod.key] = pod
        self.requested_cpu += pod.cpu
        self.requested_memory += pod.memory
        self.non_zero_cpu += pod.non_zero_cpu
        self.non_zero_memory += pod.non_zero_memory
        for hp in pod.host_ports:
            self.used_ports[hp] += 1
        if pod.owner_uid:
            self.owner_counts[pod.owner_key] += 1
        self.generation += 1

    def remove_pod(self, key: str) -> PodInfo | None:
        pod = self.pods.pop(key, None)
        if pod is None:
            return None
        self.requested_cpu -= pod.cpu
        self.requested_memory -= pod.memory
        self.non_zero_cpu -= pod.non_zero_cpu
        self.non_zero_memory -= pod.non_zero_memory
        for hp in pod.host_ports:
            self.used_ports[hp] -= 1
            if self.used_ports[hp] <= 0:
                del self.used_ports[hp]
        if pod.owner_uid:
            self.owner_counts[pod.owner_key] -= 1
            if self.owner_counts[pod.owner_key] <= 0:
                del self.owner_counts[pod.owner_key]
        self.generation += 1
        return pod

    @property
    def pod_count(self) -> int:
        return len(self.pods)


def new_node_info(node: dict[str, Any], pods: list[PodInfo] | tuple[PodInfo, ...] = ()) -> NodeInfo:
    """A NodeInfo for a node dict with some pods on it (tests and the cache use this)."""
    ni = NodeInfo(name=(node.get("metadata") or {}).get("name") or "")
    ni.set_node(node)
    for p in pods:
        ni.add_pod(p)
    return ni


def _convert(value: Any, conv: Any) -> int:
    if value is None:
        return 0
    try:
        return int(conv(value))
    except (ValueError, ArithmeticError):
        return 0
