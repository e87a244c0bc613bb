"""The StatefulSet controller's pure rules (Kubernetes' stateful_set_utils.go).

Owns a StatefulSet pod's identity (name `<set>-<ordinal>`, the pod-name and pod-index
labels, hostname and subdomain for its DNS name), its storage (one claim per
volumeClaimTemplate, `<template>-<set>-<ordinal>`, mounted by name), the pods made at the
current or update revision (ordinals below the partition stay at the current revision),
the claims' owner references that carry `persistentVolumeClaimRetentionPolicy`, the health
predicates, the status counters, and the revision each pod runs. Pure functions of cached
models, which are never mutated.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from api.meta import is_pod_available, is_pod_ready, new_controller_ref
from api.models import PersistentVolumeClaim, Pod, StatefulSet
from api.models.apps_sets import (CONTROLLER_REVISION_HASH, POD_INDEX_LABEL, STATEFULSET_POD_NAME,
                                  StatefulSetStatus)
from api.models.base import ObjectMeta, OwnerReference
from api.models.pod import PodSpec, Volume

_ORDINAL = re.compile(r"^(.*)-([0-9]+)$")
RETAIN, DELETE = "Retain", "Delete"


# ---------------------------------------------------------------- ordinals and names
def parent_and_ordinal(pod: Any) -> tuple[str, int]:
    m = _ORDINAL.match(pod.metadata.name or "")
    if m is None:
        return "", -1
    try:
        return m.group(1), int(m.group(2))
    except ValueError:
        return "", -1


def ordinal(pod: Any) -> int:
    return parent_and_ordinal(pod)[1]


def is_member_of(sts: StatefulSet, pod: Pod) -> bool:
    return parent_and_ordinal(pod)[0] == sts.metadata.name


def replicas_of(sts: StatefulSet) -> int:
    return sts.spec.replicas if sts.spec and sts.spec.replicas is not None else 1


def start_ordinal(sts: StatefulSet) -> int:
    ords = sts.spec.ordinals if sts.spec else None
    return (ords.start if ords is not None else None) or 0


def end_ordinal(sts: StatefulSet) -> int:
    return start_ordinal(sts) + replicas_of(sts) - 1


def in_ordinal_range(pod: Any, sts: StatefulSet) -> bool:
    return start_ordinal(sts) <= ordinal(pod) <= end_ordinal(sts)


def pod_name(sts: StatefulSet, ord_: int) -> str:
    return f"{sts.metadata.name}-{ord_}"


def claim_name(sts: StatefulSet, template_name: str, ord_: int) -> str:
    return f"{template_name}-{sts.metadata.name}-{ord_}"


def pod_revision(pod: Pod) -> str:
    return (pod.metadata.labels or {}).get(CONTROLLER_REVISION_HASH, "")


# ---------------------------------------------------------------- pod state
def is_created(pod: Pod) -> bool:
    return bool(pod.status and pod.status.phase)


def is_terminating(pod: Pod) -> bool:
    return pod.metadata.deletion_timestamp is not None


def phase(pod: Pod) -> str:
    return (pod.status.phase if pod.status else None) or ""


def is_running_and_ready(pod: Pod) -> bool:
    return phase(pod) == "Running" and is_pod_ready(pod)


def is_running_and_available(pod: Pod, min_ready: int, now: datetime | None = None) -> bool:
    return phase(pod) == "Running" and is_pod_available(pod, min_ready, now)


def is_healthy(pod: Pod) -> bool:
    return is_running_and_ready(pod) and not is_terminating(pod)


# ---------------------------------------------------------------- identity and storage
def claim_templates(sts: StatefulSet) -> list[Any]:
    return list((sts.spec.volume_claim_templates if sts.spec else None) or [])


def claims_for(sts: StatefulSet, pod: Pod) -> dict[str, PersistentVolumeClaim]:
    """getPersistentVolumeClaims: template name -> the claim the pod uses, labelled with
    the set's matchLabels."""
    ord_ = ordinal(pod)
    match = dict((sts.spec.selector.match_labels if sts.spec and sts.spec.selector else None) or {})
    out: dict[str, PersistentVolumeClaim] = {}
    for t in claim_templates(sts):
        tname = t.metadata.name or ""
        meta = t.metadata.model_copy(deep=True)
        meta.name = claim_name(sts, tname, ord_)
        meta.namespace = sts.metadata.namespace
        meta.labels = {**(meta.labels or {}), **match}
        out[tname] = PersistentVolumeClaim(metadata=meta, spec=t.spec.model_copy(deep=True) if t.spec else None)
    return out


def identity_matches(sts: StatefulSet, pod: Pod) -> bool:
    parent, ord_ = parent_and_ordinal(pod)
    labels = pod.metadata.labels or {}
    return ord_ >= 0 and parent == sts.metadata.name and pod.metadata.name == pod_name(sts, ord_) \
        and pod.metadata.namespace == sts.metadata.namespace \
        and labels.get(STATEFULSET_POD_NAME) == pod.metadata.name \
        and labels.get(POD_INDEX_LABEL) == str(ord_)


def storage_matches(sts: StatefulSet, pod: Pod) -> bool:
    volumes = {v.name: v for v in (pod.spec.volumes if pod.spec else None) or []}
    for tname, claim in claims_for(sts, pod).items():
        v = volumes.get(tname)
        if v is None or not v.persistent_volume_claim or \
                v.persistent_volume_claim.get("claimName") != claim.metadata.name:
            return False
    return True


def with_identity(sts: StatefulSet, pod: Pod) -> Pod:
    """updateIdentity on a copy: name, namespace, pod-name and pod-index labels."""
    out = pod.model_copy(deep=True)
    ord_ = ordinal(pod)
    out.metadata.name = pod_name(sts, ord_)
    out.metadata.namespace = sts.metadata.namespace
    out.metadata.labels = {**(out.metadata.labels or {}), STATEFULSET_POD_NAME: out.metadata.name,
                           POD_INDEX_LABEL: str(ord_)}
    return out


def _with_storage(sts: StatefulSet, spec: PodSpec, ord_: int) -> None:
    """updateStorage: a volume per claim template, replacing same-named template volumes."""
    names = {t.metadata.name for t in claim_templates(sts)}
    volumes = [Volume(name=t.metadata.name or "", persistent_volume_claim={
        "claimName": claim_name(sts, t.metadata.name or "", ord_)}) for t in claim_templates(sts)]
    spec.volumes = (volumes + [v for v in spec.volumes or [] if v.name not in names]) or None


def new_pod(sts: StatefulSet, ord_: int, revision: str) -> Pod:
    """newStatefulSetPod at `revision`: the template, owned by the set, with its identity,
    hostname and subdomain (its DNS name `<pod>.<serviceName>`) and its claims."""
    assert sts.spec is not None
    template = sts.spec.template
    name = pod_name(sts, ord_)
    labels = {**(template.metadata.labels or {}), STATEFULSET_POD_NAME: name,
              POD_INDEX_LABEL: str(ord_), CONTROLLER_REVISION_HASH: revision}
    spec = template.spec.model_copy(deep=True) if template.spec else PodSpec(containers=[])
    spec.hostname = name
    spec.subdomain = sts.spec.service_name or None
    _with_storage(sts, spec, ord_)
    meta = ObjectMeta(name=name, namespace=sts.metadata.namespace, labels=labels,
                      annotations=dict(template.metadata.annotations or {}) or None,
                      finalizers=list(template.metadata.finalizers or []) or None,
                      owner_references=[new_controller_ref(sts)])
    return Pod(metadata=meta, spec=spec)


def versioned_pod(current: StatefulSet, update: StatefulSet, current_rev: str, update_rev: str,
                  ord_: int) -> Pod:
    """newVersionedStatefulSetPod: ordinals below the partition (or, without a
    rollingUpdate, below currentReplicas) are made at the current revision."""
    assert current.spec is not None
    strategy = current.spec.update_strategy
    if strategy is not None and strategy.type == "RollingUpdate":
        ru = strategy.rolling_update
        if ru is None:
            bound = start_ordinal(current) + ((current.status.current_replicas if current.status else 0) or 0)
        else:
            bound = start_ordinal(current) + (ru.partition or 0)
        if ord_ < bound:
            return new_pod(current, ord_, current_rev)
    return new_pod(update, ord_, update_rev)


# ---------------------------------------------------------------- retention policy
def retention(sts: StatefulSet) -> tuple[str, str]:
    """(whenDeleted, whenScaled), Retain when unset or unknown."""
    policy = sts.spec.persistent_volume_claim_retention_policy if sts.spec else None
    deleted = (policy.when_deleted if policy else None) or RETAIN
    scaled = (policy.when_scaled if policy else None) or RETAIN
    return (deleted if deleted in (RETAIN, DELETE) else RETAIN, scaled if scaled in (RETAIN, DELETE) else RETAIN)


def _ref(owner: Any, api_version: str, kind: str) -> OwnerReference:
    return OwnerReference(api_version=api_version, kind=kind, name=owner.metadata.name or "",
                          uid=owner.metadata.uid or "")


def claim_owner_refs(claim: PersistentVolumeClaim, sts: StatefulSet, pod: Pod) -> list[OwnerReference] | None:
    """updateClaimOwnerRefForSetAndPod: the claim's owner references under the retention
    policy (the set owns it when whenDeleted=Delete; the pod when whenScaled=Delete and the
    pod was scaled away), or None when they already match."""
    refs = list(claim.metadata.owner_references or [])
    when_deleted, when_scaled = retention(sts)
    scaled_down = not in_ordinal_range(pod, sts)
    want_set = when_deleted == DELETE and not (when_scaled == DELETE and scaled_down)
    want_pod = when_scaled == DELETE and scaled_down
    changed = False
    for owner, want, api_version, kind in ((sts, want_set, "apps/v1", "StatefulSet"), (pod, want_pod, "v1", "Pod")):
        has = any(r.uid == owner.metadata.uid for r in refs)
        if want and not has and owner.metadata.uid:
            refs.append(_ref(owner, api_version, kind))
            changed = True
        elif not want and has:
            refs = [r for r in refs if r.uid != owner.metadata.uid]
            changed = True
    return refs if changed else None


def claim_is_stale(claim: PersistentVolumeClaim, pod: Pod) -> bool:
    """A claim still owned by an earlier pod of the same name (the GC will delete it)."""
    return any(r.kind == "Pod" and r.name == pod.metadata.name and r.uid != pod.metadata.uid
               for r in claim.metadata.owner_references or [])


# ---------------------------------------------------------------- status
def compute_status(sts: StatefulSet, pods: Iterable[Pod], created: set[str], current_rev: str,
                   update_rev: str, collision_count: int, now: datetime | None = None) -> StatefulSetStatus:
    """updateStatus over the replicas and condemned pods (`created`: names that exist)."""
    replicas = ready = available = current = updated = 0
    min_ready = (sts.spec.min_ready_seconds if sts.spec else None) or 0
    for pod in pods:
        exists = pod.metadata.name in created
        replicas += 1 if exists else 0
        if is_running_and_ready(pod):
            ready += 1
            available += 1 if is_running_and_available(pod, min_ready, now) else 0
        if exists and not is_terminating(pod):
            rev = pod_revision(pod)
            current += 1 if rev == current_rev else 0
            updated += 1 if rev == update_rev else 0
    return StatefulSetStatus(observed_generation=sts.metadata.generation, replicas=replicas,
                             ready_replicas=ready or None, available_replicas=available,
                             current_replicas=current or None, updated_replicas=updated or None,
                             current_revision=current_rev, update_revision=update_rev,
                             collision_count=collision_count,
                             conditions=sts.status.conditions if sts.status else None)


def complete_rolling_update(sts: StatefulSet, status: StatefulSetStatus) -> None:
    """completeRollingUpdate: once every replica is updated and ready, the update revision
    becomes the current one."""
    strategy = sts.spec.update_strategy if sts.spec else None
    if strategy is not None and strategy.type == "RollingUpdate" and \
            (status.updated_replicas or 0) == status.replicas and (status.ready_replicas or 0) == status.replicas:
        status.current_replicas = status.updated_replicas
        status.current_revision = status.update_revision


def status_changed(sts: StatefulSet, status: StatefulSetStatus) -> bool:
    old = sts.status or StatefulSetStatus()
    return _norm(old) != _norm(status)


def _norm(s: StatefulSetStatus) -> dict[str, Any]:
    d = s.to_dict()
    for k in ("readyReplicas", "currentReplicas", "updatedReplicas", "collisionCount"):
        d.setdefault(k, 0)
    return d


def descending(pods: Sequence[Pod]) -> list[Pod]:
    return sorted(pods, key=ordinal, reverse=True)
