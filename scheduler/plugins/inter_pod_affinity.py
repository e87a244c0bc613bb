"""InterPodAffinity: place a pod by the pods already running in each topology domain.

Filter (kube's rules): for the pod's required affinity terms, every node must carry each
term's topologyKey and its domain must hold a pod matching all the terms (unless no pod
anywhere matches and the pod matches its own terms: the first of a group that wants to be
together); for its required anti-affinity terms, no domain of the node may hold a matching
pod; and no pod already placed may have a required anti-affinity term that matches this
pod in the node's domain. Score: the preferred terms' weights of the pod (toward the pods
in each node's domains) and of the placed pods (toward this pod), affinity adding and
anti-affinity subtracting, normalized to 0..100 between the lowest and the highest.

A term selects pods of its `namespaces`, of every namespace for `namespaceSelector: {}`,
else of the pod's own namespace.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from api.selectors import Selector, selector_from_model
from scheduler.framework import MAX_NODE_SCORE, CycleState, Status, skip, unschedulable
from scheduler.nodeinfo import NodeInfo
from scheduler.podinfo import PodInfo

NAME = "InterPodAffinity"
NODES_KEY = "nodes"            # the cycle's node snapshot, written by the scheduler
ERR_AFFINITY = "node(s) didn't match pod affinity rules"
ERR_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules"
ERR_EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules"
_STATE = "InterPodAffinity/pre-filter"
_SCORE_STATE = "InterPodAffinity/pre-score"
_SKIP = skip(NAME)
_AFFINITY_FAIL = unschedulable(NAME, ERR_AFFINITY, resolvable=False)
Pair = tuple[str, str]         # (topology key, value)


@dataclass(frozen=True)
class Term:
    selector: Selector
    namespaces: frozenset[str] | None      # None: every namespace
    topology_key: str
    weight: int = 0

    def matches(self, pod: PodInfo) -> bool:
        return (self.namespaces is None or pod.namespace in self.namespaces) and self.selector.matches(pod.labels)


def _term(t: dict[str, Any], own_namespace: str, weight: int = 0) -> Term:
    namespaces: frozenset[str] | None = frozenset(t.get("namespaces") or [])
    if t.get("namespaceSelector") == {}:
        namespaces = None
    elif not namespaces:
        namespaces = frozenset({own_namespace})
    try:
        selector = selector_from_model(t.get("labelSelector"))
    except ValueError:
        selector = selector_from_model(None)
    return Term(selector, namespaces, t.get("topologyKey") or "", weight)


def terms(pod: PodInfo, kind: str) -> tuple[list[Term], list[Term]]:
    """(required, preferred) terms of `kind` (podAffinity / podAntiAffinity) of a pod."""
    rules = (((pod.obj.get("spec") or {}).get("affinity") or {}).get(kind)) or {}
    required = [_term(t, pod.namespace) for t in rules.get("requiredDuringSchedulingIgnoredDuringExecution") or []]
    preferred = [_term(p.get("podAffinityTerm") or {}, pod.namespace, int(p.get("weight") or 0))
                 for p in rules.get("preferredDuringSchedulingIgnoredDuringExecution") or []]
    return required, preferred


def _has_affinity(pod: PodInfo) -> bool:
    affinity = (pod.obj.get("spec") or {}).get("affinity") or {}
    return bool(affinity.get("podAffinity") or affinity.get("podAntiAffinity"))


@dataclass
class _PreFilter:
    affinity: list[Term]
    anti: list[Term]
    affinity_counts: Counter[Pair]
    anti_counts: Counter[Pair]
    existing_anti: Counter[Pair]


def _placed(nodes: list[NodeInfo]) -> list[tuple[NodeInfo, PodInfo]]:
    return [(ni, p) for ni in nodes for p in ni.pods.values() if not p.terminated]


class InterPodAffinity:
    NAME = NAME

    def pre_filter(self, state: CycleState, pod: PodInfo) -> Status | None:
        nodes: list[NodeInfo] = state.read(NODES_KEY) or []
        affinity, _ = terms(pod, "podAffinity")
        anti, _ = terms(pod, "podAntiAffinity")
        s = _PreFilter(affinity, anti, Counter(), Counter(), Counter())
        for ni, other in _placed(nodes):
            labels = ni.labels
            if affinity and all(t.matches(other) for t in affinity):
                for t in affinity:
                    if t.topology_key in labels:
                        s.affinity_counts[(t.topology_key, labels[t.topology_key])] += 1
            for t in anti:
                if t.topology_key in labels and t.matches(other):
                    s.anti_counts[(t.topology_key, labels[t.topology_key])] += 1
            if _has_affinity(other):
                for t in terms(other, "podAntiAffinity")[0]:
                    if t.topology_key in labels and t.matches(pod):
                        s.existing_anti[(t.topology_key, labels[t.topology_key])] += 1
        if not (affinity or anti or s.existing_anti):
            return _SKIP
        state.write(_STATE, s)
        return None

    def filter(self, state: CycleState, pod: PodInfo, node_info: NodeInfo) -> Status | None:
        s: _PreFilter = state.read(_STATE)
        labels = node_info.labels
        if s.affinity:        # kube's order: affinity, anti-affinity, then the placed pods'
            if not all(t.topology_key in labels for t in s.affinity):
                return _AFFINITY_FAIL
            if not all(s.affinity_counts[(t.topology_key, labels[t.topology_key])] > 0 for t in s.affinity):
                first_of_group = not s.affinity_counts and all(t.matches(pod) for t in s.affinity)
                if not first_of_group:
                    return _AFFINITY_FAIL
        if any(t.topology_key in labels and s.anti_counts[(t.topology_key, labels[t.topology_key])] > 0
               for t in s.anti):
            return unschedulable(NAME, ERR_ANTI_AFFINITY)
        if any(labels.get(k) == v for (k, v) in s.existing_anti):
            return unschedulable(NAME, ERR_EXISTING_ANTI_AFFINITY)
        return None

    # ---------------------------------------------------------------- scoring
    def pre_score(self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo]) -> Status | None:
        everything: list[NodeInfo] = state.read(NODES_KEY) or nodes
        _, preferred = terms(pod, "podAffinity")
        _, preferred_anti = terms(pod, "podAntiAffinity")
        weights: Counter[Pair] = Counter()
        for ni, other in _placed(everything):
            labels = ni.labels
            for t, sign in [*((t, 1) for t in preferred), *((t, -1) for t in preferred_anti)]:
                if t.topology_key in labels and t.matches(other):
                    weights[(t.topology_key, labels[t.topology_key])] += sign * t.weight
            if _has_affinity(other):
                _, theirs = terms(other, "podAffinity")
                _, theirs_anti = terms(other, "podAntiAffinity")
                for t, sign in [*((t, 1) for t in theirs), *((t, -1) for t in theirs_anti)]:
                    if t.topology_key in labels and t.matches(pod):
                        weights[(t.topology_key, labels[t.topology_key])] += sign * t.weight
        if not any(weights.values()):
            return _SKIP
        state.write(_SCORE_STATE, weights)
        return None

    def score(self, state: CycleState, pod: PodInfo, node_info: NodeInfo) -> int:
        weights: Counter[Pair] = state.read(_SCORE_STATE)
        return sum(w for (k, v), w in weights.items() if node_info.labels.get(k) == v)

    def normalize_score(self, state: CycleState, pod: PodInfo, scores: list[int]) -> None:
        low, high = min(scores, default=0), max(scores, default=0)
        for i, s in enumerate(scores):
            scores[i] = MAX_NODE_SCORE * (s - low) // (high - low) if high > low else 0


def new(args: Any = None) -> InterPodAffinity:
    return InterPodAffinity()
