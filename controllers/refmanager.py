"""Controller references: which objects an owner claims (Kubernetes' ControllerRefManager).

Owns `claim_objects` (decide, without I/O, which of the objects a selector matches the
owner keeps, adopts or releases) and the merge patches that adopt or release one object.
Used by the ReplicaSet controller for pods and the Deployment controller for ReplicaSets.

Invariants, as Kubernetes:
- an object has at most one controller; objects controlled by another owner are ignored;
- orphans are adopted only when they match, and neither they nor the owner are being
  deleted; owned objects that stopped matching are released unless the owner is deleting;
- patches carry the cached resourceVersion, so acting on a stale view is a 409 Conflict,
  never a lost update.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from api.meta import controller_ref, new_controller_ref
from api.selectors import Selector

T = TypeVar("T")


@dataclass
class Claim(Generic[T]):
    """`owned`: what the owner manages now (including `adopt`); `release`: to let go."""

    owned: list[T] = field(default_factory=list)
    adopt: list[T] = field(default_factory=list)
    release: list[T] = field(default_factory=list)


def claim_objects(owner: Any, objects: Sequence[T], selector: Selector) -> Claim[T]:
    """Split `objects` (same namespace as `owner`) into owned / to adopt / to release."""
    uid = owner.metadata.uid
    owner_deleting = bool(owner.metadata.deletion_timestamp)
    claim: Claim[T] = Claim()
    for obj in objects:
        meta = obj.metadata  # type: ignore[attr-defined]
        ref = controller_ref(obj)
        matches = selector.matches(meta.labels or {})
        if ref is not None:
            if ref.uid != uid:
                continue
            if matches:
                claim.owned.append(obj)
            elif not owner_deleting:
                claim.release.append(obj)
            continue
        if matches and not owner_deleting and not meta.deletion_timestamp:
            claim.adopt.append(obj)
            claim.owned.append(obj)
    return claim


def adopt_patch(owner: Any, obj: Any) -> dict[str, Any]:
    """Merge patch adding `owner`'s controller ref (controller, blockOwnerDeletion)."""
    meta = obj.metadata
    refs = [r.to_dict() for r in meta.owner_references or []]
    refs.append(new_controller_ref(owner).to_dict())
    return {"metadata": {"ownerReferences": refs, "resourceVersion": meta.resource_version}}


def release_patch(owner_uid: str | None, obj: Any) -> dict[str, Any]:
    """Merge patch removing the owner reference `owner_uid`."""
    meta = obj.metadata
    refs = [r.to_dict() for r in meta.owner_references or [] if r.uid != owner_uid]
    return {"metadata": {"ownerReferences": refs or None,
                         "resourceVersion": meta.resource_version}}
