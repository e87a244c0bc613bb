"""Validation of the storage kinds (PersistentVolume, PersistentVolumeClaim, StorageClass),
policy/v1 PodDisruptionBudget and discovery.k8s.io/v1 EndpointSlice, with Kubernetes'
paths and wording (pkg/apis/core/validation, pkg/apis/storage/validation,
pkg/apis/policy/validation, pkg/apis/discovery/validation). Registered in api.validation.
"""
from __future__ import annotations

from typing import Any

from api.field import FieldError, child, forbidden, index, invalid, key, not_supported, required
from api.names import is_dns1123_subdomain, is_qualified_name, is_valid_ip
from api.quantity import parse_quantity
from api.validation_apps_sets import positive_int_or_percent
from api.validation_meta import immutable, validate_label_selector

Obj = dict[str, Any]
ACCESS_MODES = ("ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod")
RECLAIM_POLICIES = ("Delete", "Recycle", "Retain")
VOLUME_MODES = ("Block", "Filesystem")
BINDING_MODES = ("Immediate", "WaitForFirstConsumer")
PV_SOURCES = ("hostPath", "local", "nfs", "csi", "iscsi", "fc")


def _dict(value: Any) -> Obj:
    return value if isinstance(value, dict) else {}


def _access_modes(modes: Any, path: str, what: str) -> list[FieldError]:
    if not modes:
        return [required(path, "at least 1 access mode is required" if what == "claim" else "")]
    errs = [not_supported(path, m, ACCESS_MODES) for m in modes if m not in ACCESS_MODES]
    if "ReadWriteOncePod" in modes and len(modes) > 1:
        errs.append(forbidden(path, "may not use ReadWriteOncePod with other access modes"))
    return errs


def _class_name(name: Any, path: str) -> list[FieldError]:
    if isinstance(name, str) and name:
        return [invalid(path, name, m) for m in is_dns1123_subdomain(name)]
    return []


def _volume_mode(mode: Any, path: str) -> list[FieldError]:
    return [not_supported(path, mode, VOLUME_MODES)] if mode and mode not in VOLUME_MODES else []


def _positive_quantity(value: Any, path: str) -> list[FieldError]:
    try:
        amount = parse_quantity(value)
    except (ValueError, TypeError):
        return [invalid(path, value, "quantities must match the regular expression "
                        "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")]
    if amount <= 0:
        return [invalid(path, str(value), "must be greater than zero")]
    return []


# ---------------------------------------------------------------- PersistentVolume
def validate_persistent_volume(obj: Obj) -> list[FieldError]:
    spec = _dict(obj.get("spec"))
    errs = _access_modes(spec.get("accessModes"), "spec.accessModes", "volume")
    capacity = spec.get("capacity")
    if not capacity:
        errs.append(required("spec.capacity"))
    elif "storage" not in capacity or len(capacity) > 1:
        errs.append(not_supported("spec.capacity", capacity, ("storage",)))
    else:
        errs.extend(_positive_quantity(capacity["storage"], "spec.capacity[storage]"))
    policy = spec.get("persistentVolumeReclaimPolicy")
    if policy and policy not in RECLAIM_POLICIES:
        errs.append(not_supported("spec.persistentVolumeReclaimPolicy", policy, RECLAIM_POLICIES))
    errs.extend(_class_name(spec.get("storageClassName"), "spec.storageClassName"))
    errs.extend(_volume_mode(spec.get("volumeMode"), "spec.volumeMode"))
    sources = [s for s in PV_SOURCES if spec.get(s) is not None]
    if not sources:
        errs.append(required("spec", "must specify a volume type"))
    for extra in sources[1:]:
        errs.append(forbidden(f"spec.{extra}", "may not specify more than 1 volume type"))
    host_path = spec.get("hostPath")
    if isinstance(host_path, dict):
        path = host_path.get("path")
        if not path:
            errs.append(required("spec.hostPath.path"))
        elif path == "/" and policy == "Recycle":
            errs.append(forbidden("spec.persistentVolumeReclaimPolicy",
                                  'may not be \'recycle\' for a hostPath mount of \'/\''))
    local = spec.get("local")
    if isinstance(local, dict):
        if not local.get("path"):
            errs.append(required("spec.local.path"))
        if not _dict(spec.get("nodeAffinity")).get("required"):
            errs.append(required("spec.nodeAffinity", "Local volume requires node affinity"))
    return errs


# ---------------------------------------------------------------- PersistentVolumeClaim
def validate_claim_spec(spec: Obj, path: str) -> list[FieldError]:
    errs = _access_modes(spec.get("accessModes"), child(path, "accessModes"), "claim")
    errs.extend(validate_label_selector(spec.get("selector"), child(path, "selector")))
    requests = _dict(_dict(spec.get("resources")).get("requests"))
    storage_path = key(child(path, "resources"), "storage")
    if "storage" not in requests:
        errs.append(required(storage_path))
    else:
        errs.extend(_positive_quantity(requests["storage"], storage_path))
    errs.extend(_class_name(spec.get("storageClassName"), child(path, "storageClassName")))
    errs.extend(_volume_mode(spec.get("volumeMode"), child(path, "volumeMode")))
    return errs


def validate_persistent_volume_claim(obj: Obj) -> list[FieldError]:
    return validate_claim_spec(_dict(obj.get("spec")), "spec")


def validate_persistent_volume_claim_update(new: Obj, old: Obj) -> list[FieldError]:
    """The spec is immutable except resources.requests, volumeAttributesClassName and (once,
    by the binder) volumeName."""
    ns, os_ = _dict(new.get("spec")), dict(_dict(old.get("spec")))
    if not os_.get("volumeName"):
        os_["volumeName"] = ns.get("volumeName")

    def fixed(spec: Obj) -> Obj:
        return {k: v for k, v in spec.items()
                if v is not None and k not in ("resources", "volumeAttributesClassName")}
    if fixed(ns) != fixed(os_):
        return [forbidden("spec", "spec is immutable after creation except resources.requests and "
                          "volumeAttributesClassName for bound claims")]
    return []


# ---------------------------------------------------------------- StorageClass
def validate_storage_class(obj: Obj) -> list[FieldError]:
    errs: list[FieldError] = []
    provisioner = obj.get("provisioner")
    if not provisioner:
        errs.append(required("provisioner"))
    else:
        errs.extend(invalid("provisioner", provisioner, m) for m in is_qualified_name(provisioner.lower()))
    policy = obj.get("reclaimPolicy")
    if policy and policy not in ("Delete", "Retain"):
        errs.append(not_supported("reclaimPolicy", policy, ("Delete", "Retain")))
    mode = obj.get("volumeBindingMode")
    if mode and mode not in BINDING_MODES:
        errs.append(not_supported("volumeBindingMode", mode, BINDING_MODES))
    return errs


def validate_storage_class_update(new: Obj, old: Obj) -> list[FieldError]:
    errs: list[FieldError] = []
    for fld in ("parameters", "provisioner", "reclaimPolicy"):
        if new.get(fld) != old.get(fld):
            errs.append(forbidden(fld, f"updates to {fld} are forbidden."))
    errs.extend(immutable(new.get("volumeBindingMode"), old.get("volumeBindingMode"), "volumeBindingMode"))
    return errs


# ---------------------------------------------------------------- PodDisruptionBudget
EVICTION_POLICIES = ("AlwaysAllow", "IfHealthyBudget")


def validate_pod_disruption_budget(obj: Obj) -> list[FieldError]:
    spec = _dict(obj.get("spec"))
    errs: list[FieldError] = []
    if spec.get("minAvailable") is not None and spec.get("maxUnavailable") is not None:
        errs.append(invalid("spec", spec, "minAvailable and maxUnavailable cannot be both set"))
    for fld in ("minAvailable", "maxUnavailable"):
        if spec.get(fld) is not None:
            errs.extend(positive_int_or_percent(spec[fld], f"spec.{fld}"))
    errs.extend(validate_label_selector(spec.get("selector"), "spec.selector"))
    policy = spec.get("unhealthyPodEvictionPolicy")
    if policy is not None and policy not in EVICTION_POLICIES:
        errs.append(not_supported("spec.unhealthyPodEvictionPolicy", policy, EVICTION_POLICIES))
    return errs


# ---------------------------------------------------------------- EndpointSlice
ADDRESS_TYPES = ("FQDN", "IPv4", "IPv6")


def validate_endpoint_slice(obj: Obj) -> list[FieldError]:
    errs: list[FieldError] = []
    address_type = obj.get("addressType")
    if not address_type:
        errs.append(required("addressType"))
    elif address_type not in ADDRESS_TYPES:
        errs.append(not_supported("addressType", address_type, ADDRESS_TYPES))
    endpoints = obj.get("endpoints") or []
    if len(endpoints) > 1000:
        errs.append(FieldError("TooMany", "endpoints", "must have at most 1000 items", len(endpoints)))
    for i, ep in enumerate(endpoints):
        p = child(index("endpoints", i), "addresses")
        addresses = _dict(ep).get("addresses") or []
        if not addresses:
            errs.append(required(p, "must contain at least 1 address"))
        elif len(addresses) > 100:
            errs.append(FieldError("TooMany", p, "must have at most 100 items", len(addresses)))
        for j, addr in enumerate(addresses):
            if address_type in ("IPv4", "IPv6") and is_valid_ip(addr):
                errs.append(invalid(index(p, j), addr, f"must be a valid {address_type} address"))
    for i, port in enumerate(obj.get("ports") or []):
        number = _dict(port).get("port")
        if number is not None and not 1 <= number <= 65535:
            errs.append(invalid(child(index("ports", i), "port"), number, "must be between 1 and 65535, inclusive"))
    return errs


def validate_endpoint_slice_update(new: Obj, old: Obj) -> list[FieldError]:
    return immutable(new.get("addressType"), old.get("addressType"), "addressType")
