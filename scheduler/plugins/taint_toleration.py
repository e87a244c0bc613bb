"""TaintToleration: filter out nodes with a NoSchedule/NoExecute taint the pod does not
tolerate; score down nodes by the PreferNoSchedule taints it does not tolerate.

`tolerates(toleration, taint)` is Kubernetes' Toleration.ToleratesTaint: the effect must
match (an empty effect matches all), the key must match (an empty key with Exists matches
every taint), and Equal compares values while Exists ignores them.
"""
from __future__ import annotations

from operator import attrgetter
from typing import Any

from scheduler.framework import CycleState, Status, default_normalize, skip, unschedulable
from scheduler.nodeinfo import NodeInfo, Taint
from scheduler.podinfo import PodInfo, Toleration

NAME = "TaintToleration"
_PREFER_TAINTS = attrgetter("prefer_taints")
_SKIP = skip(NAME)


def tolerates(t: Toleration, taint: Taint) -> bool:
    if t.effect and t.effect != taint.effect:
        return False
    if t.key and t.key != taint.key:
        return False
    if t.operator == "Exists":
        return True
    if t.operator in ("", "Equal"):
        return t.value == taint.value
    return False


def untolerated(taints: tuple[Taint, ...], tolerations: tuple[Toleration, ...]) -> Taint | None:
    """The first taint no toleration tolerates (FindMatchingUntoleratedTaint)."""
    for taint in taints:
        if not any(tolerates(t, taint) for t in tolerations):
            return taint
    return None


def taints_tolerated(state: CycleState, pod: PodInfo, node_info: NodeInfo) -> Status | None:
    """The Filter: fails on the first NoSchedule/NoExecute taint the pod does not tolerate."""
    if not node_info.taints:
        return None
    taint = untolerated(node_info.taints, pod.tolerations)
    if taint is None:
        return None
    return unschedulable(NAME, f"node(s) had untolerated taint {{{taint.key}: {taint.value}}}",
                         resolvable=False)


class TaintToleration:
    NAME = NAME
    filter = staticmethod(taints_tolerated)

    def pre_score(self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo]) -> Status | None:
        # only tolerations that can match PreferNoSchedule taints matter for scoring
        state.write(NAME, tuple(t for t in pod.tolerations
                                if t.effect in ("", "PreferNoSchedule")))
        return None if any(map(_PREFER_TAINTS, nodes)) else _SKIP

    def score(self, state: CycleState, pod: PodInfo, node_info: NodeInfo) -> int:
        """The count of intolerable PreferNoSchedule taints (normalized: fewer is better)."""
        if not node_info.prefer_taints:
            return 0
        tolerations = state.read(NAME, pod.tolerations)
        return sum(1 for taint in node_info.prefer_taints
                   if not any(tolerates(t, taint) for t in tolerations))

    def normalize_score(self, state: CycleState, pod: PodInfo, scores: list[int]) -> None:
        default_normalize(scores, reverse=True)



def new(args: Any = None) -> TaintToleration:
    return TaintToleration()
