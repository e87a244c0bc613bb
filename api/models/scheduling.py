"""scheduling.k8s.io/v1 PriorityClass: a named pod priority (the Priority admission plugin
turns a pod's `priorityClassName` into `spec.priority`), optionally the cluster's default."""
from __future__ import annotations

from typing import Literal

from api.models.base import K8sObject


class PriorityClass(K8sObject):
    api_version: Literal["scheduling.k8s.io/v1"] = "scheduling.k8s.io/v1"
    kind: Literal["PriorityClass"] = "PriorityClass"
    value: int = 0
    global_default: bool | None = None
    description: str | None = None
    preemption_policy: str | None = None
