"""The Deployment controller's rollout math, as pure functions (no I/O).

Owns, after Kubernetes' pkg/controller/deployment (rolling.go, recreate.go, sync.go):
- `new_rs_new_replicas`: how far the new ReplicaSet may grow under maxSurge;
- `reconcile_new_rs` / `reconcile_old_rss`: one step of a RollingUpdate (scale the new
  ReplicaSet up, or scale old ones down: unhealthy replicas first, then as far as
  maxUnavailable allows);
- `recreate_scale_down` / `old_pods_running`: the Recreate strategy's gates;
- `is_scaling_event` / `proportional_scale`: spreading a change of spec.replicas in the
  middle of a rollout over every active ReplicaSet in proportion to its size.

Every function answers `Scale` actions (which ReplicaSet to which size); the controller
applies them. Two guards beyond Kubernetes keep the bounds true for actual pods, not
just for specs, while ReplicaSet statuses lag: a ReplicaSet is credited with at most
spec.replicas available pods (`deployment_util.available`), so a rollout never dips
below spec.replicas - maxUnavailable available pods; and surge room counts
max(spec, status.replicas) per ReplicaSet (`deployment_util.pods_upper_bound`), so new
pods are not created before the old ones scaled away are actually gone.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from api.models import Deployment, Pod, ReplicaSet
from controllers import deployment_util as util


@dataclass(frozen=True)
class Scale:
    """Set `rs` to `replicas` (recorded as "Scaled up/down replica set ...")."""

    rs: ReplicaSet
    replicas: int

    @property
    def direction(self) -> str:
        return "up" if self.replicas > util.spec_replicas(self.rs) else "down"


# ---------------------------------------------------------------- rolling update
def new_rs_new_replicas(d: Deployment, all_rss: Sequence[ReplicaSet | None],
                        new_rs: ReplicaSet | None) -> int:
    """The size the new ReplicaSet should have now (NewRSNewReplicas)."""
    desired = util.spec_replicas(d)
    current_new = util.spec_replicas(new_rs) if new_rs is not None else 0
    if not util.is_rolling(d):
        return desired
    current_total = util.pods_upper_bound(all_rss)
    max_total = desired + util.max_surge(d)
    if current_total >= max_total:
        return current_new
    scale_up = min(max_total - current_total, desired - current_new)
    return current_new + max(scale_up, 0)


def reconcile_new_rs(d: Deployment, all_rss: Sequence[ReplicaSet | None],
                     new_rs: ReplicaSet) -> Scale | None:
    """Scale the new ReplicaSet toward spec.replicas within maxSurge, or down to it."""
    desired = util.spec_replicas(d)
    current = util.spec_replicas(new_rs)
    if current == desired:
        return None
    if current > desired:
        return Scale(new_rs, desired)
    target = new_rs_new_replicas(d, all_rss, new_rs)
    return Scale(new_rs, target) if target != current else None


def reconcile_old_rss(d: Deployment, all_rss: Sequence[ReplicaSet | None],
                      old_rss: Sequence[ReplicaSet], new_rs: ReplicaSet | None) -> list[Scale]:
    """Scale old ReplicaSets down as far as maxUnavailable allows (one sync's worth).

    First unhealthy replicas (spec - available) of the oldest ReplicaSets, bounded by
    `all - minAvailable - newUnavailable` (so a broken new template cannot eat the
    budget), then available ones down to minAvailable, oldest ReplicaSet first.
    """
    if util.sum_spec(old_rss) == 0:
        return []
    min_available = util.spec_replicas(d) - util.max_unavailable(d)
    new_unavailable = (util.spec_replicas(new_rs) - util.available(new_rs)
                       if new_rs is not None else 0)
    max_scaled_down = util.sum_spec(all_rss) - min_available - new_unavailable
    if max_scaled_down <= 0:
        return []
    targets: dict[str | None, int] = {}
    ordered = util.by_creation(old_rss)
    # 1. unhealthy replicas first (cleanupUnhealthyReplicas)
    cleaned = 0
    for rs in ordered:
        if cleaned >= max_scaled_down:
            break
        size = util.spec_replicas(rs)
        unhealthy = size - util.available(rs)
        if size == 0 or unhealthy <= 0:
            continue
        down = min(max_scaled_down - cleaned, unhealthy)
        targets[rs.metadata.uid] = size - down
        cleaned += down
    # 2. then available ones, keeping minAvailable (scaleDownOldReplicaSetsForRollingUpdate)
    available_now = util.sum_available(all_rss)
    budget = available_now - min_available
    scaled = 0
    for rs in ordered:
        if scaled >= budget:
            break
        size = targets.get(rs.metadata.uid, util.spec_replicas(rs))
        if size == 0:
            continue
        down = min(size, budget - scaled)
        targets[rs.metadata.uid] = size - down
        scaled += down
    return [Scale(rs, targets[rs.metadata.uid]) for rs in ordered
            if rs.metadata.uid in targets and targets[rs.metadata.uid] != util.spec_replicas(rs)]


# ---------------------------------------------------------------- recreate
def recreate_scale_down(old_rss: Sequence[ReplicaSet]) -> list[Scale]:
    """Every active old ReplicaSet to 0."""
    return [Scale(rs, 0) for rs in util.active(old_rss)]


def old_pods_running(new_rs: ReplicaSet | None, old_rss: Sequence[ReplicaSet],
                     pods_by_rs: Mapping[str, Sequence[Pod]]) -> bool:
    """Whether any old pod may still run (Recreate waits for them, terminating ones too)."""
    if util.sum_status(old_rss, "replicas") > 0:
        return True
    new_uid = new_rs.metadata.uid if new_rs is not None else None
    for uid, pods in pods_by_rs.items():
        if uid == new_uid:
            continue
        for pod in pods:
            phase = pod.status.phase if pod.status else None
            if phase not in ("Failed", "Succeeded"):
                return True
    return False


# ---------------------------------------------------------------- scaling
def is_scaling_event(d: Deployment, rss: Sequence[ReplicaSet | None]) -> bool:
    """spec.replicas differs from the desired-replicas annotation of an active RS."""
    for rs in util.active(rss):
        desired = util.annotated_int(rs, util.DESIRED_REPLICAS)
        if desired is not None and desired != util.spec_replicas(d):
            return True
    return False


def proportional_scale(d: Deployment, new_rs: ReplicaSet | None,
                       old_rss: Sequence[ReplicaSet]) -> list[Scale]:
    """The `scale` step of a sync (Kubernetes' DeploymentController.scale).

    One active (or, with none active, the newest) ReplicaSet takes spec.replicas; a
    saturated new ReplicaSet scales every old one to 0; otherwise (RollingUpdate) the
    difference between spec.replicas + maxSurge and the current total is spread in
    proportion to each ReplicaSet's size, leftovers to the largest. Also answers
    same-size `Scale`s for ReplicaSets whose replica annotations are stale.
    """
    desired = util.spec_replicas(d)
    only = _active_or_latest(new_rs, old_rss)
    if only is not None:
        return [Scale(only, desired)]
    if new_rs is not None and _saturated(d, new_rs):
        return [Scale(rs, 0) for rs in util.active(old_rss)]
    if not util.is_rolling(d):
        return []
    rss = util.active([*old_rss, new_rs])
    allowed = desired + util.max_surge(d) if desired > 0 else 0
    to_add = allowed - util.sum_spec(rss)
    if to_add != 0:       # larger first; ties newer first when adding, older when removing
        rss = util.by_creation(rss)
        if to_add > 0:
            rss.reverse()
        rss.sort(key=lambda rs: -util.spec_replicas(rs))
    sizes: dict[str | None, int] = {}
    added = 0
    for rs in rss:
        proportion = _proportion(rs, d, to_add, added) if to_add else 0
        sizes[rs.metadata.uid] = util.spec_replicas(rs) + proportion
        added += proportion
    if rss and to_add:
        first = rss[0].metadata.uid
        sizes[first] = max(sizes[first] + (to_add - added), 0)
    return [Scale(rs, sizes[rs.metadata.uid]) for rs in rss]


def _active_or_latest(new_rs: ReplicaSet | None,
                      old_rss: Sequence[ReplicaSet]) -> ReplicaSet | None:
    """FindActiveOrLatest: the one active RS; with none, the new or the newest old one."""
    if new_rs is None and not old_rss:
        return None
    everything = [*old_rss, *([new_rs] if new_rs is not None else [])]
    act = util.active(everything)
    if len(act) == 1:
        return act[0]
    if not act:
        if new_rs is not None:
            return new_rs
        return util.by_creation(old_rss)[-1]
    return None


def _saturated(d: Deployment, rs: ReplicaSet) -> bool:
    """IsSaturated: the new RS has all replicas, annotated so, and all available."""
    desired = util.annotated_int(rs, util.DESIRED_REPLICAS)
    return (util.spec_replicas(rs) == util.spec_replicas(d) and
            desired == util.spec_replicas(d) and
            (rs.status.available_replicas if rs.status else 0) == util.spec_replicas(d))


def _proportion(rs: ReplicaSet, d: Deployment, to_add: int, added: int) -> int:
    """getProportion: this RS's share of `to_add`, bounded by what is left."""
    if util.spec_replicas(rs) == 0 or to_add == added:
        return 0
    fraction = _fraction(rs, d)
    allowed = to_add - added
    return min(fraction, allowed) if to_add > 0 else max(fraction, allowed)


def _fraction(rs: ReplicaSet, d: Deployment) -> int:
    """getReplicaSetFraction: rs size scaled from max-replicas to the new maximum."""
    size = util.spec_replicas(rs)
    if util.spec_replicas(d) == 0:
        return -size
    deployment_max = util.spec_replicas(d) + util.max_surge(d)
    annotated = util.annotated_int(rs, util.MAX_REPLICAS)
    if annotated is None:
        annotated = (d.status.replicas if d.status else 0) or 0
    if annotated == 0:
        return 0
    return _round_half_away(size * deployment_max / annotated) - size


def _round_half_away(x: float) -> int:
    """Go's math.Round: halves away from zero."""
    return int(x + 0.5) if x >= 0 else -int(-x + 0.5)
