"""Validation of the rbac.authorization.k8s.io kinds, in Kubernetes' words
(pkg/apis/rbac/validation). A rule naming an unknown verb is accepted, as Kubernetes does,
and a binding to a role that does not exist is accepted too (it grants nothing)."""
from __future__ import annotations

from typing import Any

from api.field import FieldError, index, invalid, not_supported, required

Obj = dict[str, Any]
GROUP = "rbac.authorization.k8s.io"


def _rules(obj: Obj, namespaced: bool) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, rule in enumerate(obj.get("rules") or []):
        path = index("rules", i)
        if not rule.get("verbs"):
            errs.append(required(f"{path}.verbs", "verbs must contain at least one value"))
        if rule.get("nonResourceURLs"):
            if namespaced:
                errs.append(invalid(f"{path}.nonResourceURLs", rule["nonResourceURLs"],
                                    "namespaced rules cannot apply to non-resource URLs"))
            if rule.get("apiGroups") or rule.get("resources"):
                errs.append(invalid(f"{path}.nonResourceURLs", rule["nonResourceURLs"],
                                    "rules cannot apply to both regular resources and non-resource URLs"))
            continue
        if not rule.get("apiGroups"):
            errs.append(required(f"{path}.apiGroups", "resource rules must supply at least one api group"))
        if not rule.get("resources"):
            errs.append(required(f"{path}.resources", "resource rules must supply at least one resource"))
    return errs


def validate_role(obj: Obj) -> list[FieldError]:
    return _rules(obj, namespaced=True)


def validate_cluster_role(obj: Obj) -> list[FieldError]:
    return _rules(obj, namespaced=False)


def _binding(obj: Obj, kinds: tuple[str, ...], cluster: bool) -> list[FieldError]:
    errs: list[FieldError] = []
    ref = obj.get("roleRef") or {}
    if ref.get("apiGroup") != GROUP:
        errs.append(not_supported("roleRef.apiGroup", ref.get("apiGroup") or "", [GROUP]))
    if ref.get("kind") not in kinds:
        errs.append(not_supported("roleRef.kind", ref.get("kind") or "", list(kinds)))
    if not ref.get("name"):
        errs.append(required("roleRef.name"))
    for i, s in enumerate(obj.get("subjects") or []):
        path = index("subjects", i)
        kind = s.get("kind")
        if not s.get("name"):
            errs.append(required(f"{path}.name"))
        if kind == "ServiceAccount":
            if s.get("apiGroup"):
                errs.append(not_supported(f"{path}.apiGroup", s["apiGroup"], [""]))
            if cluster and not s.get("namespace"):
                errs.append(required(f"{path}.namespace"))
        elif kind in ("User", "Group"):
            if s.get("apiGroup") != GROUP:
                errs.append(not_supported(f"{path}.apiGroup", s.get("apiGroup") or "", [GROUP]))
        else:
            errs.append(not_supported(f"{path}.kind", kind or "", ["ServiceAccount", "User", "Group"]))
    return errs


def validate_role_binding(obj: Obj) -> list[FieldError]:
    return _binding(obj, ("Role", "ClusterRole"), cluster=False)


def validate_cluster_role_binding(obj: Obj) -> list[FieldError]:
    return _binding(obj, ("ClusterRole",), cluster=True)


def validate_binding_update(new: Obj, old: Obj) -> list[FieldError]:
    if new.get("roleRef") != old.get("roleRef"):
        return [invalid("roleRef", new.get("roleRef"), "cannot change roleRef")]
    return []
