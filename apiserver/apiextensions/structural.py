"""Pruning and defaulting a custom object by its version's structural schema (pure).

Owns what kube-apiserver does to a custom object before validating it:
- `prune(schema, obj)`: drop every field the schema does not specify, unless a node says
  `x-kubernetes-preserve-unknown-fields: true` (then its unspecified fields stay, while its
  specified ones are still pruned by their own schemas). `additionalProperties` keeps every
  key and prunes the values; `x-kubernetes-embedded-resource` keeps apiVersion, kind and
  metadata; at the root, apiVersion, kind and metadata always stay. Returns the paths
  dropped, for the `unknown field "spec.foo"` warnings.
- `default(schema, obj)`: fill `default`s of absent properties (and of array items and map
  values), outside in; a null where the schema is not nullable is replaced by the default,
  or dropped when there is none (Kubernetes' PruneNonNullableNullsWithoutDefaults).
Both change `obj` in place and leave values of the wrong type alone (validation names them).
"""
from __future__ import annotations

import copy
from typing import Any

from api.field import child, index

Schema = dict[str, Any]
_META = ("apiVersion", "kind", "metadata")


def prune(schema: Schema, obj: dict[str, Any]) -> list[str]:
    """Drop unspecified fields of a whole custom object; the paths dropped."""
    dropped: list[str] = []
    _prune_object(schema, obj, "", dropped, keep=_META)
    return dropped


def _prune(s: Schema, v: Any, path: str, dropped: list[str]) -> None:
    if isinstance(v, dict):
        keep = _META if s.get("x-kubernetes-embedded-resource") else ()
        _prune_object(s, v, path, dropped, keep)
    elif isinstance(v, list):
        items = s.get("items")
        if isinstance(items, dict):
            for i, item in enumerate(v):
                _prune(items, item, index(path, i), dropped)
        elif not s.get("x-kubernetes-preserve-unknown-fields"):
            pass    # an array without items schema: kept as is (not structural; CRD rejects)


def _prune_object(s: Schema, v: dict[str, Any], path: str, dropped: list[str],
                  keep: tuple[str, ...]) -> None:
    props: dict[str, Schema] = s.get("properties") or {}
    extra = s.get("additionalProperties")
    preserve = bool(s.get("x-kubernetes-preserve-unknown-fields"))
    for name in list(v):
        p = child(path, name)
        if name in props:
            _prune(props[name], v[name], p, dropped)
        elif isinstance(extra, dict):
            _prune(extra, v[name], p, dropped)
        elif name in keep or preserve or extra is True:
            continue
        else:
            del v[name]
            dropped.append(p)


def default(schema: Schema, obj: dict[str, Any]) -> None:
    """Apply the schema's defaults to a whole custom object."""
    _default_object(schema, obj)


def _default(s: Schema, v: Any) -> None:
    if isinstance(v, dict):
        _default_object(s, v)
    elif isinstance(v, list) and isinstance(s.get("items"), dict):
        items = s["items"]
        for i, item in enumerate(v):
            if item is None and not items.get("nullable") and "default" in items:
                v[i] = copy.deepcopy(items["default"])
            _default(items, v[i])


def _default_object(s: Schema, v: dict[str, Any]) -> None:
    props: dict[str, Schema] = s.get("properties") or {}
    for name, ps in props.items():
        if name not in v:
            if "default" in ps:
                v[name] = copy.deepcopy(ps["default"])
        elif v[name] is None and not ps.get("nullable"):
            if "default" in ps:
                v[name] = copy.deepcopy(ps["default"])
            else:
                del v[name]
        if name in v:
            _default(ps, v[name])
    extra = s.get("additionalProperties")
    if isinstance(extra, dict):
        for name in list(v):
            if name in props:
                continue
            if v[name] is None and not extra.get("nullable") and "default" in extra:
                v[name] = copy.deepcopy(extra["default"])
            _default(extra, v[name])
