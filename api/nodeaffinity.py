"""Does a pod (or a volume) fit a node? The node-side predicates every component shares.

Owns, on typed models, Kubernetes' `nodeaffinity.GetRequiredNodeAffinity(pod).Match(node)`
(nodeSelector labels all equal, and the required node affinity: terms ORed, requirements
in a term ANDed, a term with no requirements matches nothing, matchFields knowing
`metadata.name`), the same match for a PersistentVolume's `nodeAffinity.required`, and
`FindMatchingUntoleratedTaint`. Pure; the scheduler has its own fast copies of these for
its hot loop.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from api.models.core import Node, Taint
from api.models.pod import Toleration
from api.models.pod import NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, PodSpec


def requirement_matches(r: NodeSelectorRequirement, labels: Mapping[str, str]) -> bool:
    op, values, has = r.operator, r.values or [], r.key in labels
    if op == "In":
        return has and labels[r.key] in values
    if op == "NotIn":
        return not has or labels[r.key] not in values
    if op == "Exists":
        return has
    if op == "DoesNotExist":
        return not has
    if op in ("Gt", "Lt") and has and len(values) == 1:
        try:
            have, want = int(labels[r.key]), int(values[0])
        except ValueError:
            return False
        return have > want if op == "Gt" else have < want
    return False


def term_matches(term: NodeSelectorTerm, labels: Mapping[str, str], node_name: str) -> bool:
    exprs, fields = term.match_expressions or [], term.match_fields or []
    if not exprs and not fields:
        return False
    if not all(requirement_matches(r, labels) for r in exprs):
        return False
    return all(r.key == "metadata.name" and requirement_matches(r, {"metadata.name": node_name})
               for r in fields)


def node_selector_matches(selector: NodeSelector | None, node: Node) -> bool:
    """A NodeSelector (required node affinity, a PV's node affinity) against a node; None
    matches every node."""
    return selector_matches_labels(selector, node.name, node.metadata.labels or {})


def selector_matches_labels(selector: NodeSelector | None, node_name: str,
                            labels: Mapping[str, str]) -> bool:
    """The same, given a node's name and labels."""
    if selector is None:
        return True
    return any(term_matches(t, labels, node_name) for t in selector.node_selector_terms)


def pod_fits_node(spec: PodSpec | None, node: Node) -> bool:
    """nodeSelector and required node affinity of a pod spec against a node."""
    if spec is None:
        return True
    labels = node.metadata.labels or {}
    if any(labels.get(k) != v for k, v in (spec.node_selector or {}).items()):
        return False
    affinity = spec.affinity.node_affinity if spec.affinity else None
    required = affinity.required_during_scheduling_ignored_during_execution if affinity else None
    return node_selector_matches(required, node)


def tolerates(toleration: Toleration, taint: Taint) -> bool:
    """Kubernetes' Toleration.ToleratesTaint."""
    if toleration.effect and toleration.effect != taint.effect:
        return False
    op = toleration.operator or "Equal"
    if toleration.key:
        if toleration.key != taint.key:
            return False
    elif op != "Exists":
        return False
    if op == "Exists":
        return True
    return (toleration.value or "") == (taint.value or "")


def untolerated_taint(taints: Iterable[Taint], tolerations: Iterable[Toleration],
                      considered: Callable[[Taint], bool]) -> Taint | None:
    """The first considered taint no toleration tolerates (FindMatchingUntoleratedTaint)."""
    tols = list(tolerations)
    for taint in taints:
        if considered(taint) and not any(tolerates(t, taint) for t in tols):
            return taint
    return None
