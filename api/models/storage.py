"""storage.k8s.io/v1 StorageClass: how volumes of a class are made (the provisioner and
its parameters), reclaimed, and when they are bound (Immediate or WaitForFirstConsumer)."""
from __future__ import annotations

from typing import Any, Literal

from api.models.base import K8sObject


class StorageClass(K8sObject):
    api_version: Literal["storage.k8s.io/v1"] = "storage.k8s.io/v1"
    kind: Literal["StorageClass"] = "StorageClass"
    provisioner: str = ""
    parameters: dict[str, str] | None = None
    reclaim_policy: str | None = None
    mount_options: list[str] | None = None
    allow_volume_expansion: bool | None = None
    volume_binding_mode: str | None = None
    allowed_topologies: list[dict[str, Any]] | None = None
