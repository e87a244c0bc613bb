"""Typed API objects (pydantic v2), one module per API group, and the kind -> model map."""
from __future__ import annotations

from api.models.apiextensions import CustomResourceDefinition
from api.models.apps import Deployment, ReplicaSet, Scale
from api.models.autoscaling import HorizontalPodAutoscaler
from api.models.base import K8sModel, K8sObject, LabelSelector, ObjectMeta, OwnerReference
from api.models.certificates import CertificateSigningRequest
from api.models.batch import CronJob, Job
from api.models.coordination import Lease
from api.models.networking import Ingress, IngressClass, NetworkPolicy
from api.models.quota import LimitRange, ResourceQuota
from api.models.rbac import ClusterRole, ClusterRoleBinding, Role, RoleBinding
from api.models.core import (Binding, ConfigMap, Endpoints, Event, Namespace, Node, Secret,
                             Service, ServiceAccount, Status)
from api.models.pod import Pod
from api.models.replication import ReplicationController
from api.models.apps_sets import ControllerRevision, DaemonSet, StatefulSet
from api.models.discovery import EndpointSlice
from api.models.persistentvolume import PersistentVolume, PersistentVolumeClaim
from api.models.policy import PodDisruptionBudget
from api.models.scheduling import PriorityClass
from api.models.storage import StorageClass
from api.resources import ResourceInfo

MODELS: tuple[type[K8sObject], ...] = (
    Namespace, Node, Pod, Service, Endpoints, ConfigMap, Secret, Event, ServiceAccount,
    Deployment, ReplicaSet, Lease, Role, ClusterRole, RoleBinding, ClusterRoleBinding,
    CertificateSigningRequest, ResourceQuota, LimitRange, NetworkPolicy,
    CustomResourceDefinition,
    ReplicationController, Job, CronJob,
    DaemonSet, StatefulSet, ControllerRevision, PersistentVolume, PersistentVolumeClaim,
    StorageClass, PodDisruptionBudget, EndpointSlice, Ingress, IngressClass,
    PriorityClass, HorizontalPodAutoscaler,
)
_BY_RESOURCE: dict[ResourceInfo, type[K8sObject]] = {m.RESOURCE: m for m in MODELS}


def model_for(resource: ResourceInfo) -> type[K8sObject]:
    return _BY_RESOURCE[resource]


__all__ = [
    "Binding", "CertificateSigningRequest", "ClusterRole", "ClusterRoleBinding", "ConfigMap", "CustomResourceDefinition", "Deployment", "Endpoints", "Event", "K8sModel", "K8sObject",
    "LabelSelector", "Lease", "LimitRange", "MODELS", "Namespace", "NetworkPolicy", "Node", "ObjectMeta", "OwnerReference",
    "Pod", "ReplicaSet", "ResourceQuota", "Role", "RoleBinding", "Scale", "Secret", "Service", "ServiceAccount", "Status", "model_for",
    "CronJob", "Job", "ReplicationController",
    "ControllerRevision", "DaemonSet", "EndpointSlice", "PersistentVolume", "PersistentVolumeClaim",
    "PodDisruptionBudget", "StatefulSet", "StorageClass", "Ingress", "IngressClass", "PriorityClass",
    "HorizontalPodAutoscaler",
]
