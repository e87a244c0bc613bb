"""NodeResourcesFit: filter nodes without room for the pod's cpu, memory and one more pod;
score by the LeastAllocated strategy (the emptier the node, the higher).

Fit is Kubernetes' fitsRequest: the pod count against allocatable pods, then each
requested resource against allocatable minus what the node's pods request; every
shortfall is one reason ("Insufficient cpu", "Insufficient memory", "Too many pods").
The score uses non-zero requests (100m / 200Mi for a container that asks for nothing), so
best-effort pods still spread: ((allocatable - requested) * 100 / allocatable) per
resource, cpu and memory weighted equally.
"""
from __future__ import annotations

from typing import Any

from scheduler.framework import MAX_NODE_SCORE, CycleState, Status, unschedulable
from scheduler.nodeinfo import NodeInfo
from scheduler.podinfo import PodInfo

NAME = "NodeResourcesFit"
TOO_MANY_PODS = "Too many pods"
INSUFFICIENT_CPU = "Insufficient cpu"
INSUFFICIENT_MEMORY = "Insufficient memory"

# every combination of reasons, built once: (pods, cpu, memory) -> Status
_STATUSES: dict[tuple[bool, bool, bool], Status] = {}
for _p in (False, True):
    for _c in (False, True):
        for _m in (False, True):
            _reasons = [r for r, on in ((TOO_MANY_PODS, _p), (INSUFFICIENT_CPU, _c),
                                         (INSUFFICIENT_MEMORY, _m)) if on]
            if _reasons:
                _STATUSES[(_p, _c, _m)] = unschedulable(NAME, *_reasons)


def fits(pod: PodInfo, ni: NodeInfo) -> Status | None:
    too_many = len(ni.pods) + 1 > ni.allocatable_pods
    cpu = pod.cpu > 0 and pod.cpu > ni.allocatable_cpu - ni.requested_cpu
    mem = pod.memory > 0 and pod.memory > ni.allocatable_memory - ni.requested_memory
    if too_many or cpu or mem:
        return _STATUSES[(too_many, cpu, mem)]
    return None


def least_requested(requested: int, capacity: int) -> int:
    if capacity == 0 or requested > capacity:
        return 0
    return (capacity - requested) * MAX_NODE_SCORE // capacity


def least_allocated_score(pod: PodInfo, ni: NodeInfo) -> int:
    cpu = least_requested(ni.non_zero_cpu + pod.non_zero_cpu, ni.allocatable_cpu)
    mem = least_requested(ni.non_zero_memory + pod.non_zero_memory, ni.allocatable_memory)
    return (cpu + mem) // 2


class NodeResourcesFit:
    NAME = NAME

    def filter(self, state: CycleState, pod: PodInfo, node_info: NodeInfo) -> Status | None:
        return fits(pod, node_info)

    def score(self, state: CycleState, pod: PodInfo, node_info: NodeInfo) -> int:
        return least_allocated_score(pod, node_info)


def new(args: Any = None) -> NodeResourcesFit:
    return NodeResourcesFit()
