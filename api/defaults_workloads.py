"""Defaulting of the apps/v1 sets, the storage kinds, PodDisruptionBudget and EndpointSlice.

Kubernetes' SetDefaults_DaemonSet, SetDefaults_StatefulSet (pkg/apis/apps/v1/defaults.go),
SetDefaults_PersistentVolume(Claim) (pkg/apis/core/v1/defaults.go), SetDefaults_StorageClass
and SetDefaults_EndpointPort, on wire dicts, in place; never overwriting what was given.
`DEFAULTERS` is merged into api.defaults' dispatch table.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from api.defaults import Obj, _items, _sub, default_pod_template


def _daemon_set(obj: Obj) -> None:
    spec = _sub(obj, "spec")
    strategy = _sub(spec, "updateStrategy")
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        rolling = _sub(strategy, "rollingUpdate")
        if rolling.get("maxUnavailable") is None:
            rolling["maxUnavailable"] = 1
        if rolling.get("maxSurge") is None:
            rolling["maxSurge"] = 0
    if spec.get("revisionHistoryLimit") is None:
        spec["revisionHistoryLimit"] = 10
    default_pod_template(spec.get("template"))


def default_claim(claim: Any) -> None:
    """SetDefaults_PersistentVolumeClaim(+Spec): phase Pending, volumeMode Filesystem."""
    if not isinstance(claim, dict):
        return
    spec = claim.get("spec")
    if isinstance(spec, dict) and not spec.get("volumeMode"):
        spec["volumeMode"] = "Filesystem"
    status = _sub(claim, "status")
    if not status.get("phase"):
        status["phase"] = "Pending"


def _stateful_set(obj: Obj) -> None:
    spec = _sub(obj, "spec")
    if not spec.get("podManagementPolicy"):
        spec["podManagementPolicy"] = "OrderedReady"
    strategy = _sub(spec, "updateStrategy")
    if not strategy.get("type"):
        strategy["type"] = "RollingUpdate"
        _sub(strategy, "rollingUpdate")
    rolling = strategy.get("rollingUpdate")
    if strategy["type"] == "RollingUpdate" and isinstance(rolling, dict) \
            and rolling.get("partition") is None:
        rolling["partition"] = 0
    policy = _sub(spec, "persistentVolumeClaimRetentionPolicy")
    if not policy.get("whenDeleted"):
        policy["whenDeleted"] = "Retain"
    if not policy.get("whenScaled"):
        policy["whenScaled"] = "Retain"
    if spec.get("replicas") is None:
        spec["replicas"] = 1
    if spec.get("revisionHistoryLimit") is None:
        spec["revisionHistoryLimit"] = 10
    for claim in _items(spec, "volumeClaimTemplates"):
        default_claim(claim)
    default_pod_template(spec.get("template"))


def _persistent_volume(obj: Obj) -> None:
    spec = _sub(obj, "spec")
    if not spec.get("persistentVolumeReclaimPolicy"):
        spec["persistentVolumeReclaimPolicy"] = "Retain"
    if not spec.get("volumeMode"):
        spec["volumeMode"] = "Filesystem"
    host_path = spec.get("hostPath")
    if isinstance(host_path, dict):
        host_path.setdefault("type", "")
    status = _sub(obj, "status")
    if not status.get("phase"):
        status["phase"] = "Pending"


def _storage_class(obj: Obj) -> None:
    if not obj.get("reclaimPolicy"):
        obj["reclaimPolicy"] = "Delete"
    if not obj.get("volumeBindingMode"):
        obj["volumeBindingMode"] = "Immediate"


def _endpoint_slice(obj: Obj) -> None:
    for port in _items(obj, "ports"):
        if port.get("name") is None:
            port["name"] = ""
        if port.get("protocol") is None:
            port["protocol"] = "TCP"


DEFAULTERS: dict[str, Callable[[Obj], None]] = {
    "DaemonSet": _daemon_set,
    "StatefulSet": _stateful_set,
    "PersistentVolume": _persistent_volume,
    "PersistentVolumeClaim": default_claim,
    "StorageClass": _storage_class,
    "EndpointSlice": _endpoint_slice,
}
