"""The disruption controller's decisions (Kubernetes' pkg/controller/disruption), pure.

Owns a PodDisruptionBudget's arithmetic over the pods its selector picks:
- expected pods and desired healthy: minAvailable as a number needs that many (expected =
  the pods found); maxUnavailable, or minAvailable as a percentage, are taken against the
  scale of the pods' controllers (`expected_scale`: a Deployment's replicas for its
  ReplicaSets' pods, a ReplicaSet's, StatefulSet's or ReplicationController's), rounded up;
  a pod without such a controller makes that impossible (`SyncFailed`);
- current healthy: ready pods not being deleted and not recently evicted (`disruptedPods`
  entries younger than 2 minutes, kept only while their pod is alive);
- disruptionsAllowed = current - desired - in-flight evictions (never below 0), and the
  `DisruptionAllowed` condition (SufficientPods / InsufficientPods / SyncFailed).
In policy/v1 an empty selector picks every pod of the namespace; none picks nothing.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from api.meta import controller_ref, is_pod_ready, now_rfc3339, parse_rfc3339
from api.models import Pod, PodDisruptionBudget
from api.models.policy import DISRUPTION_ALLOWED, PodDisruptionBudgetCondition, PodDisruptionBudgetStatus
from api.selectors import Selector, selector_from_model

DELETION_TIMEOUT = timedelta(minutes=2)

#: (kind, namespace, name) of a controller -> (its scale, its own controller ref's (kind, name) or None)
ScaleLookup = Callable[[str, str, str], "tuple[int, tuple[str, str] | None] | None"]


class ScaleError(Exception):
    """A pod's controller cannot be found or has no scale."""


def pdb_selector(pdb: PodDisruptionBudget) -> Selector | None:
    """The pods the budget covers: None when it has no selector (it covers none)."""
    sel = pdb.spec.selector if pdb.spec else None
    if sel is None:
        return None
    return selector_from_model(sel)


def covers(pdb: PodDisruptionBudget, pod: Pod) -> bool:
    sel = pdb_selector(pdb)
    return sel is not None and pod.metadata.namespace == pdb.metadata.namespace and \
        sel.matches(pod.metadata.labels or {})


def scaled(value: int | str, total: int) -> int:
    """intstr's GetScaledValueFromIntOrPercent, rounding up."""
    if isinstance(value, int):
        return value
    return math.ceil(int(value.rstrip("%")) * total / 100)


def expected_scale(pods: Sequence[Pod], lookup: ScaleLookup) -> int:
    """getExpectedScale: the sum of the scales of the pods' (top) controllers."""
    seen: dict[tuple[str, str], int] = {}
    for pod in pods:
        ref = controller_ref(pod)
        if ref is None:
            raise ScaleError(f"found no controller ref for pod {pod.name!r}")
        kind, name = ref.kind, ref.name
        found = lookup(kind, pod.metadata.namespace or "", name)
        if found is None:
            raise ScaleError(f"found no controllers for pod {pod.name!r}")
        scale, parent = found
        if kind == "ReplicaSet" and parent is not None and parent[0] == "Deployment":
            top = lookup("Deployment", pod.metadata.namespace or "", parent[1])
            if top is None:
                raise ScaleError(f"found no controllers for pod {pod.name!r}")
            kind, name, scale = "Deployment", parent[1], top[0]
        seen[(kind, name)] = scale
    return sum(seen.values())


def live_disruptions(pdb: PodDisruptionBudget, pods: Mapping[str, Pod],
                     now: datetime) -> tuple[dict[str, str], datetime | None]:
    """buildDisruptedPodMap: entries still in flight, and when the next one expires."""
    out: dict[str, str] = {}
    recheck: datetime | None = None
    for name, stamp in ((pdb.status.disrupted_pods if pdb.status else None) or {}).items():
        pod = pods.get(name)
        if pod is None or pod.metadata.deletion_timestamp:
            continue
        try:
            expires = parse_rfc3339(stamp) + DELETION_TIMEOUT
        except ValueError:
            continue
        if expires < now:
            continue
        out[name] = stamp
        recheck = expires if recheck is None or expires < recheck else recheck
    return out, recheck


@dataclass
class Budget:
    status: PodDisruptionBudgetStatus
    recheck: datetime | None = None


def calculate(pdb: PodDisruptionBudget, pods: Sequence[Pod], lookup: ScaleLookup,
              now: datetime) -> Budget:
    """The budget's status, or a failed-sync status when its numbers cannot be known."""
    spec = pdb.spec
    assert spec is not None
    try:
        if spec.max_unavailable is not None:
            expected = expected_scale(pods, lookup)
            desired = max(0, expected - scaled(spec.max_unavailable, expected))
        elif isinstance(spec.min_available, int):
            expected, desired = len(pods), spec.min_available
        elif isinstance(spec.min_available, str):
            expected = expected_scale(pods, lookup)
            desired = scaled(spec.min_available, expected)
        else:
            expected, desired = len(pods), 0
    except (ScaleError, ValueError) as e:
        return Budget(failed_status(pdb, str(e), now))
    by_name = {p.name: p for p in pods}
    disrupted, recheck = live_disruptions(pdb, by_name, now)
    healthy = sum(1 for p in pods if not p.metadata.deletion_timestamp and p.name not in disrupted
                  and is_pod_ready(p))
    allowed = max(0, healthy - desired - len(disrupted))
    status = PodDisruptionBudgetStatus(
        observed_generation=pdb.metadata.generation, disrupted_pods=disrupted or None,
        disruptions_allowed=allowed, current_healthy=healthy, desired_healthy=desired,
        expected_pods=expected)
    status.conditions = _conditions(pdb, "True" if allowed > 0 else "False",
                                    "SufficientPods" if allowed > 0 else "InsufficientPods", "", now)
    return Budget(status, recheck)


def failed_status(pdb: PodDisruptionBudget, message: str, now: datetime) -> PodDisruptionBudgetStatus:
    """failSafe: nothing may be disrupted while the budget cannot be computed."""
    old = pdb.status or PodDisruptionBudgetStatus()
    status = old.model_copy(deep=True)
    status.disruptions_allowed = 0
    status.observed_generation = pdb.metadata.generation
    status.conditions = _conditions(pdb, "False", "SyncFailed", message, now)
    return status


def _conditions(pdb: PodDisruptionBudget, status: str, reason: str, message: str,
                now: datetime) -> list[PodDisruptionBudgetCondition]:
    """meta.SetStatusCondition for DisruptionAllowed: the transition time moves only when
    the status does."""
    old = next((c for c in (pdb.status.conditions if pdb.status else None) or []
                if c.type == DISRUPTION_ALLOWED), None)
    since = old.last_transition_time if old is not None and old.status == status else now_rfc3339(now)
    others = [c for c in (pdb.status.conditions if pdb.status else None) or [] if c.type != DISRUPTION_ALLOWED]
    return others + [PodDisruptionBudgetCondition(
        type=DISRUPTION_ALLOWED, status=status, reason=reason, message=message,
        observed_generation=pdb.metadata.generation, last_transition_time=since)]


def status_changed(pdb: PodDisruptionBudget, status: PodDisruptionBudgetStatus) -> bool:
    return (pdb.status or PodDisruptionBudgetStatus()).to_dict() != status.to_dict()
