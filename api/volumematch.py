"""Which PersistentVolume fits a claim: the matching the PV controller and the scheduler's
volume binding share (Kubernetes' persistentvolume util: FindMatchingVolume,
IsVolumeBoundToClaim, CheckAccessModes, the volume mode check).

`find_matching_volume(claim, volumes, node, delay_binding)` answers a volume pre-bound to
the claim, else the smallest Available volume of the claim's class, access modes, volume
mode and selector (and, given a node, whose node affinity admits it) with enough
capacity; with delayed binding and no node, only a pre-bound volume. `bound_volume` is
the volume linked to a claim (bindVolumeToClaim). Pure.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from api.models.core import ObjectReference
from api.models.persistentvolume import BOUND_BY_CONTROLLER, PersistentVolume, PersistentVolumeClaim
from api.nodeaffinity import selector_matches_labels
from api.quantity import parse_quantity
from api.selectors import selector_from_model

def claim_class(claim: PersistentVolumeClaim) -> str:
    return (claim.spec.storage_class_name if claim.spec else None) or ""


def volume_class(pv: PersistentVolume) -> str:
    return (pv.spec.storage_class_name if pv.spec else None) or ""


def requested(claim: PersistentVolumeClaim) -> Decimal:
    reqs = (claim.spec.resources.requests if claim.spec and claim.spec.resources else None) or {}
    try:
        return parse_quantity(reqs.get("storage", 0))
    except ValueError:
        return Decimal(0)


def capacity(pv: PersistentVolume) -> Decimal:
    try:
        return parse_quantity(((pv.spec.capacity if pv.spec else None) or {}).get("storage", 0))
    except ValueError:
        return Decimal(0)


def _phase(pv: PersistentVolume) -> str:
    return (pv.status.phase if pv.status else None) or ""


def is_bound_to(pv: PersistentVolume, claim: PersistentVolumeClaim) -> bool:
    """IsVolumeBoundToClaim: the claimRef names the claim (uid empty or equal)."""
    ref = pv.spec.claim_ref if pv.spec else None
    if ref is None or ref.name != claim.name or ref.namespace != claim.namespace:
        return False
    return not ref.uid or ref.uid == claim.metadata.uid


def access_modes_fit(claim: PersistentVolumeClaim, pv: PersistentVolume) -> bool:
    want = set((claim.spec.access_modes if claim.spec else None) or [])
    have = set((pv.spec.access_modes if pv.spec else None) or [])
    return want <= have


def volume_mode(spec: object) -> str:
    return getattr(spec, "volume_mode", None) or "Filesystem"


#: a node as the matching needs it: (name, labels)
NodeView = tuple[str, Mapping[str, str]]


def node_fits(pv: PersistentVolume, node: NodeView) -> bool:
    affinity = pv.spec.node_affinity if pv.spec else None
    return selector_matches_labels(affinity.required if affinity else None, node[0], node[1])


def find_matching_volume(claim: PersistentVolumeClaim, volumes: Sequence[PersistentVolume],
                         node: NodeView | None = None, delay_binding: bool = False,
                         excluded: set[str] | None = None) -> PersistentVolume | None:
    req = requested(claim)
    cls = claim_class(claim)
    selector = selector_from_model(claim.spec.selector) if claim.spec and claim.spec.selector else None
    best: PersistentVolume | None = None
    for pv in volumes:
        if excluded and pv.name in excluded:
            continue
        if pv.metadata.deletion_timestamp or volume_mode(claim.spec) != volume_mode(pv.spec):
            continue
        fits_node = node is None or node_fits(pv, node)
        if is_bound_to(pv, claim):
            return pv if fits_node else None
        if node is None and delay_binding:
            continue
        if _phase(pv) != "Available" or (pv.spec and pv.spec.claim_ref is not None):
            continue
        if selector is not None and not selector.matches(pv.metadata.labels or {}):
            continue
        if volume_class(pv) != cls or not fits_node or not access_modes_fit(claim, pv):
            continue
        if capacity(pv) >= req and (best is None or capacity(pv) < capacity(best)):
            best = pv
    return best


def bound_volume(pv: PersistentVolume, claim: PersistentVolumeClaim) -> PersistentVolume | None:
    """bindVolumeToClaim: the volume with a full claimRef (and bound-by-controller when the
    controller made the link), or None when nothing changes."""
    ref = pv.spec.claim_ref if pv.spec else None
    if ref is not None and ref.uid == claim.metadata.uid and ref.name == claim.name \
            and ref.namespace == claim.namespace:
        return None
    out = pv.model_copy(deep=True)
    assert out.spec is not None
    out.spec.claim_ref = ObjectReference(kind="PersistentVolumeClaim", namespace=claim.namespace,
                                         name=claim.name, uid=claim.metadata.uid, api_version="v1",
                                         resource_version=claim.metadata.resource_version)
    if not is_bound_to(pv, claim):
        out.metadata.annotations = {**dict(pv.metadata.annotations or {}), BOUND_BY_CONTROLLER: "yes"}
    return out
