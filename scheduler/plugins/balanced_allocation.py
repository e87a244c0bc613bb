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


def balanced_score(pod: PodInfo, ni: NodeInfo) -> int:
    fractions = []
    if ni.allocatable_cpu:
        fractions.append(min(1.0, (ni.requested_cpu + pod.cpu) / ni.allocatable_cpu))
    if ni.allocatable_memory:
        fractions.append(min(1.0, (ni.requested_memory + pod.memory) / ni.allocatable_memory))
    std = abs(fractions[0] - fractions[1]) / 2 if len(fractions) == 2 else 0.0
    return int((1 - std) * MAX_NODE_SCORE)


class BalancedAllocation:
    NAME = NAME

    def score(self, state: CycleState, pod: PodInfo, node_info: NodeInfo) -> int:
        return balanced_score(pod, node_info)


def new(args: Any = None) -> BalancedAllocation:
    return BalancedAllocation()
