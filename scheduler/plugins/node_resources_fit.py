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


def fits(state: CycleState, pod: PodInfo, ni: NodeInfo) -> Status | None:
    """The Filter: None when the pod fits, else the Status naming every shortfall."""
    too_many = len(ni.pods) >= ni.allocatable_pods
    cpu = pod.cpu > 0 and pod.cpu > ni.allocatable_cpu - ni.requested_cpu
    mem = pod.memory > 0 and pod.memory > ni.allocatable_memory - ni.requested_memory
    if too_many or cpu or mem:
        return _STATUSES[(too_many, cpu, mem)]
    return None


def least_allocated_score(state: CycleState, pod: PodInfo, ni: NodeInfo) -> int:
    """The Score: mean over cpu and memory of (allocatable - requested) * 100 /
    allocatable, 0 for a resource the node lacks or that would be overcommitted."""
    cap = ni.allocatable_cpu
    req = ni.non_zero_cpu + pod.non_zero_cpu
    cpu = (cap - req) * MAX_NODE_SCORE // cap if cap and req <= cap else 0
    cap = ni.allocatable_memory
    req = ni.non_zero_memory + pod.non_zero_memory
    mem = (cap - req) * MAX_NODE_SCORE // cap if cap and req <= cap else 0
    return (cpu + mem) // 2


class NodeResourcesFit:
    NAME = NAME
    # plain functions, so the per-node call in the hot loop binds nothing
    filter = staticmethod(fits)
    score = staticmethod(least_allocated_score)


def new(args: Any = None) -> NodeResourcesFit:
    return NodeResourcesFit()
