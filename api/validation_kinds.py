"""Per-kind validation beyond metadata: Service, Endpoints, Deployment, ReplicaSet, Namespace,
Node, ConfigMap, Secret, Lease; plus their update-only rules (immutable fields).

Each `validate_<kind>(obj)` and `validate_<kind>_update(new, old)` returns FieldErrors with
Kubernetes' paths and wording (pkg/apis/core/validation, pkg/apis/apps/validation). The
public entry points live in api.validation.
"""
from __future__ import annotations

import base64
import binascii
import ipaddress
from typing import Any

from api.field import (
    FieldError,
    child,
    duplicate,
    forbidden,
    index,
    invalid,
    key,
    not_supported,
    required,
    too_long,
)
from api.names import (
    is_config_map_key,
    is_dns1123_label,
    is_dns1123_subdomain,
    is_qualified_name,
    is_valid_ip,
    is_valid_percent,
    is_valid_port_name,
    is_valid_port_num,
)
from api.selectors import selector_from_model
from api.validation_meta import (
    immutable,
    validate_annotations,
    validate_finalizers,
    validate_label_selector,
    validate_labels,
)
from api.validation_pod import PROTOCOLS, TAINT_EFFECTS, validate_pod_spec

Obj = dict[str, Any]
SERVICE_TYPES = ("ClusterIP", "NodePort", "LoadBalancer", "ExternalName")
NODE_PORT_RANGE = (30000, 32767)
MAX_CONFIG_SIZE = 1024 * 1024


def _spec(obj: Obj) -> Obj:
    return _dict(obj.get("spec"))


def _dict(value: Any) -> Obj:
    return value if isinstance(value, dict) else {}


def _non_negative(value: Any, path: str) -> list[FieldError]:
    if isinstance(value, int) and value < 0:
        return [invalid(path, value, "must be greater than or equal to 0")]
    return []


# ---------------------------------------------------------------- services
def _validate_service_port(port: Obj, p: str, svc_type: str, many: bool) -> list[FieldError]:
    errs: list[FieldError] = []
    name = port.get("name") or ""
    if many and not name:
        errs.append(required(child(p, "name")))
    elif name:
        errs.extend(invalid(child(p, "name"), name, m) for m in is_dns1123_label(name))
    num = port.get("port")
    errs.extend(invalid(child(p, "port"), num, m) for m in is_valid_port_num(num or 0))
    proto = port.get("protocol")
    if proto is not None and proto not in PROTOCOLS:
        errs.append(not_supported(child(p, "protocol"), proto, PROTOCOLS))
    target = port.get("targetPort")
    if isinstance(target, int) and target != 0:
        errs.extend(invalid(child(p, "targetPort"), target, m) for m in is_valid_port_num(target))
    elif isinstance(target, str) and target:
        errs.extend(invalid(child(p, "targetPort"), target, m) for m in is_valid_port_name(target))
    node_port = port.get("nodePort")
    if node_port:
        if svc_type not in ("NodePort", "LoadBalancer"):
            errs.append(forbidden(child(p, "nodePort"),
                                  f"may not be used when `type` is '{svc_type}'"))
        elif not NODE_PORT_RANGE[0] <= node_port <= NODE_PORT_RANGE[1]:
            errs.append(invalid(child(p, "nodePort"), node_port,
                                "provided port is not in the valid range. The range of valid "
                                f"ports is {NODE_PORT_RANGE[0]}-{NODE_PORT_RANGE[1]}"))
    return errs


def validate_service(obj: Obj) -> list[FieldError]:
    spec, path = _spec(obj), "spec"
    errs: list[FieldError] = []
    svc_type = spec.get("type") or "ClusterIP"
    if svc_type not in SERVICE_TYPES:
        errs.append(not_supported(child(path, "type"), svc_type, SERVICE_TYPES))
    cluster_ip = spec.get("clusterIP") or ""
    ports = spec.get("ports") or []
    if svc_type == "ExternalName":
        ext = (spec.get("externalName") or "").rstrip(".")
        if not ext:
            errs.append(required(child(path, "externalName")))
        else:
            errs.extend(invalid(child(path, "externalName"), spec["externalName"], m)
                        for m in is_dns1123_subdomain(ext.lower()))
        if cluster_ip:
            errs.append(forbidden(child(path, "clusterIP"),
                                  "may not be set for ExternalName services"))
    elif not ports and cluster_ip != "None":
        errs.append(required(child(path, "ports")))
    if cluster_ip and cluster_ip != "None" and is_valid_ip(cluster_ip):
        errs.append(invalid(child(path, "clusterIP"), cluster_ip,
                            "must be empty, 'None', or a valid IP address"))
    names: set[str] = set()
    seen_ports: set[tuple[Any, Any]] = set()
    seen_node_ports: set[tuple[Any, Any]] = set()
    for i, port in enumerate(ports):
        p = index(child(path, "ports"), i)
        errs.extend(_validate_service_port(port, p, svc_type, len(ports) > 1))
        name = port.get("name") or ""
        if name and name in names:
            errs.append(duplicate(child(p, "name"), name))
        names.add(name)
        proto = port.get("protocol") or "TCP"
        if (port.get("port"), proto) in seen_ports:
            errs.append(duplicate(p, {"port": port.get("port"), "protocol": proto}))
        seen_ports.add((port.get("port"), proto))
        if port.get("nodePort"):
            if (port["nodePort"], proto) in seen_node_ports:
                errs.append(duplicate(child(p, "nodePort"), port["nodePort"]))
            seen_node_ports.add((port["nodePort"], proto))
    errs.extend(validate_labels(spec.get("selector"), child(path, "selector")))
    for fld, allowed in (("sessionAffinity", ("ClientIP", "None")),
                         ("externalTrafficPolicy", ("Cluster", "Local")),
                         ("internalTrafficPolicy", ("Cluster", "Local")),
                         ("ipFamilyPolicy", ("PreferDualStack", "RequireDualStack",
                                             "SingleStack"))):
        value = spec.get(fld)
        if value is not None and value not in allowed:
            errs.append(not_supported(child(path, fld), value, allowed))
    for i, fam in enumerate(spec.get("ipFamilies") or []):
        if fam not in ("IPv4", "IPv6"):
            errs.append(not_supported(index(child(path, "ipFamilies"), i), fam, ("IPv4", "IPv6")))
    for i, ip in enumerate(spec.get("externalIPs") or []):
        errs.extend(invalid(index(child(path, "externalIPs"), i), ip, m) for m in is_valid_ip(ip))
    return errs


def validate_service_update(new: Obj, old: Obj) -> list[FieldError]:
    """clusterIP may not change once allocated (ExternalName services may drop it)."""
    new_spec, old_spec = _spec(new), _spec(old)
    old_ip, new_ip = old_spec.get("clusterIP") or "", new_spec.get("clusterIP") or ""
    if not old_ip or not new_ip or new_spec.get("type") == "ExternalName":
        return []
    return immutable(new_ip, old_ip, "spec.clusterIP")


def validate_endpoints(obj: Obj) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, subset in enumerate(obj.get("subsets") or []):
        p = index("subsets", i)
        for fld in ("addresses", "notReadyAddresses"):
            for j, addr in enumerate(subset.get(fld) or []):
                ap = child(index(child(p, fld), j), "ip")
                errs.extend(invalid(ap, addr.get("ip"), m) for m in is_valid_ip(addr.get("ip", "")))
        ports = subset.get("ports") or []
        for j, port in enumerate(ports):
            pp = index(child(p, "ports"), j)
            if len(ports) > 1 and not port.get("name"):
                errs.append(required(child(pp, "name")))
            num = port.get("port") or 0
            errs.extend(invalid(child(pp, "port"), num, m) for m in is_valid_port_num(num))
    return errs


# ---------------------------------------------------------------- workloads
def _int_or_percent(value: Any, path: str, at_most_100: bool) -> list[FieldError]:
    if isinstance(value, int):
        return _non_negative(value, path)
    if isinstance(value, str):
        msgs = is_valid_percent(value)
        if msgs:
            return [invalid(path, value, m) for m in msgs]
        if at_most_100 and int(value[:-1]) > 100:
            return [invalid(path, value, "must not be greater than 100%")]
    return []


def _is_zero(value: Any) -> bool:
    return value in (0, "0%") or value is None


def _validate_workload(obj: Obj, with_strategy: bool) -> list[FieldError]:
    """The spec rules Deployments and ReplicaSets share: replicas, selector, template."""
    spec, errs = _spec(obj), []
    errs.extend(_non_negative(spec.get("replicas"), "spec.replicas"))
    errs.extend(_non_negative(spec.get("minReadySeconds"), "spec.minReadySeconds"))
    selector = spec.get("selector")
    matcher = None
    if selector is None:
        errs.append(required("spec.selector"))
    elif not selector.get("matchLabels") and not selector.get("matchExpressions"):
        errs.append(invalid("spec.selector", selector, "empty selector is invalid for deployment"))
    else:
        sel_errs = validate_label_selector(selector, "spec.selector")
        errs.extend(sel_errs)
        if not sel_errs:
            try:
                matcher = selector_from_model(selector)
            except ValueError as exc:
                errs.append(invalid("spec.selector", selector, str(exc)))
    template = _dict(spec.get("template"))
    tmeta = _dict(template.get("metadata"))
    labels = tmeta.get("labels") or {}
    errs.extend(validate_labels(tmeta.get("labels"), "spec.template.metadata.labels"))
    errs.extend(validate_annotations(tmeta.get("annotations"),
                                     "spec.template.metadata.annotations"))
    if matcher is not None and not matcher.matches(labels):
        errs.append(invalid("spec.template.metadata.labels", labels,
                            "`selector` does not match template `labels`"))
    tspec = template.get("spec")
    errs.extend(validate_pod_spec(tspec, "spec.template.spec"))
    if isinstance(tspec, dict):
        restart = tspec.get("restartPolicy")
        if restart is not None and restart != "Always":
            errs.append(not_supported("spec.template.spec.restartPolicy", restart, ("Always",)))
        if tspec.get("activeDeadlineSeconds") is not None:
            errs.append(forbidden("spec.template.spec.activeDeadlineSeconds",
                                  "activeDeadlineSeconds in ReplicaSet is not Supported"))
    if with_strategy:
        errs.extend(_validate_deployment_extras(spec))
    return errs


def _validate_deployment_extras(spec: Obj) -> list[FieldError]:
    errs: list[FieldError] = []
    strategy = _dict(spec.get("strategy"))
    stype = strategy.get("type")
    rolling = strategy.get("rollingUpdate")
    if stype is not None and stype not in ("Recreate", "RollingUpdate"):
        errs.append(not_supported("spec.strategy.type", stype, ("Recreate", "RollingUpdate")))
    if stype == "Recreate" and rolling is not None:
        errs.append(forbidden("spec.strategy.rollingUpdate",
                              "may not be specified when strategy `type` is 'Recreate'"))
    if isinstance(rolling, dict) and stype != "Recreate":
        p = "spec.strategy.rollingUpdate"
        unavailable, surge = rolling.get("maxUnavailable"), rolling.get("maxSurge")
        errs.extend(_int_or_percent(unavailable, child(p, "maxUnavailable"), True))
        errs.extend(_int_or_percent(surge, child(p, "maxSurge"), False))
        if "maxUnavailable" in rolling and "maxSurge" in rolling and _is_zero(surge) \
                and _is_zero(unavailable):
            errs.append(invalid(child(p, "maxUnavailable"), unavailable,
                                "may not be 0 when `maxSurge` is 0"))
    errs.extend(_non_negative(spec.get("revisionHistoryLimit"), "spec.revisionHistoryLimit"))
    deadline = spec.get("progressDeadlineSeconds")
    if deadline is not None:
        errs.extend(_non_negative(deadline, "spec.progressDeadlineSeconds"))
        if deadline <= (spec.get("minReadySeconds") or 0):
            errs.append(invalid("spec.progressDeadlineSeconds", deadline,
                                "must be greater than minReadySeconds"))
    return errs


def validate_deployment(obj: Obj) -> list[FieldError]:
    return _validate_workload(obj, with_strategy=True)


def validate_replica_set(obj: Obj) -> list[FieldError]:
    return _validate_workload(obj, with_strategy=False)


def validate_selector_update(new: Obj, old: Obj) -> list[FieldError]:
    """apps/v1 selectors are immutable."""
    return immutable(_spec(new).get("selector"), _spec(old).get("selector"), "spec.selector")


# ---------------------------------------------------------------- namespaces and nodes
def validate_namespace(obj: Obj) -> list[FieldError]:
    return validate_finalizers(_spec(obj).get("finalizers"), "spec.finalizers")


def validate_node(obj: Obj) -> list[FieldError]:
    spec, errs = _spec(obj), []
    cidrs = list(spec.get("podCIDRs") or ([spec["podCIDR"]] if spec.get("podCIDR") else []))
    for i, cidr in enumerate(cidrs):
        try:
            ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            errs.append(invalid(index("spec.podCIDRs", i), cidr, "must be a valid CIDR"))
    seen: set[tuple[str, str]] = set()
    for i, taint in enumerate(spec.get("taints") or []):
        p = index("spec.taints", i)
        tkey, effect = taint.get("key") or "", taint.get("effect") or ""
        errs.extend(invalid(child(p, "key"), tkey, m) for m in is_qualified_name(tkey))
        if effect not in TAINT_EFFECTS:
            errs.append(not_supported(child(p, "effect"), effect, TAINT_EFFECTS))
        if (tkey, effect) in seen:
            errs.append(duplicate(p, {"key": tkey, "effect": effect}))
        seen.add((tkey, effect))
    return errs


def validate_node_update(new: Obj, old: Obj) -> list[FieldError]:
    old_cidr, new_cidr = _spec(old).get("podCIDR"), _spec(new).get("podCIDR")
    if old_cidr and new_cidr != old_cidr:
        return [forbidden("spec.podCIDRs",
                          'node updates may not change podCIDR except from "" to valid')]
    return []


# ---------------------------------------------------------------- config
def _validate_data_keys(obj: Obj, fields: tuple[str, ...], unique: bool) -> list[FieldError]:
    errs: list[FieldError] = []
    total = 0
    seen: set[str] = set()
    for fld in fields:
        for k, v in (obj.get(fld) or {}).items():
            errs.extend(invalid(key(fld, k), k, m) for m in is_config_map_key(k))
            if unique and k in seen:
                errs.append(invalid(key(fld, k), k, "duplicate of key present in data"))
            seen.add(k)
            total += len(str(v))
    if total > MAX_CONFIG_SIZE:
        errs.append(too_long("", MAX_CONFIG_SIZE))
    return errs


def validate_config_map(obj: Obj) -> list[FieldError]:
    return _validate_data_keys(obj, ("data", "binaryData"), unique=True)


_SECRET_REQUIRED_KEYS = {
    "kubernetes.io/tls": ("tls.crt", "tls.key"),
    "kubernetes.io/dockerconfigjson": (".dockerconfigjson",),
    "kubernetes.io/dockercfg": (".dockercfg",),
}


def validate_secret(obj: Obj) -> list[FieldError]:
    errs = _validate_data_keys(obj, ("data", "stringData"), unique=False)
    data = obj.get("data") or {}
    for k, v in data.items():
        try:
            base64.b64decode(v, validate=True)
        except (binascii.Error, ValueError):
            errs.append(invalid(key("data", k), "<secret contents redacted>",
                                "illegal base64 data"))
    stype = obj.get("type") or "Opaque"
    have = set(data) | set(obj.get("stringData") or {})
    for needed in _SECRET_REQUIRED_KEYS.get(stype, ()):
        if needed not in have:
            errs.append(required(key("data", needed)))
    if stype == "kubernetes.io/service-account-token":
        annotations = (obj.get("metadata") or {}).get("annotations") or {}
        if not annotations.get("kubernetes.io/service-account.name"):
            errs.append(required("metadata.annotations[kubernetes.io/service-account.name]"))
    return errs


def validate_config_update(new: Obj, old: Obj, kind: str) -> list[FieldError]:
    """Immutable ConfigMaps/Secrets keep their data; a Secret keeps its type."""
    errs: list[FieldError] = []
    if kind == "Secret":
        errs.extend(immutable(new.get("type") or "Opaque", old.get("type") or "Opaque", "type"))
    if old.get("immutable"):
        if not new.get("immutable"):
            errs.append(forbidden("immutable", "field is immutable when `immutable` is set"))
        fields = ("data", "binaryData") if kind == "ConfigMap" else ("data",)
        for fld in fields:
            if (new.get(fld) or {}) != (old.get(fld) or {}):
                errs.append(forbidden(fld, "field is immutable when `immutable` is set"))
    return errs


def validate_lease(obj: Obj) -> list[FieldError]:
    spec, errs = _spec(obj), []
    duration = spec.get("leaseDurationSeconds")
    if duration is not None and duration <= 0:
        errs.append(invalid("spec.leaseDurationSeconds", duration, "must be greater than 0"))
    errs.extend(_non_negative(spec.get("leaseTransitions"), "spec.leaseTransitions"))
    return errs


__all__ = [
    "validate_config_map", "validate_config_update", "validate_deployment", "validate_endpoints",
    "validate_lease", "validate_namespace", "validate_node", "validate_node_update",
    "validate_replica_set", "validate_secret", "validate_selector_update", "validate_service",
    "validate_service_update",
]
