"""SelectorSpread score: spread the pods of one controller (ReplicaSet, StatefulSet, ...)
across nodes.

A node's raw score is how many pods of the same controller (same namespace, same
controller ownerReference uid, bound or assumed) it already runs; normalizing gives
100 * (max - count) / max, so the node with the fewest siblings wins (all 100 when none
has any). Pods without a controller are not scored by this plugin.
"""
from __future__ import annotations

from typing import Any

from scheduler.framework import CycleState, Status, default_normalize, skip
from scheduler.nodeinfo import NodeInfo
from scheduler.podinfo import PodInfo

NAME = "SelectorSpread"
_SKIP = skip(NAME)


class SelectorSpread:
    NAME = NAME

    def pre_score(self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo]) -> Status | None:
        return None if pod.owner_uid else _SKIP

    def score(self, state: CycleState, pod: PodInfo, node_info: NodeInfo) -> int:
        return node_info.owner_counts.get(pod.owner_key, 0)

    def normalize_score(self, state: CycleState, pod: PodInfo, scores: list[int]) -> None:
        default_normalize(scores, reverse=True)


def new(args: Any = None) -> SelectorSpread:
    return SelectorSpread()
