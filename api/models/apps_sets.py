"""apps/v1 DaemonSet, StatefulSet and the ControllerRevision both keep their history in.

Field names follow k8s.io/api/apps/v1. Status counters Kubernetes always serialises
(no `omitempty`: a DaemonSet's currentNumberScheduled, numberMisscheduled,
desiredNumberScheduled, numberReady; a StatefulSet's replicas and availableReplicas)
default to 0 so they are present from the first write.
"""
from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from api.models.base import K8sModel, K8sObject, LabelSelector
from api.models.persistentvolume import PersistentVolumeClaimTemplate
from api.models.base import IntOrString
from api.models.pod import PodTemplateSpec

#: the label on pods and ControllerRevisions naming the revision (apps.ControllerRevisionHashLabelKey)
CONTROLLER_REVISION_HASH = "controller-revision-hash"
STATEFULSET_POD_NAME = "statefulset.kubernetes.io/pod-name"
POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"


class SetCondition(K8sModel):
    type: str
    status: str
    last_transition_time: str | None = None
    reason: str | None = None
    message: str | None = None


# ---------------------------------------------------------------- DaemonSet
class RollingUpdateDaemonSet(K8sModel):
    max_unavailable: IntOrString | None = None
    max_surge: IntOrString | None = None


class DaemonSetUpdateStrategy(K8sModel):
    type: str | None = None
    rolling_update: RollingUpdateDaemonSet | None = None


class DaemonSetSpec(K8sModel):
    selector: LabelSelector | None = None
    template: PodTemplateSpec = Field(default_factory=PodTemplateSpec)
    update_strategy: DaemonSetUpdateStrategy | None = None
    min_ready_seconds: int | None = None
    revision_history_limit: int | None = None


class DaemonSetStatus(K8sModel):
    current_number_scheduled: int = 0
    number_misscheduled: int = 0
    desired_number_scheduled: int = 0
    number_ready: int = 0
    observed_generation: int | None = None
    updated_number_scheduled: int | None = None
    number_available: int | None = None
    number_unavailable: int | None = None
    collision_count: int | None = None
    conditions: list[SetCondition] | None = None


class DaemonSet(K8sObject):
    api_version: Literal["apps/v1"] = "apps/v1"
    kind: Literal["DaemonSet"] = "DaemonSet"
    spec: DaemonSetSpec | None = None
    status: DaemonSetStatus | None = None


# ---------------------------------------------------------------- StatefulSet
class RollingUpdateStatefulSetStrategy(K8sModel):
    partition: int | None = None
    max_unavailable: IntOrString | None = None


class StatefulSetUpdateStrategy(K8sModel):
    type: str | None = None
    rolling_update: RollingUpdateStatefulSetStrategy | None = None


class StatefulSetPersistentVolumeClaimRetentionPolicy(K8sModel):
    when_deleted: str | None = None
    when_scaled: str | None = None


class StatefulSetOrdinals(K8sModel):
    start: int | None = None


class StatefulSetSpec(K8sModel):
    replicas: int | None = None
    selector: LabelSelector | None = None
    template: PodTemplateSpec = Field(default_factory=PodTemplateSpec)
    volume_claim_templates: list[PersistentVolumeClaimTemplate] | None = None
    service_name: str | None = None
    pod_management_policy: str | None = None
    update_strategy: StatefulSetUpdateStrategy | None = None
    revision_history_limit: int | None = None
    min_ready_seconds: int | None = None
    persistent_volume_claim_retention_policy: StatefulSetPersistentVolumeClaimRetentionPolicy | None = None
    ordinals: StatefulSetOrdinals | None = None


class StatefulSetStatus(K8sModel):
    observed_generation: int | None = None
    replicas: int = 0
    ready_replicas: int | None = None
    current_replicas: int | None = None
    updated_replicas: int | None = None
    current_revision: str | None = None
    update_revision: str | None = None
    collision_count: int | None = None
    conditions: list[SetCondition] | None = None
    available_replicas: int = 0


class StatefulSet(K8sObject):
    api_version: Literal["apps/v1"] = "apps/v1"
    kind: Literal["StatefulSet"] = "StatefulSet"
    spec: StatefulSetSpec | None = None
    status: StatefulSetStatus | None = None


# ---------------------------------------------------------------- ControllerRevision
class ControllerRevision(K8sObject):
    api_version: Literal["apps/v1"] = "apps/v1"
    kind: Literal["ControllerRevision"] = "ControllerRevision"
    data: dict[str, Any] | None = None
    revision: int = 0
