"""Validating a CustomResourceDefinition (pure), in kube-apiserver's words where it has them.

Owns `validate_crd(crd)` and `validate_crd_update(new, old)`: the name is
`<plural>.<group>`, the group a domain with a dot, scope `Namespaced` or `Cluster`, names
that are DNS labels (kind may be mixed case), versions with unique DNS-1035 names, exactly
one storage version and at least one served, a structural schema for every version (an
object at the root, a type on every node unless `x-kubernetes-int-or-string` or
`x-kubernetes-preserve-unknown-fields` stands in for it, `items` on every array), printer
columns of a known type and a parseable JSONPath, scale paths under `.spec`/`.status`, and
selectable fields that name a scalar the schema declares.

Out of scope, and refused with a clear error: conversion webhooks
(`spec.conversion.strategy: Webhook`) and `spec.preserveUnknownFields: true`.
"""
from __future__ import annotations

import re
from typing import Any

from api import jsonpath
from api.field import (FieldError, child, duplicate, forbidden, index, invalid, key, required)
from api.names import is_dns1035_label, is_dns1123_subdomain

Obj = dict[str, Any]

COLUMN_TYPES = ("boolean", "date", "integer", "number", "string")
_KIND_RE = re.compile(r"^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$")


def validate_crd(crd: Obj) -> list[FieldError]:
    spec = crd.get("spec") or {}
    errs: list[FieldError] = []
    name = (crd.get("metadata") or {}).get("name") or ""
    names = spec.get("names") or {}
    group = spec.get("group") or ""
    if name and name != f"{names.get('plural', '')}.{group}":
        errs.append(invalid("metadata.name", name, 'must be spec.names.plural+"."+spec.group'))
    if not group:
        errs.append(required("spec.group"))
    elif is_dns1123_subdomain(group):
        errs.extend(invalid("spec.group", group, m) for m in is_dns1123_subdomain(group))
    elif "." not in group:
        errs.append(invalid("spec.group", group, "should be a domain with at least one dot"))
    scope = spec.get("scope")
    if not scope:
        errs.append(required("spec.scope"))
    elif scope not in ("Cluster", "Namespaced"):
        errs.append(FieldError("NotSupported", "spec.scope",
                               'supported values: "Cluster", "Namespaced"', scope))
    errs.extend(_names(names, "spec.names"))
    errs.extend(_versions(spec.get("versions") or [], "spec.versions"))
    conversion = spec.get("conversion") or {}
    if conversion.get("strategy", "None") != "None":
        errs.append(forbidden("spec.conversion.strategy",
                              "conversion webhooks are not supported by pykube: every version "
                              'must convert with strategy "None" (apiVersion changes only)'))
    if spec.get("preserveUnknownFields"):
        errs.append(invalid("spec.preserveUnknownFields", True,
                            "cannot set to true, set x-kubernetes-preserve-unknown-fields to true "
                            "in spec.versions[*].schema instead"))
    return errs


def validate_crd_update(new: Obj, old: Obj) -> list[FieldError]:
    errs = validate_crd(new)
    nspec, ospec = new.get("spec") or {}, old.get("spec") or {}
    if nspec.get("scope") != ospec.get("scope"):
        errs.append(invalid("spec.scope", nspec.get("scope"), "field is immutable"))
    stored = ((new.get("status") or {}).get("storedVersions")) or []
    served = {v.get("name") for v in nspec.get("versions") or []}
    for i, v in enumerate(stored):
        if v not in served:
            errs.append(invalid(index("status.storedVersions", i), v, "must appear in spec.versions"))
    return errs


def _label(value: Any, path: str) -> list[FieldError]:
    if not isinstance(value, str) or not value:
        return [required(path)]
    return [invalid(path, value, m) for m in is_dns1035_label(value)]


def _names(names: Obj, path: str) -> list[FieldError]:
    errs = _label(names.get("plural"), child(path, "plural"))
    if names.get("singular"):
        errs.extend(_label(names["singular"], child(path, "singular")))
    kind = names.get("kind")
    if not kind:
        errs.append(required(child(path, "kind")))
    elif not _KIND_RE.match(kind):
        errs.append(invalid(child(path, "kind"), kind,
                            "may have mixed case, but should otherwise match: "
                            "[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?"))
    list_kind = names.get("listKind")
    if list_kind and list_kind == kind:
        errs.append(invalid(child(path, "listKind"), list_kind, "kind and listKind may not be the same"))
    for i, short in enumerate(names.get("shortNames") or []):
        errs.extend(_label(short, index(child(path, "shortNames"), i)))
    for i, cat in enumerate(names.get("categories") or []):
        errs.extend(_label(cat, index(child(path, "categories"), i)))
    return errs


def _versions(versions: list[Obj], path: str) -> list[FieldError]:
    if not versions:
        return [invalid(path, versions, "must have exactly one version marked as storage version")]
    errs: list[FieldError] = []
    seen: set[str] = set()
    for i, v in enumerate(versions):
        vp = index(path, i)
        name = v.get("name")
        errs.extend(_label(name, child(vp, "name")))
        if name in seen:
            errs.append(duplicate(child(vp, "name"), name))
        seen.add(str(name))
        schema = ((v.get("schema") or {}).get("openAPIV3Schema"))
        sp = child(child(vp, "schema"), "openAPIV3Schema")
        if not schema:
            errs.append(required(sp, "schemas are required"))
        else:
            errs.extend(structural_errors(schema, sp))
        for j, col in enumerate(v.get("additionalPrinterColumns") or []):
            errs.extend(_column(col, index(child(vp, "additionalPrinterColumns"), j)))
        scale = (v.get("subresources") or {}).get("scale")
        if scale:
            errs.extend(_scale(scale, child(child(vp, "subresources"), "scale")))
        for j, sf in enumerate(v.get("selectableFields") or []):
            errs.extend(_selectable(sf.get("jsonPath") or "", schema or {},
                                    child(index(child(vp, "selectableFields"), j), "jsonPath")))
    storage = [v for v in versions if v.get("storage")]
    if len(storage) != 1:
        errs.append(invalid(path, [v.get("name") for v in versions],
                            "must have exactly one version marked as storage version"))
    if not any(v.get("served") for v in versions):
        errs.append(invalid(path, [v.get("name") for v in versions],
                            "must have at least one version marked as served"))
    return errs


def structural_errors(schema: Obj, path: str, root: bool = True) -> list[FieldError]:
    """What keeps a schema from being structural (and so from being served)."""
    errs: list[FieldError] = []
    typ = schema.get("type")
    free = schema.get("x-kubernetes-int-or-string") or schema.get("x-kubernetes-preserve-unknown-fields")
    if root:
        if not typ:
            errs.append(required(child(path, "type"), "must not be empty at the root"))
        elif typ != "object":
            errs.append(invalid(child(path, "type"), typ, "must be object at the root"))
    elif not typ and not free:
        errs.append(required(child(path, "type"), "must not be empty for specified object fields"))
    if typ not in (None, "object", "array", "string", "integer", "number", "boolean"):
        errs.append(FieldError("NotSupported", child(path, "type"),
                               'supported values: "array", "boolean", "integer", "number", '
                               '"object", "string"', typ))
    if typ == "array" and not isinstance(schema.get("items"), dict):
        errs.append(required(child(path, "items"), "must be specified"))
    if "pattern" in schema:
        try:
            re.compile(schema["pattern"])
        except (re.error, TypeError):
            errs.append(invalid(child(path, "pattern"), schema["pattern"],
                                "must be a valid regular expression"))
    for name, sub in (schema.get("properties") or {}).items():
        if isinstance(sub, dict):
            errs.extend(structural_errors(sub, key(child(path, "properties"), name), False))
    items = schema.get("items")
    if isinstance(items, dict):
        errs.extend(structural_errors(items, child(path, "items"), False))
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        if schema.get("properties"):
            errs.append(forbidden(child(path, "additionalProperties"),
                                  "additionalProperties and properties are mutual exclusive"))
        errs.extend(structural_errors(extra, child(path, "additionalProperties"), False))
    return errs


def _column(col: Obj, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    if not col.get("name"):
        errs.append(required(child(path, "name")))
    typ = col.get("type")
    if not typ:
        errs.append(required(child(path, "type")))
    elif typ not in COLUMN_TYPES:
        shown = ", ".join(f'"{t}"' for t in COLUMN_TYPES)
        errs.append(FieldError("NotSupported", child(path, "type"), f"supported values: {shown}", typ))
    jp = col.get("jsonPath") or ""
    if not jp:
        errs.append(required(child(path, "jsonPath")))
    elif not _simple_path(jp):
        errs.append(invalid(child(path, "jsonPath"), jp, "must be a simple json path starting with ."))
    return errs


def _simple_path(path: str) -> bool:
    if not path.startswith("."):
        return False
    try:
        jsonpath.parse(jsonpath.relaxed(path))
    except jsonpath.JSONPathError:
        return False
    return True


def _scale(scale: Obj, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    spec_path = scale.get("specReplicasPath") or ""
    if not spec_path:
        errs.append(required(child(path, "specReplicasPath")))
    elif not spec_path.startswith(".spec."):
        errs.append(invalid(child(path, "specReplicasPath"), spec_path, "should be a json path under .spec"))
    status_path = scale.get("statusReplicasPath") or ""
    if not status_path:
        errs.append(required(child(path, "statusReplicasPath")))
    elif not status_path.startswith(".status."):
        errs.append(invalid(child(path, "statusReplicasPath"), status_path,
                            "should be a json path under .status"))
    sel = scale.get("labelSelectorPath")
    if sel and not (sel.startswith(".spec.") or sel.startswith(".status.")):
        errs.append(invalid(child(path, "labelSelectorPath"), sel,
                            "should be a json path under either .spec or .status"))
    return errs


def schema_at(schema: Obj, dotted: str) -> Obj | None:
    """The schema node a simple `.a.b` path names, None when the schema does not declare it."""
    node: Obj | None = schema
    for part in [p for p in dotted.split(".") if p]:
        if node is None:
            return None
        node = (node.get("properties") or {}).get(part)
    return node


def _selectable(path_text: str, schema: Obj, path: str) -> list[FieldError]:
    if not path_text.startswith(".") or "[" in path_text:
        return [invalid(path, path_text, "must be a simple json path starting with .")]
    node = schema_at(schema, path_text)
    if node is None:
        return [invalid(path, path_text, "is an invalid path: does not refer to a valid field")]
    if node.get("type") not in ("string", "integer", "boolean"):
        return [invalid(path, path_text, "must point to a field of type string, boolean or "
                                          "integer. Enum string fields and strings with formats "
                                          "are allowed.")]
    return []
