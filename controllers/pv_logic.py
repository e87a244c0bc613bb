"""The PersistentVolume controller's decisions, as pure functions (Kubernetes'
pkg/controller/volume/persistentvolume: pv_controller.go and its index helpers).

Owns (the matching of claims and volumes is api.volumematch's):
- `decide_claim`: what a claim needs (bind to a volume, wait for its first consumer, ask
  an external provisioner, stay Pending, or be Lost/Misbound);
- `decide_volume`: a volume's phase (Available, Bound, Released) and whether to reclaim
  it (Retain: keep; Delete: left to its external provisioner, else Failed) or unbind it;
- the bound copies of a volume and a claim, as `bind()` writes them.
Inputs are cached models, never mutated.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from api.models import PersistentVolume, PersistentVolumeClaim, StorageClass
from api.models.persistentvolume import (BETA_STORAGE_PROVISIONER, BIND_COMPLETED, BOUND_BY_CONTROLLER,
                                         PROVISIONED_BY, SELECTED_NODE, STORAGE_PROVISIONER,
                                         PersistentVolumeClaimStatus, PersistentVolumeStatus)
from api.volumematch import claim_class, find_matching_volume, is_bound_to

WFFC = "WaitForFirstConsumer"


def annotations(obj: object) -> dict[str, str]:
    return dict(obj.metadata.annotations or {})


def phase(obj: PersistentVolume | PersistentVolumeClaim) -> str:
    return (obj.status.phase if obj.status else None) or ""


# ---------------------------------------------------------------- claims
@dataclass
class ClaimDecision:
    """`action`: bind | pending | provision | lost; `event`: (type, reason, message)."""

    action: str
    volume: PersistentVolume | None = None
    event: tuple[str, str, str] | None = None
    provisioner: str = ""


def delays_binding(claim: PersistentVolumeClaim, classes: Mapping[str, StorageClass]) -> bool:
    """shouldDelayBinding: WaitForFirstConsumer and no node selected yet."""
    if SELECTED_NODE in annotations(claim):
        return False
    sc = classes.get(claim_class(claim))
    return sc is not None and sc.volume_binding_mode == WFFC


def decide_claim(claim: PersistentVolumeClaim, volumes: Mapping[str, PersistentVolume],
                 classes: Mapping[str, StorageClass]) -> ClaimDecision:
    name = claim.spec.volume_name if claim.spec else None
    completed = BIND_COMPLETED in annotations(claim)
    if name:
        pv = volumes.get(name)
        if pv is None:
            if completed:
                return ClaimDecision("lost", event=("Warning", "ClaimLost", "Bound claim has lost reference "
                                                    "to PersistentVolume. Data on the volume is lost!"))
            return ClaimDecision("pending")
        ref = pv.spec.claim_ref if pv.spec else None
        if ref is None or is_bound_to(pv, claim):
            return ClaimDecision("bind", pv)
        if completed:
            return ClaimDecision("lost", event=("Warning", "ClaimMisbound",
                                                "Two claims are bound to the same volume, this one is bound incorrectly"))
        return ClaimDecision("pending")
    delay = delays_binding(claim, classes)
    pv = find_matching_volume(claim, list(volumes.values()), None, delay)
    if pv is not None:
        return ClaimDecision("bind", pv)
    cls = claim_class(claim)
    if delay:
        return ClaimDecision("pending", event=("Normal", "WaitForFirstConsumer",
                                               "waiting for first consumer to be created before binding"))
    if cls:
        sc = classes.get(cls)
        if sc is None:
            return ClaimDecision("pending", event=("Warning", "ProvisioningFailed",
                                                   f'storageclass.storage.k8s.io "{cls}" not found'))
        return ClaimDecision("provision", provisioner=sc.provisioner, event=(
            "Normal", "ExternalProvisioning",
            f"Waiting for a volume to be created either by the external provisioner '{sc.provisioner}' "
            "or manually by the system administrator. If volume creation is delayed, please verify "
            "that the provisioner is running and correctly registered."))
    return ClaimDecision("pending", event=("Normal", "FailedBinding",
                                           "no persistent volumes available for this claim and no storage class is set"))


def provisioning_claim(claim: PersistentVolumeClaim, provisioner: str) -> PersistentVolumeClaim | None:
    """The claim annotated for its external provisioner, or None when it already is."""
    ann = annotations(claim)
    if ann.get(STORAGE_PROVISIONER) == provisioner and ann.get(BETA_STORAGE_PROVISIONER) == provisioner:
        return None
    out = claim.model_copy(deep=True)
    out.metadata.annotations = {**ann, STORAGE_PROVISIONER: provisioner, BETA_STORAGE_PROVISIONER: provisioner}
    return out


def bound_claim(claim: PersistentVolumeClaim, pv: PersistentVolume) -> PersistentVolumeClaim | None:
    """bindClaimToVolume: volumeName and bind-completed, or None when already so."""
    ann = annotations(claim)
    name = claim.spec.volume_name if claim.spec else None
    if name == pv.name and ann.get(BIND_COMPLETED) == "yes":
        return None
    out = claim.model_copy(deep=True)
    assert out.spec is not None
    if name != pv.name:
        out.spec.volume_name = pv.name
        ann[BOUND_BY_CONTROLLER] = "yes"
    ann[BIND_COMPLETED] = "yes"
    out.metadata.annotations = ann
    return out


def claim_status(claim: PersistentVolumeClaim, phase_: str,
                 pv: PersistentVolume | None) -> PersistentVolumeClaimStatus | None:
    """The claim's status for `phase_` (Bound copies the volume's modes and capacity), or
    None when it already has it."""
    old = claim.status or PersistentVolumeClaimStatus()
    new = old.model_copy(deep=True)
    new.phase = phase_
    if pv is not None and pv.spec is not None:
        new.access_modes = list(pv.spec.access_modes or []) or None
        new.capacity = dict(pv.spec.capacity or {}) or None
    elif phase_ != "Bound":
        new.access_modes = old.access_modes
        new.capacity = old.capacity
    return None if new.to_dict() == old.to_dict() else new


# ---------------------------------------------------------------- volumes
@dataclass
class VolumeDecision:
    """`phase` to set (None: keep); `reclaim`: run the reclaim policy; `unbind`; `claim_key`
    to resync; `event` and `message` for a failed reclaim."""

    phase: str | None = None
    reclaim: bool = False
    unbind: bool = False
    claim_key: str | None = None
    event: tuple[str, str, str] | None = None
    message: str | None = None


ClaimLookup = Callable[[str, str], PersistentVolumeClaim | None]


def decide_volume(pv: PersistentVolume, claim_of: ClaimLookup) -> VolumeDecision:
    ref = pv.spec.claim_ref if pv.spec else None
    if ref is None or not ref.uid:
        return VolumeDecision("Available")
    claim = claim_of(ref.namespace or "", ref.name or "")
    if claim is not None and claim.metadata.uid != ref.uid:
        claim = None
    if claim is None:
        keep = phase(pv) in ("Released", "Failed")
        return VolumeDecision(None if keep else "Released", reclaim=True)
    name = claim.spec.volume_name if claim.spec else None
    if not name:
        return VolumeDecision(claim_key=f"{claim.namespace}/{claim.name}")
    if name == pv.name:
        return VolumeDecision("Bound")
    if PROVISIONED_BY in annotations(pv) and pv.spec and pv.spec.persistent_volume_reclaim_policy == "Delete":
        keep = phase(pv) in ("Released", "Failed")
        return VolumeDecision(None if keep else "Released", reclaim=True)
    if BOUND_BY_CONTROLLER in annotations(pv):
        return VolumeDecision("Available", unbind=True)
    return VolumeDecision()


def reclaim(pv: PersistentVolume, external: Callable[[str], bool]) -> VolumeDecision:
    """reclaimVolume: Retain keeps the volume Released; Delete is left to the external
    provisioner that made it (`external(name)`), else nothing can delete it (Failed)."""
    policy = (pv.spec.persistent_volume_reclaim_policy if pv.spec else None) or "Retain"
    if policy == "Retain":
        return VolumeDecision()
    if policy == "Delete" and external(annotations(pv).get(PROVISIONED_BY, "")):
        return VolumeDecision()
    if policy == "Delete":
        msg = f'error getting deleter volume plugin for volume "{pv.name}": no deletable volume plugin matched'
        return VolumeDecision("Failed", event=("Warning", "VolumeFailedDelete", msg), message=msg)
    msg = "No recycler plugin found for the volume!"
    return VolumeDecision("Failed", event=("Warning", "VolumeFailedRecycle", msg), message=msg)


def unbound_volume(pv: PersistentVolume) -> PersistentVolume:
    """unbindVolume: the controller's link removed (claimRef gone, annotation dropped)."""
    out = pv.model_copy(deep=True)
    assert out.spec is not None
    out.spec.claim_ref = None
    ann = annotations(pv)
    ann.pop(BOUND_BY_CONTROLLER, None)
    out.metadata.annotations = ann or None
    return out


def volume_status(pv: PersistentVolume, phase_: str, message: str | None = None) -> PersistentVolumeStatus | None:
    old = pv.status or PersistentVolumeStatus()
    if old.phase == phase_ and old.message == message:
        return None
    new = old.model_copy()
    new.phase, new.message = phase_, message
    return new
