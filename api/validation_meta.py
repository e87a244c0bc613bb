"""Validation shared by every kind: object metadata, labels, annotations, label selectors.

Rules and messages follow apimachinery's `ValidateObjectMeta`, `ValidateLabels`,
`ValidateAnnotations` and `ValidateLabelSelector`. All functions take wire dicts and a field
path and return a list of FieldErrors (empty when valid).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from api.field import FieldError, child, forbidden, index, invalid, required, too_long
from api.names import is_dns1123_label, is_qualified_name, is_valid_label_value

NameValidator = Callable[[str], list[str]]

TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024
STANDARD_FINALIZERS = ("kubernetes", "orphan", "foregroundDeletion")
_SELECTOR_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


def validate_labels(labels: Any, path: str) -> list[FieldError]:
    if labels is None:
        return []
    if not isinstance(labels, dict):
        return [invalid(path, labels, "must be a map of string keys to string values")]
    errs: list[FieldError] = []
    for k, v in labels.items():
        errs.extend(invalid(path, k, msg) for msg in is_qualified_name(k))
        if not isinstance(v, str):
            errs.append(invalid(path, v, "label values must be strings"))
            continue
        errs.extend(invalid(path, v, msg) for msg in is_valid_label_value(v))
    return errs


def validate_annotations(annotations: Any, path: str) -> list[FieldError]:
    if not annotations:
        return []
    errs: list[FieldError] = []
    total = 0
    for k, v in annotations.items():
        errs.extend(invalid(path, k, msg) for msg in is_qualified_name(k.lower()))
        total += len(k) + len(str(v))
    if total > TOTAL_ANNOTATION_SIZE_LIMIT:
        errs.append(too_long(path, TOTAL_ANNOTATION_SIZE_LIMIT))
    return errs


def validate_finalizers(finalizers: Any, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    for name in finalizers or []:
        msgs = is_qualified_name(name)
        errs.extend(invalid(path, name, msg) for msg in msgs)
        if not msgs and "/" not in name and name not in STANDARD_FINALIZERS:
            errs.append(invalid(path, name, "name is neither a standard finalizer name nor is it "
                                            "fully qualified"))
    return errs


def validate_owner_references(refs: Any, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    controllers: list[str] = []
    for i, ref in enumerate(refs or []):
        p = index(path, i)
        for fld, what in (("apiVersion", "version"), ("kind", "kind"), ("name", "name"),
                          ("uid", "uid")):
            if not ref.get(fld):
                errs.append(invalid(child(p, fld), ref.get(fld, ""), f"{what} must not be empty"))
        if ref.get("controller"):
            controllers.append(f"{ref.get('kind', '')}/{ref.get('name', '')}")
    if len(controllers) > 1:
        owners = ", ".join(controllers)
        errs.append(invalid(path, refs, "Only one reference can have Controller set to true. "
                                        f'Found "true" in references for {owners}'))
    return errs


def _mask_trailing_dash(name: str) -> str:
    return name[:-1] + "a" if len(name) > 1 and name.endswith("-") else name


def validate_object_meta(meta: Any, namespaced: bool, name_fn: NameValidator,
                         path: str = "metadata") -> list[FieldError]:
    """ValidateObjectMeta: name/generateName, namespace, labels, annotations, owners, finalizers."""
    if not isinstance(meta, dict):
        return [required(child(path, "name"), "name or generateName is required")]
    errs: list[FieldError] = []
    name = meta.get("name") or ""
    generate_name = meta.get("generateName") or ""
    if generate_name:
        errs.extend(invalid(child(path, "generateName"), generate_name, msg)
                    for msg in name_fn(_mask_trailing_dash(generate_name)))
    if not name:
        if not generate_name:
            errs.append(required(child(path, "name"), "name or generateName is required"))
    else:
        errs.extend(invalid(child(path, "name"), name, msg) for msg in name_fn(name))
    ns = meta.get("namespace") or ""
    if namespaced:
        if not ns:
            errs.append(required(child(path, "namespace")))
        else:
            errs.extend(invalid(child(path, "namespace"), ns, msg) for msg in is_dns1123_label(ns))
    elif ns:
        errs.append(forbidden(child(path, "namespace"), "not allowed on this type"))
    errs.extend(validate_labels(meta.get("labels"), child(path, "labels")))
    errs.extend(validate_annotations(meta.get("annotations"), child(path, "annotations")))
    errs.extend(validate_owner_references(meta.get("ownerReferences"),
                                          child(path, "ownerReferences")))
    errs.extend(validate_finalizers(meta.get("finalizers"), child(path, "finalizers")))
    return errs


def validate_label_selector(selector: Any, path: str) -> list[FieldError]:
    """ValidateLabelSelector: valid matchLabels and well-formed matchExpressions."""
    if not isinstance(selector, dict):
        return []
    errs = validate_labels(selector.get("matchLabels"), child(path, "matchLabels"))
    for i, expr in enumerate(selector.get("matchExpressions") or []):
        p = index(child(path, "matchExpressions"), i)
        op, values = expr.get("operator", ""), expr.get("values") or []
        if op in ("In", "NotIn"):
            if not values:
                errs.append(required(child(p, "values"),
                                     "must be specified when `operator` is 'In' or 'NotIn'"))
        elif op in ("Exists", "DoesNotExist"):
            if values:
                errs.append(forbidden(child(p, "values"),
                                      "may not be specified when `operator` is 'Exists' or "
                                      "'DoesNotExist'"))
        else:
            errs.append(invalid(child(p, "operator"), op, "not a valid selector operator"))
        errs.extend(invalid(child(p, "key"), expr.get("key", ""), msg)
                    for msg in is_qualified_name(expr.get("key", "")))
        for v in values:
            errs.extend(invalid(child(p, "values"), v, msg) for msg in is_valid_label_value(v))
    return errs


def immutable(new: Any, old: Any, path: str) -> list[FieldError]:
    """`field is immutable` when the value changed."""
    return [] if new == old else [invalid(path, new, "field is immutable")]


__all__ = [
    "immutable", "validate_annotations", "validate_finalizers", "validate_label_selector",
    "validate_labels", "validate_object_meta", "validate_owner_references",
]
