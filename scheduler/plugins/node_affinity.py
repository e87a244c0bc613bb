"""NodeAffinity: filter by the pod's nodeSelector and required node affinity; score by the
weights of the preferred node affinity terms a node matches.

Kubernetes' rules: nodeSelector labels must all match; the required terms are ORed, the
requirements inside one term ANDed; a term with no requirements matches nothing;
matchFields knows `metadata.name`. Operators In, NotIn, Exists, DoesNotExist, Gt, Lt.
"""
from __future__ import annotations

from typing import Any

from scheduler.framework import CycleState, Status, default_normalize, skip, unschedulable
from scheduler.nodeinfo import NodeInfo
from scheduler.podinfo import NodeSelectorTerm, PodInfo, SelectorRequirement

NAME = "NodeAffinity"
ERR_REASON_POD = "node(s) didn't match Pod's node affinity/selector"
_FAIL = unschedulable(NAME, ERR_REASON_POD, resolvable=False)
_SKIP = skip(NAME)


def requirement_matches(r: SelectorRequirement, labels: dict[str, str]) -> bool:
    op, has = r.operator, r.key in labels
    if op == "In":
        return has and labels[r.key] in r.values
    if op == "NotIn":
        return not has or labels[r.key] not in r.values
    if op == "Exists":
        return has
    if op == "DoesNotExist":
        return not has
    if op in ("Gt", "Lt") and has and len(r.values) == 1:
        try:
            have, want = int(labels[r.key]), int(r.values[0])
        except ValueError:
            return False
        return have > want if op == "Gt" else have < want
    return False


def term_matches(term: NodeSelectorTerm, node_info: NodeInfo) -> bool:
    if not term.match_expressions and not term.match_fields:
        return False
    labels = node_info.labels
    if not all(requirement_matches(r, labels) for r in term.match_expressions):
        return False
    fields = {"metadata.name": node_info.name}
    return all(r.key == "metadata.name" and r.operator in ("In", "NotIn")
               and requirement_matches(r, fields) for r in term.match_fields)


def node_matches(pod: PodInfo, node_info: NodeInfo) -> bool:
    """Does the node satisfy the pod's nodeSelector and required node affinity?"""
    labels = node_info.labels
    for k, v in pod.node_selector.items():
        if labels.get(k) != v:
            return False
    if pod.required_terms is not None:
        return any(term_matches(t, node_info) for t in pod.required_terms)
    return True


class NodeAffinity:
    NAME = NAME

    def pre_filter(self, state: CycleState, pod: PodInfo) -> Status | None:
        return None if pod.node_selector or pod.required_terms is not None else _SKIP

    def filter(self, state: CycleState, pod: PodInfo, node_info: NodeInfo) -> Status | None:
        return None if node_matches(pod, node_info) else _FAIL

    def pre_score(self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo]) -> Status | None:
        return None if pod.preferred_terms else _SKIP

    def score(self, state: CycleState, pod: PodInfo, node_info: NodeInfo) -> int:
        return sum(p.weight for p in pod.preferred_terms if term_matches(p.term, node_info))

    def normalize_score(self, state: CycleState, pod: PodInfo, scores: list[int]) -> None:
        default_normalize(scores)


def new(args: Any = None) -> NodeAffinity:
    return NodeAffinity()
