"""The ReplicaSet controller's decisions, as pure functions of objects (no I/O).

Owns, after Kubernetes' pkg/controller/replicaset and controller_utils:
- `claim_pods`: which pods a ReplicaSet owns, should adopt (orphans its selector matches)
  and should release (owned pods its selector no longer matches), via controllers.refmanager;
- `manage_replicas`: how many pods to create, which to delete (`pods_to_delete`, in
  Kubernetes' order of preference), capped at `BURST_REPLICAS` per sync;
- `slow_start_batches`: creation batch sizes 1, 2, 4, ...;
- `pod_from_template`: the pod a ReplicaSet creates (generateName, labels, controller ref);
- `calculate_status`: replicas, fullyLabeledReplicas, readyReplicas, availableReplicas,
  observedGeneration and the ReplicaFailure condition.

Inputs are typed models from the informer caches and are never mutated; outputs are new
objects or plain values.
"""
from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from api.meta import (get_condition, is_pod_available, is_pod_ready, new_controller_ref,
                      now_rfc3339, parse_rfc3339)
from api.models import Pod, ReplicaSet
from api.models.apps import ReplicaSetCondition, ReplicaSetStatus
from api.models.base import ObjectMeta
from api.selectors import Selector, selector_from_model
from controllers.refmanager import Claim, claim_objects

BURST_REPLICAS = 500
POD_DELETION_COST = "controller.kubernetes.io/pod-deletion-cost"
REPLICA_FAILURE = "ReplicaFailure"
_PHASE_ORDINAL = {"Pending": 0, "Unknown": 1, "Running": 2}


# ---------------------------------------------------------------- pod predicates
def is_active(pod: Pod) -> bool:
    """Not terminal and not being deleted (controller.FilterActivePods)."""
    phase = pod.status.phase if pod.status else None
    return phase not in ("Succeeded", "Failed") and not pod.metadata.deletion_timestamp


def rs_selector(rs: ReplicaSet) -> Selector:
    """The ReplicaSet's label selector; a missing or invalid one selects nothing."""
    try:
        return selector_from_model(rs.spec.selector if rs.spec else None)
    except ValueError:
        return selector_from_model(None)


def replicas_of(rs: ReplicaSet) -> int:
    return rs.spec.replicas if rs.spec and rs.spec.replicas is not None else 1


# ---------------------------------------------------------------- claiming
def claim_pods(rs: ReplicaSet, pods: Sequence[Pod]) -> Claim[Pod]:
    """Kubernetes' ClaimPods: owned pods that match stay, owned pods that stopped matching
    are released, matching orphans are adopted (see controllers.refmanager)."""
    return claim_objects(rs, pods, rs_selector(rs))


# ---------------------------------------------------------------- managing replicas
@dataclass
class ReplicaPlan:
    """What one sync should do: create `create` pods, or delete `delete`."""

    create: int = 0
    delete: list[Pod] = field(default_factory=list)


def manage_replicas(rs: ReplicaSet, active: Sequence[Pod],
                    related: Sequence[Pod] | None = None,
                    burst: int = BURST_REPLICAS) -> ReplicaPlan:
    """Compare active owned pods with spec.replicas (at most `burst` actions per sync)."""
    diff = len(active) - replicas_of(rs)
    if diff < 0:
        return ReplicaPlan(create=min(-diff, burst))
    if diff > 0:
        return ReplicaPlan(delete=pods_to_delete(active, min(diff, burst), related))
    return ReplicaPlan()


def slow_start_batches(count: int, initial: int = 1) -> list[int]:
    """Batch sizes for creating `count` pods: 1, 2, 4, ... (the last one what remains)."""
    out: list[int] = []
    size, left = initial, count
    while left > 0:
        batch = min(size, left)
        out.append(batch)
        left -= batch
        size *= 2
    return out


def pods_to_delete(pods: Sequence[Pod], count: int,
                   related: Sequence[Pod] | None = None) -> list[Pod]:
    """The `count` pods to delete first (Kubernetes' getPodsToDelete with ranks).

    Rank = how many related pods (ours, or our siblings') share the pod's node: doubled-up
    pods go first. Order: unscheduled < scheduled; Pending < Unknown < Running; not ready <
    ready; lower pod-deletion-cost first; higher rank first; ready more recently first;
    more restarts first; created more recently first.
    """
    if count <= 0:
        return []
    on_node = Counter(p.spec.node_name for p in (related if related is not None else pods)
                      if p.spec and p.spec.node_name)
    ranked = [(on_node.get((p.spec.node_name if p.spec else None) or "", 0), p) for p in pods]
    ranked.sort(key=functools.cmp_to_key(_compare_for_deletion))
    return [p for _, p in ranked[:count]]


def _compare_for_deletion(a: tuple[int, Pod], b: tuple[int, Pod]) -> int:
    """Negative when `a` should be deleted before `b` (ActivePodsWithRanks.Less)."""
    (rank_a, pa), (rank_b, pb) = a, b
    node_a = (pa.spec.node_name if pa.spec else None) or ""
    node_b = (pb.spec.node_name if pb.spec else None) or ""
    if node_a != node_b and (not node_a or not node_b):
        return -1 if not node_a else 1
    ord_a, ord_b = _phase_ordinal(pa), _phase_ordinal(pb)
    if ord_a != ord_b:
        return -1 if ord_a < ord_b else 1
    ready_a, ready_b = is_pod_ready(pa), is_pod_ready(pb)
    if ready_a != ready_b:
        return -1 if not ready_a else 1
    cost_a, cost_b = _deletion_cost(pa), _deletion_cost(pb)
    if cost_a != cost_b:
        return -1 if cost_a < cost_b else 1
    if rank_a != rank_b:
        return -1 if rank_a > rank_b else 1
    if ready_a and ready_b:
        order = _newer_first(_ready_time(pa), _ready_time(pb))
        if order:
            return order
    restarts_a, restarts_b = _max_restarts(pa), _max_restarts(pb)
    if restarts_a != restarts_b:
        return -1 if restarts_a > restarts_b else 1
    order = _newer_first(_time(pa.metadata.creation_timestamp),
                         _time(pb.metadata.creation_timestamp))
    if order:
        return order
    uid_a, uid_b = pa.metadata.uid or "", pb.metadata.uid or ""
    return -1 if uid_a < uid_b else (1 if uid_a > uid_b else 0)


def _newer_first(ta: datetime | None, tb: datetime | None) -> int:
    """Kubernetes' afterOrZero: a missing time first, then the later time first."""
    if ta == tb:
        return 0
    if ta is None or tb is None:
        return -1 if ta is None else 1
    return -1 if ta > tb else 1


def _phase_ordinal(pod: Pod) -> int:
    return _PHASE_ORDINAL.get((pod.status.phase if pod.status else None) or "", 0)


def _deletion_cost(pod: Pod) -> int:
    try:
        return int((pod.metadata.annotations or {}).get(POD_DELETION_COST, "0"))
    except ValueError:
        return 0


def _ready_time(pod: Pod) -> datetime | None:
    cond = get_condition(pod.status, "Ready")
    return _time(cond.last_transition_time if cond is not None else None)


def _max_restarts(pod: Pod) -> int:
    statuses = (pod.status.container_statuses if pod.status else None) or []
    return max((s.restart_count for s in statuses), default=0)


def _time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return parse_rfc3339(value)
    except ValueError:
        return None


# ---------------------------------------------------------------- the pods we create
def pod_from_template(rs: ReplicaSet) -> Pod:
    """A new pod for `rs` (controller.GetPodFromTemplate): template labels, annotations
    and finalizers, `generateName: <rs>-`, a controller ref with blockOwnerDeletion."""
    template = rs.spec.template if rs.spec else None
    tmeta = template.metadata if template is not None else ObjectMeta()
    meta = ObjectMeta(
        generate_name=f"{rs.metadata.name}-", namespace=rs.metadata.namespace,
        labels=dict(tmeta.labels or {}) or None,
        annotations=dict(tmeta.annotations or {}) or None,
        finalizers=list(tmeta.finalizers or []) or None,
        owner_references=[new_controller_ref(rs)])
    spec = template.spec.model_copy(deep=True) if template and template.spec else None
    return Pod(metadata=meta, spec=spec)


# ---------------------------------------------------------------- status
def calculate_status(rs: ReplicaSet, pods: Sequence[Pod], manage_error: str | None = None,
                     now: datetime | None = None) -> ReplicaSetStatus:
    """The status `rs` should have given its active owned pods (a new object)."""
    template_labels = (rs.spec.template.metadata.labels
                       if rs.spec and rs.spec.template else None) or {}
    min_ready = (rs.spec.min_ready_seconds if rs.spec else None) or 0
    fully = sum(1 for p in pods if _has_labels(p.metadata.labels or {}, template_labels))
    ready = [p for p in pods if is_pod_ready(p)]
    available = sum(1 for p in ready if is_pod_available(p, min_ready, now))
    old = rs.status or ReplicaSetStatus()
    conditions = [c.model_copy() for c in old.conditions or []]
    failure = get_condition(conditions, REPLICA_FAILURE)
    if manage_error is not None and failure is None:
        diff = len(pods) - replicas_of(rs)
        reason = "FailedCreate" if diff < 0 else "FailedDelete" if diff > 0 else ""
        conditions.append(ReplicaSetCondition(
            type=REPLICA_FAILURE, status="True", reason=reason, message=manage_error,
            last_transition_time=now_rfc3339(now)))
    elif manage_error is None and failure is not None:
        conditions = [c for c in conditions if c.type != REPLICA_FAILURE]
    return ReplicaSetStatus(
        replicas=len(pods), fully_labeled_replicas=fully, ready_replicas=len(ready),
        available_replicas=available, observed_generation=rs.metadata.generation,
        conditions=conditions or None)


def _has_labels(labels: dict[str, str], wanted: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in wanted.items())


def status_changed(rs: ReplicaSet, status: ReplicaSetStatus) -> bool:
    """Whether writing `status` would change anything (counts compared as ints)."""
    old = rs.status or ReplicaSetStatus()
    return _norm(old) != _norm(status)


def _norm(s: ReplicaSetStatus) -> tuple[object, ...]:
    return (s.replicas or 0, s.fully_labeled_replicas or 0, s.ready_replicas or 0,
            s.available_replicas or 0, s.observed_generation,
            [c.to_dict() for c in s.conditions or []])


def min_ready_recheck(rs: ReplicaSet, status: ReplicaSetStatus) -> float | None:
    """Seconds after which to sync again so pods ready for minReadySeconds count as
    available (all ready, not all available yet); None when nothing is pending."""
    min_ready = (rs.spec.min_ready_seconds if rs.spec else None) or 0
    want = replicas_of(rs)
    if min_ready > 0 and (status.ready_replicas or 0) == want and \
            (status.available_replicas or 0) != want:
        return float(min_ready)
    return None
