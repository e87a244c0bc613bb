"""Pod validation: PodSpec, containers, volumes, probes, tolerations, and pod update rules.

Follows Kubernetes' `ValidatePodSpec` and `ValidatePodUpdate` (pkg/apis/core/validation).
Used for Pods (`spec`) and for pod templates in Deployments and ReplicaSets
(`spec.template.spec`), so every function takes the field path it reports under. Fields
that defaulting always fills (restartPolicy, dnsPolicy, imagePullPolicy, protocols) are
checked when present and not required, so validation can run before or after defaulting.
"""
from __future__ import annotations

import copy
from typing import Any

from api.field import (
    FieldError,
    child,
    duplicate,
    forbidden,
    index,
    invalid,
    key,
    not_found,
    not_supported,
    required,
)
from api.names import (
    is_dns1123_label,
    is_dns1123_subdomain,
    is_env_var_name,
    is_qualified_name,
    is_valid_port_name,
    is_valid_port_num,
)
from api.quantity import parse_quantity
from api.validation_meta import validate_labels

RESTART_POLICIES = ("Always", "OnFailure", "Never")
DNS_POLICIES = ("ClusterFirst", "ClusterFirstWithHostNet", "Default", "None")
PULL_POLICIES = ("Always", "IfNotPresent", "Never")
PROTOCOLS = ("SCTP", "TCP", "UDP")
TOLERATION_OPERATORS = ("Equal", "Exists")
TAINT_EFFECTS = ("NoExecute", "NoSchedule", "PreferNoSchedule")
VOLUME_SOURCES = ("emptyDir", "hostPath", "configMap", "secret", "projected", "downwardAPI",
                  "persistentVolumeClaim")
POD_UPDATE_MESSAGE = (
    "pod updates may not change fields other than `spec.containers[*].image`,"
    "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` "
    "(only additions to existing tolerations),`spec.terminationGracePeriodSeconds` "
    "(allow it to be set to 1 if it was previously negative)"
)


def _non_negative(value: Any, path: str) -> list[FieldError]:
    if isinstance(value, int) and value < 0:
        return [invalid(path, value, "must be greater than or equal to 0")]
    return []


def _port_ref(port: Any, path: str) -> list[FieldError]:
    """An IntOrString port: a number in 1-65535 or an IANA_SVC_NAME."""
    if isinstance(port, int):
        return [invalid(path, port, m) for m in is_valid_port_num(port)]
    if isinstance(port, str):
        return [invalid(path, port, m) for m in is_valid_port_name(port)]
    return [required(path)]


# ---------------------------------------------------------------- volumes
def _validate_volumes(volumes: list[dict[str, Any]],
                      path: str) -> tuple[list[FieldError], set[str]]:
    errs: list[FieldError] = []
    names: set[str] = set()
    for i, vol in enumerate(volumes):
        p = index(path, i)
        name = vol.get("name") or ""
        if not name:
            errs.append(required(child(p, "name")))
        else:
            errs.extend(invalid(child(p, "name"), name, m) for m in is_dns1123_label(name))
            if name in names:
                errs.append(duplicate(child(p, "name"), name))
            names.add(name)
        sources = [s for s in VOLUME_SOURCES if vol.get(s) is not None]
        if not sources:
            errs.append(required(p, "must specify a volume type"))
        for extra in sources[1:]:
            errs.append(forbidden(child(p, extra), "may not specify more than 1 volume type"))
        claim = vol.get("persistentVolumeClaim")
        if isinstance(claim, dict) and not claim.get("claimName"):
            errs.append(required(child(child(p, "persistentVolumeClaim"), "claimName")))
        host_path = vol.get("hostPath")
        if isinstance(host_path, dict) and not host_path.get("path"):
            errs.append(required(child(child(p, "hostPath"), "path")))
        for src in ("configMap", "secret", "projected", "downwardAPI"):
            mode = (vol.get(src) or {}).get("defaultMode")
            if isinstance(mode, int) and not 0 <= mode <= 0o777:
                errs.append(invalid(child(child(p, src), "defaultMode"), mode,
                                    "must be a number between 0 and 0777 (octal), both inclusive"))
    return errs, names


# ---------------------------------------------------------------- containers
def _validate_ports(ports: list[dict[str, Any]], path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    names: set[str] = set()
    for i, port in enumerate(ports):
        p = index(path, i)
        cport = port.get("containerPort")
        if not cport:
            errs.append(required(child(p, "containerPort")))
        else:
            errs.extend(invalid(child(p, "containerPort"), cport, m)
                        for m in is_valid_port_num(cport))
        hport = port.get("hostPort")
        if hport:
            errs.extend(invalid(child(p, "hostPort"), hport, m) for m in is_valid_port_num(hport))
        proto = port.get("protocol")
        if proto is not None and proto not in PROTOCOLS:
            errs.append(not_supported(child(p, "protocol"), proto, PROTOCOLS))
        pname = port.get("name")
        if pname:
            msgs = is_valid_port_name(pname)
            errs.extend(invalid(child(p, "name"), pname, m) for m in msgs)
            if not msgs and pname in names:
                errs.append(duplicate(child(p, "name"), pname))
            names.add(pname)
    return errs


def _validate_env(env: list[dict[str, Any]], path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, var in enumerate(env):
        p = index(path, i)
        name = var.get("name") or ""
        if not name:
            errs.append(required(child(p, "name")))
        else:
            errs.extend(invalid(child(p, "name"), name, m) for m in is_env_var_name(name))
        source = var.get("valueFrom")
        if isinstance(source, dict):
            if var.get("value"):
                errs.append(invalid(child(p, "valueFrom"), "", "may not be specified when `value` "
                                                               "is not empty"))
            if len([k for k, v in source.items() if v is not None]) != 1:
                errs.append(invalid(child(p, "valueFrom"), "", "may not have more than one field "
                                                               "specified at a time"))
    return errs


def _validate_probe(probe: Any, path: str, must_succeed_once: bool) -> list[FieldError]:
    if not isinstance(probe, dict):
        return []
    errs: list[FieldError] = []
    handlers = [h for h in ("exec", "httpGet", "tcpSocket", "grpc") if probe.get(h) is not None]
    if not handlers:
        errs.append(required(path, "must specify a handler type"))
    for extra in handlers[1:]:
        errs.append(forbidden(child(path, extra), "may not specify more than 1 handler type"))
    for h in ("httpGet", "tcpSocket"):
        if isinstance(probe.get(h), dict):
            errs.extend(_port_ref(probe[h].get("port"), child(child(path, h), "port")))
    http_get = probe.get("httpGet")
    if isinstance(http_get, dict) and http_get.get("scheme") not in (None, "HTTP", "HTTPS"):
        errs.append(not_supported(child(child(path, "httpGet"), "scheme"), http_get["scheme"],
                                  ("HTTP", "HTTPS")))
    for fld in ("initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold",
                "failureThreshold"):
        errs.extend(_non_negative(probe.get(fld), child(path, fld)))
    if must_succeed_once and probe.get("successThreshold") not in (None, 1):
        errs.append(invalid(child(path, "successThreshold"), probe["successThreshold"],
                            "must be 1"))
    return errs


def _validate_resources(resources: Any, path: str) -> list[FieldError]:
    if not isinstance(resources, dict):
        return []
    errs: list[FieldError] = []
    parsed: dict[str, dict[str, Any]] = {"limits": {}, "requests": {}}
    for section in ("limits", "requests"):
        for res, value in (resources.get(section) or {}).items():
            p = key(child(path, section), res)
            try:
                qty = parse_quantity(value)
            except ValueError as exc:
                errs.append(invalid(p, value, str(exc)))
                continue
            if qty < 0:
                errs.append(invalid(p, value, "must be greater than or equal to 0"))
            parsed[section][res] = (qty, value)
    for res, (req, req_text) in parsed["requests"].items():
        if res in parsed["limits"] and req > parsed["limits"][res][0]:
            errs.append(invalid(child(path, "requests"), str(req_text),
                                f"must be less than or equal to {res} limit of "
                                f"{parsed['limits'][res][1]}"))
    return errs


def _validate_container(c: dict[str, Any], path: str, volumes: set[str],
                        init: bool) -> list[FieldError]:
    errs: list[FieldError] = []
    name = c.get("name") or ""
    if not name:
        errs.append(required(child(path, "name")))
    else:
        errs.extend(invalid(child(path, "name"), name, m) for m in is_dns1123_label(name))
    image = c.get("image")
    if not image:
        errs.append(required(child(path, "image")))
    elif image != image.strip():
        errs.append(invalid(child(path, "image"), image, "must not have leading or trailing "
                                                         "whitespace"))
    policy = c.get("imagePullPolicy")
    if policy is not None and policy not in PULL_POLICIES:
        errs.append(not_supported(child(path, "imagePullPolicy"), policy, PULL_POLICIES))
    policy = c.get("terminationMessagePolicy")
    if policy is not None and policy not in ("File", "FallbackToLogsOnError"):
        errs.append(not_supported(child(path, "terminationMessagePolicy"), policy,
                                  ("File", "FallbackToLogsOnError")))
    errs.extend(_validate_ports(c.get("ports") or [], child(path, "ports")))
    errs.extend(_validate_env(c.get("env") or [], child(path, "env")))
    mount_paths: set[str] = set()
    for i, mount in enumerate(c.get("volumeMounts") or []):
        p = index(child(path, "volumeMounts"), i)
        mname = mount.get("name") or ""
        if not mname:
            errs.append(required(child(p, "name")))
        elif mname not in volumes:
            errs.append(not_found(child(p, "name"), mname))
        mpath = mount.get("mountPath") or ""
        if not mpath:
            errs.append(required(child(p, "mountPath")))
        elif mpath in mount_paths:
            errs.append(invalid(child(p, "mountPath"), mpath, "must be unique"))
        mount_paths.add(mpath)
    if init:
        for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
            if c.get(probe) is not None and c.get("restartPolicy") != "Always":
                errs.append(forbidden(child(path, probe), "may not be set for init containers "
                                                          "without restartPolicy=Always"))
    errs.extend(_validate_probe(c.get("livenessProbe"), child(path, "livenessProbe"), True))
    errs.extend(_validate_probe(c.get("readinessProbe"), child(path, "readinessProbe"), False))
    errs.extend(_validate_probe(c.get("startupProbe"), child(path, "startupProbe"), True))
    errs.extend(_validate_resources(c.get("resources"), child(path, "resources")))
    return errs


def _validate_tolerations(tolerations: list[dict[str, Any]], path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, tol in enumerate(tolerations):
        p = index(path, i)
        tkey, op = tol.get("key") or "", tol.get("operator") or "Equal"
        if tkey:
            errs.extend(invalid(child(p, "key"), tkey, m) for m in is_qualified_name(tkey))
        elif op != "Exists":
            errs.append(invalid(child(p, "operator"), op, "operator must be Exists when `key` is "
                                                          "empty, which means \"match all values "
                                                          "and all keys\""))
        if op not in TOLERATION_OPERATORS:
            errs.append(not_supported(child(p, "operator"), op, TOLERATION_OPERATORS))
        elif op == "Exists" and tol.get("value"):
            errs.append(invalid(child(p, "operator"), tol["value"], "value must be empty when "
                                                                    "`operator` is 'Exists'"))
        effect = tol.get("effect")
        if effect and effect not in TAINT_EFFECTS:
            errs.append(not_supported(child(p, "effect"), effect, TAINT_EFFECTS))
        if tol.get("tolerationSeconds") is not None and effect != "NoExecute":
            errs.append(invalid(child(p, "effect"), effect or "", "effect must be 'NoExecute' when "
                                                                  "`tolerationSeconds` is set"))
    return errs


def validate_pod_spec(spec: Any, path: str) -> list[FieldError]:
    """ValidatePodSpec for the spec at `path` (`spec` or `spec.template.spec`)."""
    if not isinstance(spec, dict):
        return [required(child(path, "containers"))]
    errs, volume_names = _validate_volumes(spec.get("volumes") or [], child(path, "volumes"))
    containers = spec.get("containers") or []
    if not containers:
        errs.append(required(child(path, "containers")))
    seen: set[str] = set()
    for field_name, init in (("initContainers", True), ("containers", False)):
        for i, c in enumerate(spec.get(field_name) or []):
            p = index(child(path, field_name), i)
            errs.extend(_validate_container(c, p, volume_names, init))
            cname = c.get("name")
            if cname and cname in seen:
                errs.append(duplicate(child(p, "name"), cname))
            if cname:
                seen.add(cname)
    restart = spec.get("restartPolicy")
    if restart is not None and restart not in RESTART_POLICIES:
        errs.append(not_supported(child(path, "restartPolicy"), restart, RESTART_POLICIES))
    dns = spec.get("dnsPolicy")
    if dns is not None and dns not in DNS_POLICIES:
        errs.append(not_supported(child(path, "dnsPolicy"), dns, DNS_POLICIES))
    if dns == "None" and not spec.get("dnsConfig"):
        errs.append(required(child(path, "dnsConfig"), "must provide `dnsConfig` when "
                                                       "`dnsPolicy` is None"))
    deadline = spec.get("activeDeadlineSeconds")
    if deadline is not None and not 1 <= deadline <= 2**32 - 1:
        errs.append(invalid(child(path, "activeDeadlineSeconds"), deadline,
                            "must be between 1 and 4294967295, inclusive"))
    for fld, check in (("nodeName", is_dns1123_subdomain), ("serviceAccountName",
                                                             is_dns1123_subdomain),
                       ("hostname", is_dns1123_label), ("subdomain", is_dns1123_label)):
        if spec.get(fld):
            errs.extend(invalid(child(path, fld), spec[fld], m) for m in check(spec[fld]))
    errs.extend(validate_labels(spec.get("nodeSelector"), child(path, "nodeSelector")))
    errs.extend(_validate_tolerations(spec.get("tolerations") or [], child(path, "tolerations")))
    return errs


# ---------------------------------------------------------------- updates
def _diff_paths(a: Any, b: Any, path: str, out: list[str]) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            _diff_paths(a.get(k), b.get(k), child(path, k), out)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _diff_paths(x, y, index(path, i), out)
    elif a != b:
        out.append(path)


def _toleration_subset(old: list[Any], new: list[Any]) -> bool:
    return all(t in new for t in old)


def validate_pod_update(new_spec: Any, old_spec: Any, path: str = "spec") -> list[FieldError]:
    """ValidatePodUpdate's spec rules: only images, activeDeadlineSeconds (shorter), added
    tolerations and terminationGracePeriodSeconds (negative -> 1) may change."""
    new_spec, old_spec = new_spec or {}, old_spec or {}
    errs: list[FieldError] = []
    new_deadline, old_deadline = (new_spec.get("activeDeadlineSeconds"),
                                  old_spec.get("activeDeadlineSeconds"))
    if new_deadline is None and old_deadline is not None:
        errs.append(invalid(child(path, "activeDeadlineSeconds"), None,
                            "must not update from a positive integer to nil value"))
    elif new_deadline is not None and old_deadline is not None and new_deadline > old_deadline:
        errs.append(invalid(child(path, "activeDeadlineSeconds"), new_deadline,
                            "must be less than or equal to previous value"))
    masked = copy.deepcopy(new_spec)
    for fld in ("containers", "initContainers"):
        olds, news = old_spec.get(fld) or [], masked.get(fld) or []
        for i, c in enumerate(news):
            if i < len(olds) and isinstance(c, dict):
                c.pop("image", None)
                if "image" in olds[i]:
                    c["image"] = olds[i]["image"]
    for fld in ("activeDeadlineSeconds",):
        masked.pop(fld, None)
        if fld in old_spec:
            masked[fld] = old_spec[fld]
    old_tols, new_tols = old_spec.get("tolerations") or [], masked.get("tolerations") or []
    if _toleration_subset(old_tols, new_tols):
        masked.pop("tolerations", None)
        if "tolerations" in old_spec:
            masked["tolerations"] = old_spec["tolerations"]
    old_grace = old_spec.get("terminationGracePeriodSeconds")
    new_grace = masked.get("terminationGracePeriodSeconds")
    if isinstance(old_grace, int) and old_grace < 0 and new_grace == 1:
        masked["terminationGracePeriodSeconds"] = old_grace
    if masked != old_spec:
        changed: list[str] = []
        _diff_paths(old_spec, masked, path, changed)
        detail = "\n  changed: " + ", ".join(changed) if changed else ""
        errs.append(forbidden(path, POD_UPDATE_MESSAGE + detail))
    return errs


__all__ = ["POD_UPDATE_MESSAGE", "validate_pod_spec", "validate_pod_update"]
