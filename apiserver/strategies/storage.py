"""Strategies of PersistentVolume, PersistentVolumeClaim, StorageClass, PodDisruptionBudget
and EndpointSlice.

PVs and PVCs start `Pending` (the status only the PV controller writes), carry no
generation, and get the protection finalizer kube-apiserver's StorageObjectInUseProtection
admission adds (`kubernetes.io/pv-protection`, `kubernetes.io/pvc-protection`), so a
volume in use is not removed under a pod; a PV's status write stamps
lastPhaseTransitionTime when the phase changes. A StorageClass has no generation. A
PodDisruptionBudget starts with the zero counters of its status.
"""
from __future__ import annotations

from api.meta import now_rfc3339
from api.models.persistentvolume import PV_PROTECTION, PVC_PROTECTION
from apiserver.strategies import Obj, Strategy, builtin


def _add_finalizer(obj: Obj, name: str) -> None:
    fins = obj["metadata"].setdefault("finalizers", [])
    if name not in fins:
        fins.append(name)


@builtin("", "PersistentVolume")
class PersistentVolumeStrategy(Strategy):
    generation = False
    reset_status = True

    def initial_status(self, obj: Obj) -> Obj | None:
        return {"phase": "Pending", "lastPhaseTransitionTime": now_rfc3339()}

    def prepare_for_create(self, obj: Obj) -> None:
        super().prepare_for_create(obj)
        _add_finalizer(obj, PV_PROTECTION)

    def prepare_for_status_update(self, new: Obj, old: Obj) -> Obj:
        merged = super().prepare_for_status_update(new, old)
        phase = (merged.get("status") or {}).get("phase")
        if phase != (old.get("status") or {}).get("phase") and isinstance(merged.get("status"), dict):
            merged["status"]["lastPhaseTransitionTime"] = now_rfc3339()
        return merged


@builtin("", "PersistentVolumeClaim")
class PersistentVolumeClaimStrategy(Strategy):
    generation = False
    reset_status = True

    def initial_status(self, obj: Obj) -> Obj | None:
        return {"phase": "Pending"}

    def prepare_for_create(self, obj: Obj) -> None:
        super().prepare_for_create(obj)
        _add_finalizer(obj, PVC_PROTECTION)


@builtin("storage.k8s.io", "StorageClass")
class StorageClassStrategy(Strategy):
    generation = False


@builtin("policy", "PodDisruptionBudget")
class PodDisruptionBudgetStrategy(Strategy):
    reset_status = True

    def initial_status(self, obj: Obj) -> Obj | None:
        return {"disruptionsAllowed": 0, "currentHealthy": 0, "desiredHealthy": 0, "expectedPods": 0}
