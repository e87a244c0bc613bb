"""Deployment bookkeeping shared by the rollout math, as Kubernetes' deployment/util.

Owns the annotation names and their rules (revision, revision-history, desired-replicas,
max-replicas, which Deployment annotations are copied to its ReplicaSets), the
pod-template-hash label, finding the new and old ReplicaSets of a Deployment, the
maxSurge/maxUnavailable fenceposts, replica counting, building the new ReplicaSet, and
choosing old ReplicaSets for revisionHistoryLimit cleanup.

Pure functions; cached objects are read, never mutated (changed copies are returned).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from api.meta import compute_hash, new_controller_ref
from api.models import Deployment, ReplicaSet
from api.models.apps import ReplicaSetSpec
from api.models.base import LabelSelector, ObjectMeta
from api.models.core import PodTemplateSpec
from api.selectors import Selector, selector_from_model

HASH_LABEL = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
ROLLBACK_TO = "deprecated.deployment.rollback.to"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
MAX_REVISION_HISTORY_CHARS = 2000
_NOT_COPIED = {LAST_APPLIED, REVISION, REVISION_HISTORY, DESIRED_REPLICAS, MAX_REPLICAS,
               ROLLBACK_TO}


# ---------------------------------------------------------------- small readers
def spec_replicas(obj: Deployment | ReplicaSet | None) -> int:
    if obj is None or obj.spec is None or obj.spec.replicas is None:
        return 0 if obj is None else 1
    return obj.spec.replicas


def annotations_of(obj: Any) -> dict[str, str]:
    return dict(obj.metadata.annotations or {})


def revision(obj: Any) -> int:
    """The revision annotation as an int (0 when missing or not a number)."""
    try:
        return int(annotations_of(obj).get(REVISION, "0"))
    except ValueError:
        return 0


def max_revision(rss: Iterable[ReplicaSet | None]) -> int:
    return max((revision(rs) for rs in rss if rs is not None), default=0)


def deployment_selector(d: Deployment) -> Selector:
    """The Deployment's selector; a missing or invalid one selects nothing."""
    try:
        return selector_from_model(d.spec.selector if d.spec else None)
    except ValueError:
        return selector_from_model(None)


def is_rolling(d: Deployment) -> bool:
    strategy = d.spec.strategy if d.spec else None
    return strategy is None or strategy.type in (None, "RollingUpdate")


def min_ready_seconds(obj: Any) -> int:
    return (obj.spec.min_ready_seconds if obj.spec else None) or 0


# ---------------------------------------------------------------- counting
def active(rss: Iterable[ReplicaSet | None]) -> list[ReplicaSet]:
    """ReplicaSets with spec.replicas > 0 (controller.FilterActiveReplicaSets)."""
    return [rs for rs in rss if rs is not None and spec_replicas(rs) > 0]


def sum_spec(rss: Iterable[ReplicaSet | None]) -> int:
    return sum(spec_replicas(rs) for rs in rss if rs is not None)


def pods_upper_bound(rss: Iterable[ReplicaSet | None]) -> int:
    """Pods the ReplicaSets may have right now: max(spec, status.replicas) each, so a
    ReplicaSet just scaled down counts its pods until its controller reports them gone."""
    return sum(max(spec_replicas(rs), (rs.status.replicas if rs.status else 0) or 0)
               for rs in rss if rs is not None)


def sum_status(rss: Iterable[ReplicaSet | None], field: str) -> int:
    """Sum of a status count (`replicas`, `ready_replicas`, `available_replicas`)."""
    return sum(getattr(rs.status, field) or 0 for rs in rss
               if rs is not None and rs.status is not None)


def available(rs: ReplicaSet | None) -> int:
    """Available pods we may count on: never more than spec.replicas, so a ReplicaSet
    just scaled down is not credited with pods its controller is about to delete."""
    if rs is None or rs.status is None:
        return 0
    return min(rs.status.available_replicas or 0, spec_replicas(rs))


def sum_available(rss: Iterable[ReplicaSet | None]) -> int:
    return sum(available(rs) for rs in rss)


# ---------------------------------------------------------------- fenceposts
def scaled_value(value: int | str | None, total: int, round_up: bool) -> int:
    """An int, or a percentage of `total` rounded up or down (intstr's GetScaledValue)."""
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    text = value.strip()
    if text.endswith("%"):
        pct = int(text[:-1])
        return -(-pct * total // 100) if round_up else pct * total // 100
    return int(text)


def resolve_fenceposts(max_surge: int | str | None, max_unavailable: int | str | None,
                       desired: int) -> tuple[int, int]:
    """(surge, unavailable): surge rounds up, unavailable down; both 0 -> unavailable 1."""
    surge = scaled_value(max_surge, desired, True)
    unavailable = scaled_value(max_unavailable, desired, False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def _rolling_params(d: Deployment) -> tuple[int | str | None, int | str | None]:
    strategy = d.spec.strategy if d.spec else None
    ru = strategy.rolling_update if strategy is not None else None
    if ru is None:
        return "25%", "25%"
    return ru.max_surge, ru.max_unavailable


def max_surge(d: Deployment) -> int:
    if not is_rolling(d):
        return 0
    surge, _ = resolve_fenceposts(*_rolling_params(d), spec_replicas(d))
    return surge


def max_unavailable(d: Deployment) -> int:
    if not is_rolling(d) or spec_replicas(d) == 0:
        return 0
    _, unavailable = resolve_fenceposts(*_rolling_params(d), spec_replicas(d))
    return min(unavailable, spec_replicas(d))


# ---------------------------------------------------------------- templates and RSs
def _template_dict(template: PodTemplateSpec | None, drop_hash: bool) -> dict[str, Any]:
    data = template.to_dict() if template is not None else {}
    if drop_hash:
        labels = dict((data.get("metadata") or {}).get("labels") or {})
        labels.pop(HASH_LABEL, None)
        data.setdefault("metadata", {})["labels"] = labels
    meta = data.get("metadata") or {}
    if not meta.get("labels"):
        meta.pop("labels", None)
    return data


def equal_ignore_hash(t1: PodTemplateSpec | None, t2: PodTemplateSpec | None) -> bool:
    """Templates equal apart from the pod-template-hash label (EqualIgnoreHash)."""
    return _template_dict(t1, True) == _template_dict(t2, True)


def by_creation(rss: Iterable[ReplicaSet]) -> list[ReplicaSet]:
    """Oldest first, ties by name (ReplicaSetsByCreationTimestamp)."""
    return sorted(rss, key=lambda rs: (rs.metadata.creation_timestamp or "", rs.name))


def find_new_rs(d: Deployment, rss: Sequence[ReplicaSet]) -> ReplicaSet | None:
    """The oldest ReplicaSet whose template equals the Deployment's (ignoring the hash)."""
    template = d.spec.template if d.spec else None
    for rs in by_creation(rss):
        if equal_ignore_hash(rs.spec.template if rs.spec else None, template):
            return rs
    return None


def find_old_rss(rss: Sequence[ReplicaSet], new_rs: ReplicaSet | None) -> list[ReplicaSet]:
    uid = new_rs.metadata.uid if new_rs is not None else None
    return [rs for rs in rss if rs.metadata.uid != uid]


def pod_template_hash(d: Deployment) -> str:
    collisions = d.status.collision_count if d.status else None
    return compute_hash(d.spec.template if d.spec else PodTemplateSpec(), collisions)


def new_replica_set(d: Deployment, replicas: int, new_revision: int) -> ReplicaSet:
    """The ReplicaSet to create for the Deployment's current template: named
    `<deploy>-<hash>`, hash label on selector, template and itself, controller ref,
    copied annotations plus revision and replica annotations."""
    assert d.spec is not None
    h = pod_template_hash(d)
    template = d.spec.template.model_copy(deep=True)
    labels = dict(template.metadata.labels or {})
    labels[HASH_LABEL] = h
    template.metadata.labels = labels
    selector = (d.spec.selector or LabelSelector()).model_copy(deep=True)
    selector.match_labels = {**(selector.match_labels or {}), HASH_LABEL: h}
    rs = ReplicaSet(
        metadata=ObjectMeta(name=f"{d.name}-{h}", namespace=d.namespace, labels=dict(labels),
                            owner_references=[new_controller_ref(d)]),
        spec=ReplicaSetSpec(replicas=replicas, min_ready_seconds=d.spec.min_ready_seconds,
                            selector=selector, template=template))
    ann, _ = new_rs_annotations(d, rs, new_revision, exists=False)
    rs.metadata.annotations = ann
    return rs


def new_rs_annotations(d: Deployment, rs: ReplicaSet, new_revision: int,
                       exists: bool) -> tuple[dict[str, str], bool]:
    """(annotations, changed) for the new ReplicaSet (SetNewReplicaSetAnnotations):
    copied Deployment annotations; the revision raised to `new_revision` when lower,
    keeping the old one in revision-history (a rollback); replica annotations when the
    ReplicaSet is about to be created."""
    ann = annotations_of(rs)
    changed = False
    for k, v in annotations_of(d).items():
        if k not in _NOT_COPIED and ann.get(k) != v:
            ann[k] = v
            changed = True
    old = ann.get(REVISION, "")
    try:
        old_int = int(old) if old else 0
    except ValueError:
        return ann, changed
    if old_int < new_revision:
        ann[REVISION] = str(new_revision)
        changed = True
        if old:
            history = [r for r in ann.get(REVISION_HISTORY, "").split(",") if r] + [old]
            while len(",".join(history)) > MAX_REVISION_HISTORY_CHARS and len(history) > 1:
                history.pop(0)
            ann[REVISION_HISTORY] = ",".join(history)
    if not exists:
        ann, replica_changed = replicas_annotations(ann, spec_replicas(d),
                                                    spec_replicas(d) + max_surge(d))
        changed = changed or replica_changed
    return ann, changed


def replicas_annotations(ann: dict[str, str], desired: int,
                         maximum: int) -> tuple[dict[str, str], bool]:
    """`ann` with desired-replicas and max-replicas set; whether they changed."""
    out = dict(ann)
    out[DESIRED_REPLICAS] = str(desired)
    out[MAX_REPLICAS] = str(maximum)
    return out, out != ann


def annotated_int(rs: ReplicaSet, key: str) -> int | None:
    try:
        return int(annotations_of(rs)[key])
    except (KeyError, ValueError):
        return None


def scaled_copy(rs: ReplicaSet, replicas: int, d: Deployment) -> ReplicaSet | None:
    """A copy of `rs` at `replicas` with current replica annotations; None if unchanged."""
    ann, ann_changed = replicas_annotations(annotations_of(rs), spec_replicas(d),
                                            spec_replicas(d) + max_surge(d))
    if spec_replicas(rs) == replicas and not ann_changed:
        return None
    out = rs.model_copy(deep=True)
    assert out.spec is not None
    out.spec.replicas = replicas
    out.metadata.annotations = ann
    return out


def rss_to_clean_up(d: Deployment, old_rss: Sequence[ReplicaSet]) -> list[ReplicaSet]:
    """Old ReplicaSets beyond revisionHistoryLimit, lowest revision first, skipping any
    with pods, replicas, an unobserved generation or a deletion in progress."""
    limit = d.spec.revision_history_limit if d.spec else None
    if limit is None:
        return []
    alive = [rs for rs in old_rss if not rs.metadata.deletion_timestamp]
    diff = len(alive) - limit
    if diff <= 0:
        return []
    ordered = sorted(alive, key=lambda rs: (revision(rs), rs.metadata.creation_timestamp or "",
                                            rs.name))
    out = []
    for rs in ordered[:diff]:
        status = rs.status
        if (status.replicas if status else 0) or spec_replicas(rs) or \
                (rs.metadata.generation or 0) > ((status.observed_generation if status else 0)
                                                 or 0):
            continue
        out.append(rs)
    return out
