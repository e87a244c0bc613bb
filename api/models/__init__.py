"""Typed API objects (pydantic v2), one module per API group, and the kind -> model map."""
from __future__ import annotations

from api.models.apps import Deployment, ReplicaSet, Scale
from api.models.base import K8sModel, K8sObject, LabelSelector, ObjectMeta, OwnerReference
from api.models.coordination import Lease
from api.models.core import (Binding, ConfigMap, Endpoints, Event, Namespace, Node, Secret,
                             Service, ServiceAccount, Status)
from api.models.pod import Pod
from api.resources import ResourceInfo

MODELS: tuple[type[K8sObject], ...] = (
    Namespace, Node, Pod, Service, Endpoints, ConfigMap, Secret, Event, ServiceAccount,
    Deployment, ReplicaSet, Lease,
)
_BY_RESOURCE: dict[ResourceInfo, type[K8sObject]] = {m.RESOURCE: m for m in MODELS}


def model_for(resource: ResourceInfo) -> type[K8sObject]:
    return _BY_RESOURCE[resource]


__all__ = [
    "Binding", "ConfigMap", "Deployment", "Endpoints", "Event", "K8sModel", "K8sObject",
    "LabelSelector", "Lease", "MODELS", "Namespace", "Node", "ObjectMeta", "OwnerReference",
    "Pod", "ReplicaSet", "Scale", "Secret", "Service", "ServiceAccount", "Status", "model_for",
]
