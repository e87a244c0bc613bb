"""core/v1 PersistentVolume and PersistentVolumeClaim: storage a cluster offers (a PV) and
storage a namespace asks for (a PVC), bound one to one by the PV controller.

Field names follow k8s.io/api/core/v1. The volume sources pykube mounts (hostPath, local)
are typed; the others a manifest may name (nfs, csi, iscsi, ...) round-trip as wire dicts
so a PV written for Kubernetes is stored unchanged, and the kubelet says it cannot mount
them.
"""
from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from api.models.base import K8sModel, K8sObject, LabelSelector, ObjectMeta
from api.models.core import ObjectReference
from api.models.base import IntOrString
from api.models.pod import HostPathVolumeSource, NodeSelector

# annotations and finalizers of the storage controllers (pkg/controller/volume)
BIND_COMPLETED = "pv.kubernetes.io/bind-completed"
BOUND_BY_CONTROLLER = "pv.kubernetes.io/bound-by-controller"
PROVISIONED_BY = "pv.kubernetes.io/provisioned-by"
STORAGE_PROVISIONER = "volume.kubernetes.io/storage-provisioner"
BETA_STORAGE_PROVISIONER = "volume.beta.kubernetes.io/storage-provisioner"
SELECTED_NODE = "volume.kubernetes.io/selected-node"
IS_DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class"
PVC_PROTECTION = "kubernetes.io/pvc-protection"
PV_PROTECTION = "kubernetes.io/pv-protection"


class VolumeResourceRequirements(K8sModel):
    limits: dict[str, IntOrString] | None = None
    requests: dict[str, IntOrString] | None = None


class TypedLocalObjectReference(K8sModel):
    api_group: str | None = None
    kind: str
    name: str


class PersistentVolumeClaimSpec(K8sModel):
    access_modes: list[str] | None = None
    selector: LabelSelector | None = None
    resources: VolumeResourceRequirements | None = None
    volume_name: str | None = None
    storage_class_name: str | None = None
    volume_mode: str | None = None
    data_source: TypedLocalObjectReference | None = None
    data_source_ref: dict[str, Any] | None = None
    volume_attributes_class_name: str | None = None


class PersistentVolumeClaimCondition(K8sModel):
    type: str
    status: str
    last_probe_time: str | None = None
    last_transition_time: str | None = None
    reason: str | None = None
    message: str | None = None


class PersistentVolumeClaimStatus(K8sModel):
    phase: str | None = None
    access_modes: list[str] | None = None
    capacity: dict[str, IntOrString] | None = None
    conditions: list[PersistentVolumeClaimCondition] | None = None
    allocated_resources: dict[str, IntOrString] | None = None
    allocated_resource_statuses: dict[str, str] | None = None


class PersistentVolumeClaim(K8sObject):
    api_version: Literal["v1"] = "v1"
    kind: Literal["PersistentVolumeClaim"] = "PersistentVolumeClaim"
    spec: PersistentVolumeClaimSpec | None = None
    status: PersistentVolumeClaimStatus | None = None


class PersistentVolumeClaimTemplate(K8sModel):
    """A claim inside a StatefulSet's volumeClaimTemplates (metadata and spec)."""

    api_version: str | None = None
    kind: str | None = None
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: PersistentVolumeClaimSpec | None = None
    status: PersistentVolumeClaimStatus | None = None


class LocalVolumeSource(K8sModel):
    path: str
    fs_type: str | None = None


class VolumeNodeAffinity(K8sModel):
    required: NodeSelector | None = None


class PersistentVolumeSpec(K8sModel):
    capacity: dict[str, IntOrString] | None = None
    access_modes: list[str] | None = None
    claim_ref: ObjectReference | None = None
    persistent_volume_reclaim_policy: str | None = None
    storage_class_name: str | None = None
    mount_options: list[str] | None = None
    volume_mode: str | None = None
    node_affinity: VolumeNodeAffinity | None = None
    volume_attributes_class_name: str | None = None
    host_path: HostPathVolumeSource | None = None
    local: LocalVolumeSource | None = None
    nfs: dict[str, Any] | None = None
    csi: dict[str, Any] | None = None
    iscsi: dict[str, Any] | None = None
    fc: dict[str, Any] | None = None


class PersistentVolumeStatus(K8sModel):
    phase: str | None = None
    message: str | None = None
    reason: str | None = None
    last_phase_transition_time: str | None = None


class PersistentVolume(K8sObject):
    api_version: Literal["v1"] = "v1"
    kind: Literal["PersistentVolume"] = "PersistentVolume"
    spec: PersistentVolumeSpec | None = None
    status: PersistentVolumeStatus | None = None
