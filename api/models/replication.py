"""core/v1 ReplicationController: the legacy ReplicaSet, with an equality-based selector
(a plain label map) instead of a LabelSelector. Kept in its own module beside core.py."""
from __future__ import annotations

from typing import Literal

from api.models.base import K8sModel, K8sObject
from api.models.pod import PodTemplateSpec


class ReplicationControllerSpec(K8sModel):
    replicas: int | None = None
    min_ready_seconds: int | None = None
    selector: dict[str, str] | None = None
    template: PodTemplateSpec | None = None


class ReplicationControllerCondition(K8sModel):
    type: str
    status: str
    last_transition_time: str | None = None
    reason: str | None = None
    message: str | None = None


class ReplicationControllerStatus(K8sModel):
    replicas: int = 0
    fully_labeled_replicas: int | None = None
    ready_replicas: int | None = None
    available_replicas: int | None = None
    observed_generation: int | None = None
    conditions: list[ReplicationControllerCondition] | None = None


class ReplicationController(K8sObject):
    api_version: Literal["v1"] = "v1"
    kind: Literal["ReplicationController"] = "ReplicationController"
    spec: ReplicationControllerSpec | None = None
    status: ReplicationControllerStatus | None = None
