"""PodTopologySpread: keep the pods a constraint selects evenly spread over topology domains.

Filter, for each `whenUnsatisfiable: DoNotSchedule` constraint: a node without the
constraint's topologyKey label fails; otherwise placing the pod there must not make its
domain hold more than `maxSkew` matching pods above the least-loaded eligible domain (the
minimum counts as 0 while fewer than `minDomains` domains exist). Eligible domains are those
of nodes that pass the pod's nodeSelector and required node affinity (`nodeAffinityPolicy:
Honor`, the default) and, with `nodeTaintsPolicy: Honor`, whose taints the pod tolerates.
`matchLabelKeys` add the pod's own values of those labels to the selector. Score, for
`ScheduleAnyway` constraints: fewer matching pods in a node's domains is better.
Matching pods are counted in the pod's namespace only, as kube does.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from api.selectors import Selector, selector_from_model
from scheduler.framework import CycleState, Status, default_normalize, skip, unschedulable
from scheduler.nodeinfo import NodeInfo
from scheduler.plugins.inter_pod_affinity import NODES_KEY
from scheduler.plugins.node_affinity import node_matches
from scheduler.plugins.taint_toleration import untolerated
from scheduler.podinfo import PodInfo

NAME = "PodTopologySpread"
ERR_CONSTRAINTS = "node(s) didn't match pod topology spread constraints"
ERR_MISSING_LABEL = "node(s) didn't match pod topology spread constraints (missing required label)"
_STATE, _SCORE_STATE = "PodTopologySpread/pre-filter", "PodTopologySpread/pre-score"
_SKIP = skip(NAME)


@dataclass(frozen=True)
class Constraint:
    max_skew: int
    topology_key: str
    hard: bool
    selector: Selector
    min_domains: int
    honor_affinity: bool
    honor_taints: bool
    self_match: bool


def constraints(pod: PodInfo) -> list[Constraint]:
    out = []
    for c in (pod.obj.get("spec") or {}).get("topologySpreadConstraints") or []:
        selector: dict[str, Any] = dict(c.get("labelSelector") or {})
        extra = [{"key": k, "operator": "In", "values": [pod.labels[k]]}
                 for k in c.get("matchLabelKeys") or [] if k in pod.labels]
        if extra:
            selector["matchExpressions"] = [*(selector.get("matchExpressions") or []), *extra]
        try:
            sel = selector_from_model(selector if c.get("labelSelector") is not None or extra else None)
        except ValueError:
            sel = selector_from_model(None)
        out.append(Constraint(int(c.get("maxSkew") or 1), c.get("topologyKey") or "",
                              c.get("whenUnsatisfiable") == "DoNotSchedule", sel, int(c.get("minDomains") or 1),
                              (c.get("nodeAffinityPolicy") or "Honor") == "Honor",
                              (c.get("nodeTaintsPolicy") or "Ignore") == "Honor", sel.matches(pod.labels)))
    return out


def _counts(pod: PodInfo, c: Constraint, nodes: list[NodeInfo]) -> Counter[str]:
    """Matching pods per eligible domain (every eligible domain present, maybe with 0)."""
    counts: Counter[str] = Counter()
    for ni in nodes:
        value = ni.labels.get(c.topology_key)
        if value is None or (c.honor_affinity and not node_matches(pod, ni)) or \
                (c.honor_taints and untolerated(ni.taints, pod.tolerations) is not None):
            continue
        counts[value] += sum(1 for p in ni.pods.values() if p.namespace == pod.namespace and not p.terminated
                             and c.selector.matches(p.labels))
    return counts


class PodTopologySpread:
    NAME = NAME

    def pre_filter(self, state: CycleState, pod: PodInfo) -> Status | None:
        hard = [c for c in constraints(pod) if c.hard]
        if not hard:
            return _SKIP
        nodes: list[NodeInfo] = state.read(NODES_KEY) or []
        state.write(_STATE, [(c, _counts(pod, c, nodes)) for c in hard])
        return None

    def filter(self, state: CycleState, pod: PodInfo, node_info: NodeInfo) -> Status | None:
        for c, counts in state.read(_STATE):
            value = node_info.labels.get(c.topology_key)
            if value is None:
                return unschedulable(NAME, ERR_MISSING_LABEL, resolvable=False)
            least = min(counts.values()) if counts and len(counts) >= c.min_domains else 0
            if counts.get(value, 0) + (1 if c.self_match else 0) - least > c.max_skew:
                return unschedulable(NAME, ERR_CONSTRAINTS)
        return None

    def pre_score(self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo]) -> Status | None:
        soft = [c for c in constraints(pod) if not c.hard]
        if not soft:
            return _SKIP
        everything: list[NodeInfo] = state.read(NODES_KEY) or nodes
        state.write(_SCORE_STATE, [(c, _counts(pod, c, everything)) for c in soft])
        return None

    def score(self, state: CycleState, pod: PodInfo, node_info: NodeInfo) -> int:
        return sum(counts.get(node_info.labels.get(c.topology_key, ""), 0) for c, counts in state.read(_SCORE_STATE))

    def normalize_score(self, state: CycleState, pod: PodInfo, scores: list[int]) -> None:
        default_normalize(scores, reverse=True)


def new(args: Any = None) -> PodTopologySpread:
    return PodTopologySpread()
