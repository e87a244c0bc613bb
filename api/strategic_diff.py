"""Computing strategic merge patches: the diff kubectl sends for `apply`, `edit` and `diff`.

`diff_maps(original, modified, type_name, options)` mirrors apimachinery's diffMaps: keys
added or changed in `modified` (unless `ignore_changes`), `null` for keys removed (unless
`ignore_deletions`), merge lists diffed by merge key with `{key: v, "$patch": "delete"}`
for removed items and `$setElementOrder/<field>` recording the wanted order, merge lists of
scalars with `$deleteFromPrimitiveList/<field>`, and `$retainKeys` for retainKeys fields.
The merge-key table is api.patch_schema; inputs are never mutated.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from api.patch_schema import PatchMeta, lookup

PATCH = "$patch"
RETAIN_KEYS = "$retainKeys"
SET_ORDER = "$setElementOrder/"
DELETE_FROM = "$deleteFromPrimitiveList/"


@dataclass(frozen=True)
class DiffOptions:
    set_element_order: bool = True
    ignore_changes: bool = False     # keep only deletions
    ignore_deletions: bool = False   # keep only additions and changes
    build_retain_keys: bool = False  # set from the field's retainKeys strategy


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "map"
    if isinstance(value, list):
        return "list"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return type(value).__name__


def same(a: Any, b: Any) -> bool:
    """Deep equality that tells booleans from numbers (JSON semantics)."""
    if _kind(a) != _kind(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def diff_maps(original: dict[str, Any], modified: dict[str, Any], type_name: str | None,
              options: DiffOptions = DiffOptions()) -> dict[str, Any]:
    """The strategic patch turning `original` into `modified` (within the options)."""
    patch: dict[str, Any] = {}
    retain: list[str] = []
    for k, new in modified.items():
        if options.build_retain_keys and new is not None:
            retain.append(k)
        if k not in original:
            if not options.ignore_changes:
                patch[k] = new
            continue
        old = original[k]
        if k == PATCH:
            if old != new:
                patch[k] = new
            continue
        if _kind(old) != _kind(new):
            if not options.ignore_changes:
                patch[k] = new
            continue
        meta = lookup(type_name, k)
        child_options = replace(options, build_retain_keys=meta.retain_keys)
        if isinstance(old, dict):
            sub = diff_maps(old, new, meta.type, child_options)
            if sub:
                patch[k] = sub
        elif isinstance(old, list) and meta.strategy == "merge":
            _diff_merge_list(k, old, new, meta, child_options, patch)
        elif not options.ignore_changes and not same(old, new):
            patch[k] = new
    if not options.ignore_deletions:
        for k in original:
            if k not in modified:
                patch[k] = None
    if retain and (patch or any(v is not None and k not in modified for k, v in original.items())):
        patch[RETAIN_KEYS] = sorted(retain)
    return patch


def _diff_merge_list(field: str, old: list[Any], new: list[Any], meta: PatchMeta,
                     options: DiffOptions, patch: dict[str, Any]) -> None:
    additions, deletions, order = diff_lists(old, new, meta, options)
    if additions:
        patch[field] = additions
    if deletions:
        patch[DELETE_FROM + field] = deletions
    if order:
        patch[SET_ORDER + field] = order


def diff_lists(original: list[Any], modified: list[Any], meta: PatchMeta,
               options: DiffOptions) -> tuple[list[Any], list[Any], list[Any]]:
    """(patch list, scalar deletion list, $setElementOrder list) for one merge list."""
    if not original:
        if not modified or options.ignore_changes:
            return [], [], []
        return list(modified), [], []
    items = original + modified
    if any(isinstance(x, list) for x in items):
        raise ValueError("lists of lists are not supported by strategic merge patch")
    if any(isinstance(x, dict) for x in items):
        if not all(isinstance(x, dict) for x in items):
            raise ValueError(f"list element types are not identical: {items}")
        return _diff_lists_of_maps(original, modified, meta, options)
    return _diff_lists_of_scalars(original, modified, options)


def _key_value(item: dict[str, Any], key: str) -> Any:
    if key not in item:
        raise ValueError(f"map: {item} does not contain declared merge key: {key}")
    return item[key]


def _diff_lists_of_maps(original: list[Any], modified: list[Any], meta: PatchMeta,
                        options: DiffOptions) -> tuple[list[Any], list[Any], list[Any]]:
    key = meta.key
    if not key:
        raise ValueError("cannot diff lists of objects without a merge key")
    old_by_key = {str(_key_value(x, key)): x for x in original}
    new_keys = {str(_key_value(x, key)) for x in modified}
    changes: list[Any] = []
    for item in modified:
        old = old_by_key.get(str(item[key]))
        if old is None:
            if not options.ignore_changes:
                changes.append(item)
            continue
        sub = diff_maps(old, item, meta.type, options)
        if sub:
            sub[key] = item[key]
            changes.append(sub)
    deletes = []
    if not options.ignore_deletions:
        gone = sorted((str(x[key]), x[key]) for x in original if str(x[key]) not in new_keys)
        deletes = [{key: value, PATCH: "delete"} for _, value in gone]
    order_same = [str(x[key]) for x in original] == [str(x[key]) for x in modified]
    result = changes + deletes
    order: list[Any] = []
    if options.set_element_order and (
            (not options.ignore_changes and (result or not order_same))
            or (not options.ignore_deletions and result)):
        order = [{key: x[key]} for x in modified]
    return result, [], order


def _diff_lists_of_scalars(original: list[Any], modified: list[Any],
                           options: DiffOptions) -> tuple[list[Any], list[Any], list[Any]]:
    old_strs = {str(x) for x in original}
    new_strs = {str(x) for x in modified}
    additions: list[Any] = []
    if not options.ignore_changes:
        for x in modified:
            if str(x) not in old_strs and x not in additions:
                additions.append(x)
    deletions: list[Any] = []
    if not options.ignore_deletions:
        for x in sorted(original, key=str):
            if str(x) not in new_strs and x not in deletions:
                deletions.append(x)
    order: list[Any] = []
    changed = not same(original, modified)
    if options.set_element_order and ((not options.ignore_deletions and deletions)
                                      or (not options.ignore_changes and changed)):
        order = list(modified)
    return additions, deletions, order


__all__ = ["DiffOptions", "diff_lists", "diff_maps", "same"]
