"""NodeResourcesBalancedAllocation score: prefer nodes whose cpu and memory would be used
in the same proportion after placing the pod.

Kubernetes' formula for two resources: fractions f = requested / allocatable (capped at
1, counting the pod's own requests), std = |f_cpu - f_mem| / 2, score = (1 - std) * 100.
"""
from __future__ import annotations

from typing import Any

from scheduler.framework import MAX_NODE_SCORE, CycleState
from scheduler.nodeinfo import NodeInfo
from scheduler.podinfo import PodInfo

NAME = "NodeResourcesBalancedAllocation"


def balanced_score(state: CycleState, pod: PodInfo, ni: NodeInfo) -> int:
    cpu_alloc, mem_alloc = ni.allocatable_cpu, ni.allocatable_memory
    if not cpu_alloc or not mem_alloc:
        return MAX_NODE_SCORE          # one resource or none: no spread to balance
    cpu = (ni.requested_cpu + pod.cpu) / cpu_alloc
    mem = (ni.requested_memory + pod.memory) / mem_alloc
    if cpu > 1.0:
        cpu = 1.0
    if mem > 1.0:
        mem = 1.0
    std = (cpu - mem) / 2 if cpu > mem else (mem - cpu) / 2
    return int((1 - std) * MAX_NODE_SCORE)


class BalancedAllocation:
    NAME = NAME
    score = staticmethod(balanced_score)    # a plain function: nothing bound per call


def new(args: Any = None) -> BalancedAllocation:
    return BalancedAllocation()
