"""Validation entry points: `validate_create` and `validate_update` on wire dicts.

Owns the dispatch from a resource to its rules and the update-only rules shared by all
kinds (metadata.name, namespace and uid are immutable). The rules themselves live in
api.validation_meta (metadata, labels, selectors), api.validation_pod (pod specs and pod
updates), api.validation_job (Job), api.validation_batch (CronJob, ReplicationController)
and api.validation_kinds (everything else). `FieldError` and `InvalidError` are defined in
api.field and exported here. The apiserver runs defaulting first, then these,
and turns a non-empty result into a 422 `Invalid` Status (`InvalidError(errors)`).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from api import validation_apps_sets as sets
from api import validation_batch as batch
from api import validation_job as job
from api import validation_kinds as kinds
from api import validation_netpol as netpol
from api import validation_quota as quota
from api import validation_rbac as rbac
from api import validation_storage as storage
from api.field import FieldError, InvalidError, invalid_message
from api.names import is_dns1035_label, is_dns1123_label, is_dns1123_subdomain, is_path_segment_name
from api.resources import ResourceInfo
from api.validation_meta import NameValidator, immutable, validate_object_meta
from api.validation_pod import validate_pod_spec, validate_pod_update

Obj = dict[str, Any]

NAME_VALIDATORS: dict[str, NameValidator] = {
    "Namespace": is_dns1123_label,
    "Service": is_dns1035_label,  # Kubernetes' ValidateServiceName is a DNS-1035 label
    "Role": is_path_segment_name,
    "ClusterRole": is_path_segment_name,
    "RoleBinding": is_path_segment_name,
    "ClusterRoleBinding": is_path_segment_name,
}

_CREATE_RULES: dict[str, Callable[[Obj], list[FieldError]]] = {
    "Pod": lambda obj: validate_pod_spec(obj.get("spec"), "spec"),
    "Service": kinds.validate_service,
    "Endpoints": kinds.validate_endpoints,
    "Deployment": kinds.validate_deployment,
    "ReplicaSet": kinds.validate_replica_set,
    "Namespace": kinds.validate_namespace,
    "Node": kinds.validate_node,
    "ConfigMap": kinds.validate_config_map,
    "Secret": kinds.validate_secret,
    "Lease": kinds.validate_lease,
    "NetworkPolicy": netpol.validate_network_policy,
    "ResourceQuota": quota.validate_resource_quota,
    "LimitRange": quota.validate_limit_range,
    "Role": rbac.validate_role,
    "ClusterRole": rbac.validate_cluster_role,
    "RoleBinding": rbac.validate_role_binding,
    "ClusterRoleBinding": rbac.validate_cluster_role_binding,
    "ReplicationController": batch.validate_replication_controller,
    "Job": job.validate_job,
    "CronJob": batch.validate_cron_job,
    "DaemonSet": sets.validate_daemon_set,
    "StatefulSet": sets.validate_stateful_set,
    "PersistentVolume": storage.validate_persistent_volume,
    "PersistentVolumeClaim": storage.validate_persistent_volume_claim,
    "StorageClass": storage.validate_storage_class,
    "PodDisruptionBudget": storage.validate_pod_disruption_budget,
    "EndpointSlice": storage.validate_endpoint_slice,
}

_UPDATE_RULES: dict[str, Callable[[Obj, Obj], list[FieldError]]] = {
    "Pod": lambda new, old: validate_pod_update(new.get("spec"), old.get("spec")),
    "Service": kinds.validate_service_update,
    "Deployment": kinds.validate_selector_update,
    "ReplicaSet": kinds.validate_selector_update,
    "Node": kinds.validate_node_update,
    "ConfigMap": lambda new, old: kinds.validate_config_update(new, old, "ConfigMap"),
    "Secret": lambda new, old: kinds.validate_config_update(new, old, "Secret"),
    "RoleBinding": rbac.validate_binding_update,
    "ClusterRoleBinding": rbac.validate_binding_update,
    "Job": job.validate_job_update,
    "DaemonSet": sets.validate_daemon_set_update,
    "StatefulSet": sets.validate_stateful_set_update,
    "PersistentVolumeClaim": storage.validate_persistent_volume_claim_update,
    "StorageClass": storage.validate_storage_class_update,
    "EndpointSlice": storage.validate_endpoint_slice_update,
}


def name_validator(resource: ResourceInfo) -> NameValidator:
    """The format a kind's metadata.name must have (DNS-1123 subdomain unless listed)."""
    return NAME_VALIDATORS.get(resource.kind, is_dns1123_subdomain)


def validate_create(resource: ResourceInfo, obj: Obj) -> list[FieldError]:
    """Every problem with a new object (empty list when valid)."""
    errs = validate_object_meta(obj.get("metadata"), resource.namespaced, name_validator(resource))
    rule = _CREATE_RULES.get(resource.kind)
    if rule is not None:
        errs.extend(rule(obj))
    return errs


def validate_update(resource: ResourceInfo, new: Obj, old: Obj) -> list[FieldError]:
    """Every problem with `new` replacing `old`: the create rules plus immutability."""
    errs = validate_create(resource, new)
    new_meta, old_meta = new.get("metadata") or {}, old.get("metadata") or {}
    for fld in ("name", "namespace", "uid"):
        if fld == "uid" and not new_meta.get("uid"):
            continue
        errs.extend(immutable(new_meta.get(fld) or "", old_meta.get(fld) or "", f"metadata.{fld}"))
    rule = _UPDATE_RULES.get(resource.kind)
    if rule is not None:
        errs.extend(rule(new, old))
    return errs


def raise_for_errors(errors: list[FieldError]) -> None:
    """Raise InvalidError when there is anything to report."""
    if errors:
        raise InvalidError(errors)


__all__ = [
    "FieldError", "InvalidError", "invalid_message", "name_validator", "raise_for_errors",
    "validate_create", "validate_update",
]
