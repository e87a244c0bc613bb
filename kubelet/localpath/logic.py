"""The local-path provisioner's decisions, as pure functions.

Owns the default StorageClass (`local-path`, WaitForFirstConsumer, reclaim Delete,
provisioner `rancher.io/local-path`, marked default), which claims this node must provision
(unbound, handed to this provisioner by the PV controller, the scheduler's selected node
being this one), the volume made for a claim (`pvc-<claim uid>`, a hostPath directory
`<root>/pvc-<uid>_<namespace>_<claim>`, pinned to this node by node affinity, pre-bound to
the claim), and which volumes this node must delete (made here, Released, reclaim Delete).
"""
from __future__ import annotations

from pathlib import Path

from api.models import PersistentVolume, PersistentVolumeClaim, StorageClass
from api.models.base import ObjectMeta
from api.models.core import ObjectReference
from api.models.persistentvolume import (IS_DEFAULT_CLASS, PROVISIONED_BY, SELECTED_NODE,
                                         STORAGE_PROVISIONER, PersistentVolumeSpec,
                                         VolumeNodeAffinity)
from api.models.pod import (HostPathVolumeSource, NodeSelector, NodeSelectorRequirement,
                            NodeSelectorTerm)

PROVISIONER = "rancher.io/local-path"
CLASS_NAME = "local-path"
NODE_ANNOTATION = "local.path.provisioner/selected-node"
HOSTNAME_LABEL = "kubernetes.io/hostname"


def default_class() -> StorageClass:
    return StorageClass(metadata=ObjectMeta(name=CLASS_NAME, annotations={IS_DEFAULT_CLASS: "true"}),
                        provisioner=PROVISIONER, reclaim_policy="Delete",
                        volume_binding_mode="WaitForFirstConsumer")


def volume_name(claim: PersistentVolumeClaim) -> str:
    return f"pvc-{claim.metadata.uid}"


def directory(root: Path, claim: PersistentVolumeClaim) -> Path:
    return root / f"{volume_name(claim)}_{claim.metadata.namespace}_{claim.name}"


def should_provision(claim: PersistentVolumeClaim, node: str, sc: StorageClass | None) -> bool:
    ann = claim.metadata.annotations or {}
    return (sc is not None and sc.provisioner == PROVISIONER
            and ann.get(STORAGE_PROVISIONER) == PROVISIONER and ann.get(SELECTED_NODE) == node
            and not (claim.spec and claim.spec.volume_name) and not claim.metadata.deletion_timestamp)


def new_volume(claim: PersistentVolumeClaim, sc: StorageClass, node: str, path: Path) -> PersistentVolume:
    assert claim.spec is not None
    request = ((claim.spec.resources.requests if claim.spec.resources else None) or {}).get("storage", "0")
    affinity = VolumeNodeAffinity(required=NodeSelector(node_selector_terms=[NodeSelectorTerm(
        match_expressions=[NodeSelectorRequirement(key=HOSTNAME_LABEL, operator="In", values=[node])])]))
    spec = PersistentVolumeSpec(
        capacity={"storage": request}, access_modes=list(claim.spec.access_modes or []),
        persistent_volume_reclaim_policy=sc.reclaim_policy or "Delete",
        storage_class_name=sc.name, volume_mode=claim.spec.volume_mode or "Filesystem",
        host_path=HostPathVolumeSource(path=str(path), type="DirectoryOrCreate"), node_affinity=affinity,
        claim_ref=ObjectReference(kind="PersistentVolumeClaim", namespace=claim.namespace, name=claim.name,
                                  uid=claim.metadata.uid, api_version="v1",
                                  resource_version=claim.metadata.resource_version))
    meta = ObjectMeta(name=volume_name(claim), annotations={PROVISIONED_BY: PROVISIONER, NODE_ANNOTATION: node})
    return PersistentVolume(metadata=meta, spec=spec)


def should_delete(pv: PersistentVolume, node: str) -> bool:
    ann = pv.metadata.annotations or {}
    return (ann.get(PROVISIONED_BY) == PROVISIONER and ann.get(NODE_ANNOTATION) == node
            and (pv.status.phase if pv.status else None) == "Released"
            and (pv.spec.persistent_volume_reclaim_policy if pv.spec else None) == "Delete"
            and not pv.metadata.deletion_timestamp)


def owned_directory(pv: PersistentVolume, root: Path) -> Path | None:
    """The directory to remove for `pv`: its hostPath, only when it is one of ours under
    `root` (never anything else on the host)."""
    host_path = pv.spec.host_path if pv.spec else None
    if host_path is None:
        return None
    path = Path(host_path.path)
    if path.parent != root or not path.name.startswith(f"{pv.name}_"):
        return None
    return path
