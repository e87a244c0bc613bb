"""Preparing objects from manifests for writing, and the last-applied annotation.

Owns: mapping a manifest to its resource row (kubectl's "resource mapping not found"
wording), the namespace rules (the object's own namespace, else `-n`, else the context's;
a clash with an explicit `-n` is an error), and the exact bytes kubectl stores in
`kubectl.kubernetes.io/last-applied-configuration` (Go-style compact JSON of the object
without that annotation, keys sorted, with `annotations: {}` kept and a trailing newline),
so kubectl and pykubectl can apply over each other's objects.
"""
from __future__ import annotations

import copy
import json
from typing import TYPE_CHECKING, Any

from api.resources import ResourceInfo, UnknownResourceError, by_kind
from kubectl.errors import CmdError
from api.jsonpath import go_json

if TYPE_CHECKING:
    from kubectl.context import Context
    from kubectl.manifests import Manifest

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
Obj = dict[str, Any]


def info_for(m: Manifest) -> ResourceInfo:
    try:
        return by_kind(str(m.obj.get("apiVersion")), str(m.obj.get("kind")))
    except UnknownResourceError as e:
        raise CmdError(f'resource mapping not found for name: "{m.name}" namespace: '
                       f'"{m.namespace}" from "{m.source}": {e}') from None


def prepared(ctx: Context, m: Manifest) -> tuple[ResourceInfo, Obj]:
    """(its resource row, a copy of the object with its namespace settled)."""
    info = info_for(m)
    obj = copy.deepcopy(m.obj)
    if info.namespaced:
        meta = obj.setdefault("metadata", {})
        own = meta.get("namespace")
        if own and ctx.namespace_explicit and own != ctx.namespace:
            raise CmdError(f'the namespace from the provided object "{own}" does not match the '
                           f'namespace "{ctx.namespace}". You must pass \'--namespace={own}\' '
                           "to perform this operation.")
        meta["namespace"] = own or ctx.namespace
    meta = obj.get("metadata") or {}
    if not meta.get("name") and not meta.get("generateName"):
        raise CmdError(f'error when retrieving current configuration of {info.kind} from '
                       f'"{m.source}" (document {m.document}): resource name may not be empty')
    return info, obj


def last_applied_value(obj: Obj) -> str:
    """The annotation kubectl writes for `obj` (computed without the annotation itself)."""
    clean = copy.deepcopy(obj)
    meta = clean.setdefault("metadata", {})
    annotations = dict(meta.get("annotations") or {})
    annotations.pop(LAST_APPLIED, None)
    meta["annotations"] = annotations
    return go_json(clean) + "\n"


def with_last_applied(obj: Obj) -> Obj:
    """`obj` carrying its own last-applied annotation (what apply creates / diffs with)."""
    value = last_applied_value(obj)
    out = copy.deepcopy(obj)
    meta = out.setdefault("metadata", {})
    annotations = dict(meta.get("annotations") or {})
    annotations[LAST_APPLIED] = value
    meta["annotations"] = annotations
    return out


def original_configuration(live: Obj) -> Obj | None:
    """The last-applied configuration stored on a live object (None when absent)."""
    raw = ((live.get("metadata") or {}).get("annotations") or {}).get(LAST_APPLIED)
    if not raw:
        return None
    try:
        doc = json.loads(raw)
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None
