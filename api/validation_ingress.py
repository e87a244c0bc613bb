"""Validation of networking.k8s.io/v1 Ingress and IngressClass, in Kubernetes' words
(pkg/apis/networking/validation: ValidateIngressSpec, validateIngressBackend,
ValidateIngressClass).

Ingress: rules or a defaultBackend; hosts are DNS names (a wildcard `*.example.com` only as
the whole first label), never IPs; every path has a pathType (Exact and Prefix need an
absolute path without `//`, `/./`, `/../`, `%2f`, nor a `/.` or `/..` ending); a backend is a
Service (name, and a port name or number) or a resource reference, not both; TLS hosts as
rule hosts and secretName a Secret name; the `kubernetes.io/ingress.class` annotation must
agree with spec.ingressClassName. IngressClass: spec.controller is a domain-prefixed path
of at most 250 characters and immutable; parameters reference a kind and name with a
Cluster or Namespace scope.
"""
from __future__ import annotations

import ipaddress
import re
from typing import Any

from api.field import FieldError, forbidden, invalid, not_supported, required, too_long
from api.names import (DNS1123_SUBDOMAIN_FMT, is_dns1035_label, is_dns1123_label, is_dns1123_subdomain,
                       is_path_segment_name, is_valid_port_name, is_valid_port_num, max_len_error, regex_error)

Obj = dict[str, Any]
PATH_TYPES = ("Exact", "ImplementationSpecific", "Prefix")
INVALID_PATH_SEQUENCES = ("//", "/./", "/../", "%2f", "%2F")
INVALID_PATH_SUFFIXES = ("/..", "/.")
INGRESS_CLASS_ANNOTATION = "kubernetes.io/ingress.class"
MAX_CONTROLLER_LEN = 250
PARAMETER_SCOPES = ("Cluster", "Namespace")

WILDCARD_DNS1123_SUBDOMAIN_FMT = r"\*\." + DNS1123_SUBDOMAIN_FMT
WILDCARD_DNS1123_SUBDOMAIN_MSG = ("a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS "
                                  "subdomain, which must consist of lower case alphanumeric characters, '-' or "
                                  "'.' and end with an alphanumeric character")
_WILDCARD_RE = re.compile("^" + WILDCARD_DNS1123_SUBDOMAIN_FMT + "$")
HTTP_PATH_FMT = r"[A-Za-z0-9/\-._~%!$&'()*+,;=:]+"
_HTTP_PATH_RE = re.compile("^" + HTTP_PATH_FMT + "$")


class _GoValue(str):
    """A bad value printed as Go's %#v prints it (field.Invalid's fallback for structs)."""

    def go_repr(self) -> str:
        return str(self)


def is_wildcard_dns1123_subdomain(value: str) -> list[str]:
    errs: list[str] = []
    if len(value) > 253:
        errs.append(max_len_error(253))
    if not _WILDCARD_RE.match(value):
        errs.append(regex_error(WILDCARD_DNS1123_SUBDOMAIN_MSG, WILDCARD_DNS1123_SUBDOMAIN_FMT, "*.example.com"))
    return errs


def _host(host: str, path: str) -> list[FieldError]:
    check = is_wildcard_dns1123_subdomain if "*" in host else is_dns1123_subdomain
    return [invalid(path, host, msg) for msg in check(host)]


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


def _typed_reference(ref: Obj, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    group = ref.get("apiGroup")
    if group is not None:
        errs += [invalid(f"{path}.apiGroup", group, m) for m in is_dns1123_subdomain(group)]
    for fld in ("kind", "name"):
        value = ref.get(fld) or ""
        if not value:
            errs.append(required(f"{path}.{fld}", f"{fld} is required"))
        else:
            errs += [invalid(f"{path}.{fld}", value, m) for m in is_path_segment_name(value)]
    return errs


def validate_backend(backend: Obj, path: str) -> list[FieldError]:
    """validateIngressBackend: a Service (name + port name or number) or a resource."""
    service, resource = backend.get("service"), backend.get("resource")
    if service is not None and resource is not None:
        return [invalid(path, "", "cannot set both resource and service backends")]
    if resource is not None:
        return _typed_reference(resource, f"{path}.resource")
    if service is None:
        return [invalid(path, "", "resource or service backend is required")]
    errs: list[FieldError] = []
    name = service.get("name") or ""
    if not name:
        errs.append(required(f"{path}.service.name"))
    else:
        errs += [invalid(f"{path}.service.name", name, m) for m in is_dns1035_label(name)]
    port = service.get("port") or {}
    pname, pnum = port.get("name") or "", port.get("number") or 0
    if pname and pnum:
        errs.append(invalid(path, "", "cannot set both port name & port number"))
    elif pname:
        errs += [invalid(f"{path}.service.port.name", pname, m) for m in is_valid_port_name(pname)]
    elif pnum:
        errs += [invalid(f"{path}.service.port.number", pnum, m) for m in is_valid_port_num(pnum)]
    else:
        errs.append(required(path, "port name or number is required"))
    return errs


def _http_path(p: Obj, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    path_type, value = p.get("pathType"), p.get("path") or ""
    if path_type is None:
        return [required(f"{path}.pathType", "pathType must be specified")]
    if path_type in ("Exact", "Prefix"):
        if not value.startswith("/"):
            errs.append(invalid(f"{path}.path", value, "must be an absolute path"))
        if value:
            errs += [invalid(f"{path}.path", value, f"must not contain '{seq}'")
                     for seq in INVALID_PATH_SEQUENCES if seq in value]
            errs += [invalid(f"{path}.path", value, f"cannot end with '{suf}'")
                     for suf in INVALID_PATH_SUFFIXES if value.endswith(suf)]
    elif path_type == "ImplementationSpecific":
        if value and not value.startswith("/"):
            errs.append(invalid(f"{path}.path", value, "must be an absolute path"))
    else:
        errs.append(not_supported(f"{path}.pathType", path_type, PATH_TYPES))
    return errs + validate_backend(p.get("backend") or {}, f"{path}.backend")


def _rules(rules: list[Obj], path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, rule in enumerate(rules):
        rp = f"{path}[{i}]"
        host = rule.get("host") or ""
        if host:
            if _is_ip(host):
                errs.append(invalid(f"{rp}.host", host, "must be a DNS name, not an IP address"))
            errs += _host(host, f"{rp}.host")
        http = rule.get("http")
        if http is not None:
            paths = http.get("paths") or []
            if not paths:
                errs.append(required(f"{rp}.http.paths"))
            for j, p in enumerate(paths):
                errs += _http_path(p, f"{rp}.http.paths[{j}]")
    return errs


def _tls(tls: list[Obj], path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, t in enumerate(tls):
        for j, host in enumerate(t.get("hosts") or []):
            errs += _host(host, f"{path}[{i}].hosts[{j}]")
        secret = t.get("secretName") or ""
        if secret:
            errs += [invalid(f"{path}[{i}].secretName", secret, m) for m in is_dns1123_subdomain(secret)]
    return errs


def validate_ingress(obj: Obj) -> list[FieldError]:
    spec = obj.get("spec") or {}
    errs: list[FieldError] = []
    rules, default = spec.get("rules") or [], spec.get("defaultBackend")
    if not rules and default is None:
        errs.append(invalid("spec", _GoValue("[]networking.IngressRule(nil)"),
                            "either `defaultBackend` or `rules` must be specified"))
    if default is not None:
        errs += validate_backend(default, "spec.defaultBackend")
    if rules:
        errs += _rules(rules, "spec.rules")
    if spec.get("tls"):
        errs += _tls(spec["tls"], "spec.tls")
    cls = spec.get("ingressClassName")
    if cls is not None:
        errs += [invalid("spec.ingressClassName", cls, m) for m in is_dns1123_subdomain(cls)]
    annotation = ((obj.get("metadata") or {}).get("annotations") or {}).get(INGRESS_CLASS_ANNOTATION)
    if annotation is not None and cls is not None and annotation != cls:
        errs.append(invalid(f"annotations.{INGRESS_CLASS_ANNOTATION}", annotation,
                            "must match `ingressClassName` when both are specified"))
    return errs


def _domain_prefixed_path(value: str, path: str) -> list[FieldError]:
    if not value:
        return [required(path)]
    parts = value.split("/", 1)
    if len(parts) != 2 or not parts[0] or not parts[1]:
        return [invalid(path, value, 'must be a domain-prefixed path (such as "acme.io/foo")')]
    errs = [invalid(path, parts[0], m) for m in is_dns1123_subdomain(parts[0])]
    if not _HTTP_PATH_RE.match(parts[1]):
        errs.append(invalid(path, parts[1], regex_error("must be a valid path", HTTP_PATH_FMT)))
    return errs


def validate_ingress_class(obj: Obj) -> list[FieldError]:
    spec = obj.get("spec") or {}
    controller = spec.get("controller") or ""
    errs: list[FieldError] = []
    if len(controller) > MAX_CONTROLLER_LEN:
        errs.append(too_long("spec.controller", MAX_CONTROLLER_LEN, "characters"))
    errs += _domain_prefixed_path(controller, "spec.controller")
    params = spec.get("parameters")
    if params is not None:
        pp = "spec.parameters"
        errs += _typed_reference(params, pp)
        scope = params.get("scope")
        if scope is None:
            errs.append(required(f"{pp}.scope"))
        elif scope not in PARAMETER_SCOPES:
            errs.append(not_supported(f"{pp}.scope", scope, PARAMETER_SCOPES))
        elif scope == "Namespace":
            ns = params.get("namespace")
            if ns is None:
                errs.append(required(f"{pp}.namespace", "`parameters.scope` is set to 'Namespace'"))
            else:
                errs += [invalid(f"{pp}.namespace", ns, m) for m in is_dns1123_label(ns)]
        elif params.get("namespace") is not None:
            errs.append(forbidden(f"{pp}.namespace", "`parameters.scope` is set to 'Cluster'"))
    return errs


def validate_ingress_class_update(new: Obj, old: Obj) -> list[FieldError]:
    """spec.controller is immutable."""
    nc = (new.get("spec") or {}).get("controller")
    oc = (old.get("spec") or {}).get("controller")
    if nc != oc:
        return [invalid("spec.controller", nc, "field is immutable")]
    return []


def default_ingress_class(obj: Obj) -> None:
    """SetDefaults_IngressClass: parameters without a scope are Cluster-scoped."""
    params = (obj.get("spec") or {}).get("parameters")
    if isinstance(params, dict) and params.get("scope") is None:
        params["scope"] = "Cluster"
