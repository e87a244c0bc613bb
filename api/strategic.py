"""Strategic merge patch, as Kubernetes applies and computes it for built-in kinds.

Applying (`strategic_merge_patch`): maps merge recursively and `null` deletes a key; lists
with a merge key (containers by `name`, container ports by `containerPort`, service ports
by `port`, ... see api.patch_schema) merge item by item; merge lists of scalars
(finalizers) are unioned; every other list is replaced. Directives: `$patch: replace |
delete | merge` on a map or inside a list, `$retainKeys`, `$setElementOrder/<field>`,
`$deleteFromPrimitiveList/<field>`. Ordering follows apimachinery: `$setElementOrder`
first, then the order of the patch list, then the live order.

Computing patches (`diff_maps`) lives in api.strategic_diff; `merge_patches` here combines
two computed patches (the three-way merge in api.patch). Inputs are never mutated.
Bad patches raise ValueError.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from api.patch_schema import PatchMeta, lookup, root_type

PATCH = "$patch"
RETAIN_KEYS = "$retainKeys"
SET_ORDER = "$setElementOrder/"
DELETE_FROM = "$deleteFromPrimitiveList/"


# ---------------------------------------------------------------- ordering helpers
def _ident(item: Any, key: str) -> Any:
    return item.get(key) if key and isinstance(item, dict) else item


def _position(order: list[Any], item: Any, key: str) -> int:
    want = _ident(item, key)
    for i, x in enumerate(order):
        if _ident(x, key) == want:
            return i
    return -1


def _sort_by(items: list[Any], order: list[Any], key: str) -> list[Any]:
    """Stable sort by position in `order`; items not in it keep their place at the end."""
    def rank(pair: tuple[int, Any]) -> tuple[int, int]:
        pos = _position(order, pair[1], key)
        return (pos if pos >= 0 else len(order), pair[0])
    return [x for _, x in sorted(enumerate(items), key=rank)]


def _normalize_order(patch_items: list[Any], server_only: list[Any], patch_order: list[Any],
                     server_order: list[Any], key: str) -> list[Any]:
    """apimachinery's normalizeElementOrder + mergeSortedSlice."""
    right = _sort_by(patch_items, patch_order, key)
    left = _sort_by(server_only, server_order, key)
    out: list[Any] = []
    i = j = 0
    while i < len(left) or j < len(right):
        if i >= len(left):
            out.append(right[j])
            j += 1
        elif j >= len(right):
            out.append(left[i])
            i += 1
        else:
            li = _position(server_order, left[i], key)
            ri = _position(server_order, right[j], key)
            if li >= 0 and ri >= 0 and li < ri:
                out.append(left[i])
                i += 1
            else:
                out.append(right[j])
                j += 1
    return out


def _partition(merged: list[Any], by: list[Any], key: str) -> tuple[list[Any], list[Any]]:
    inside: list[Any] = []
    outside: list[Any] = []
    for item in merged:
        (inside if _position(by, item, key) >= 0 else outside).append(item)
    return inside, outside


# ---------------------------------------------------------------- applying
@dataclass(frozen=True)
class _Mode:
    parallel: bool = True       # apply $deleteFromPrimitiveList/$setElementOrder (server side)
    ignore_nulls: bool = True   # drop nulls that match nothing


def _fresh(value: Any, meta: PatchMeta, mode: _Mode) -> Any:
    """A patch value for a key the original lacks: directives processed when applying."""
    if not mode.parallel:
        return value
    if isinstance(value, dict):
        return _merge_map({}, value, meta.type, mode)
    if isinstance(value, list) and meta.strategy == "merge":
        return _merge_list([], value, meta, False, mode)
    return value


def _merge_map(original: dict[str, Any], patch: dict[str, Any], type_name: str | None,
               mode: _Mode) -> dict[str, Any]:
    patch = dict(patch)
    directive = patch.pop(PATCH, None)
    if directive == "replace":
        return _merge_map({}, patch, type_name, mode) if mode.parallel else patch
    if directive == "delete":
        return {}
    if directive not in (None, "merge"):
        raise ValueError(f"unknown patch type: {directive!r} in map: {patch}")
    _apply_retain_keys(original, patch, mode)
    _apply_set_order(original, patch, type_name, mode)
    for k, value in patch.items():
        is_delete_list = False
        if k.startswith(DELETE_FROM):
            if not mode.parallel:
                original[k] = value
                continue
            k, is_delete_list = k[len(DELETE_FROM):], True
            if not isinstance(value, list):
                raise ValueError(f"invalid patch: {DELETE_FROM}{k} must be a list")
        if value is None:
            original.pop(k, None)
            if mode.ignore_nulls:
                continue
        meta = lookup(type_name, k)
        if k not in original:
            if not is_delete_list and not (isinstance(value, dict) and value.get(PATCH) == "delete"
                                           and mode.parallel):
                original[k] = _fresh(value, meta, mode)
            continue
        current = original[k]
        if isinstance(current, dict) and isinstance(value, dict):
            original[k] = _merge_map(current, value, meta.type, mode)
        elif isinstance(current, list) and isinstance(value, list):
            if meta.strategy == "merge":
                original[k] = _merge_list(current, value, meta, is_delete_list, mode)
            else:
                original[k] = value
        elif not is_delete_list:
            original[k] = _fresh(value, meta, mode)
    return original


def _apply_retain_keys(original: dict[str, Any], patch: dict[str, Any], mode: _Mode) -> None:
    if RETAIN_KEYS not in patch:
        return
    keys = patch.pop(RETAIN_KEYS)
    if not mode.parallel:
        if RETAIN_KEYS in original and original[RETAIN_KEYS] != keys:
            raise ValueError(f"{original[RETAIN_KEYS]} and {keys} are not deep equal")
        original[RETAIN_KEYS] = keys
        return
    if not isinstance(keys, list):
        raise ValueError("invalid patch: $retainKeys must be a list of field names")
    for k, v in patch.items():
        if v is not None and not k.startswith(("$", DELETE_FROM, SET_ORDER)) and k not in keys:
            raise ValueError(f"invalid patch: field {k!r} is not listed in $retainKeys {keys}")
    for k in list(original):
        if k not in keys:
            del original[k]


def _apply_set_order(original: dict[str, Any], patch: dict[str, Any], type_name: str | None,
                     mode: _Mode) -> None:
    for directive in [k for k in patch if k.startswith(SET_ORDER)]:
        order = patch.pop(directive)
        if not mode.parallel:
            if directive in original and original[directive] != order:
                raise ValueError(f"invalid patch: conflicting {directive} lists")
            original[directive] = order
        if not isinstance(order, list):
            raise ValueError(f"invalid patch: {directive} must be a list")
        field = directive[len(SET_ORDER):]
        meta = lookup(type_name, field)
        in_original, in_patch = field in original, field in patch
        if not in_original and not in_patch:
            continue
        patch_list = patch.pop(field, None) or []
        _check_order(patch_list, order, meta.key)
        base = original.get(field) or []
        if in_original and in_patch:
            merged = _merge_list(base, patch_list, meta, False, mode)
        elif in_patch:
            merged = _fresh(patch_list, meta, mode) if meta.strategy == "merge" else patch_list
        else:
            merged = base
        inside, outside = _partition(merged, order, meta.key)
        original[field] = _normalize_order(inside, outside, order, base, meta.key)


def _check_order(patch_list: list[Any], order: list[Any], key: str) -> None:
    """Every patch item (but deletions) must appear in the $setElementOrder list, in order."""
    items = [x for x in patch_list if not (isinstance(x, dict) and PATCH in x)]
    pos = 0
    for item in items:
        while pos < len(order) and _ident(order[pos], key) != _ident(item, key):
            pos += 1
        if pos >= len(order):
            raise ValueError(f"the order in patch list {patch_list} doesn't match "
                             f"$setElementOrder list {order}")
        pos += 1


def _merge_list(original: list[Any], patch: list[Any], meta: PatchMeta, is_delete_list: bool,
                mode: _Mode) -> list[Any]:
    if not original and not patch:
        return original
    items = original + patch
    if any(isinstance(x, list) for x in items):
        raise ValueError("lists of lists are not supported by strategic merge patch")
    is_map = any(isinstance(x, dict) for x in items)
    if is_map and not all(isinstance(x, dict) for x in items):
        raise ValueError(f"list element types are not identical: {items}")
    if not is_map:
        if mode.parallel and is_delete_list:
            return [x for x in original if x not in patch]
        merged = []
        for x in items:
            if x not in merged:
                merged.append(x)
        inside, outside = _partition(merged, patch, "")
        return _normalize_order(inside, outside, patch, original, "")
    key = meta.key
    if not key:
        raise ValueError("cannot merge lists without merge key")
    original = list(original)
    plain: list[dict[str, Any]] = []
    replace_all = False
    for item in patch:
        directive = item.get(PATCH)
        if directive is None:
            plain.append(item)
        elif directive == "delete":
            if key not in item:
                raise ValueError(f"map: {item} does not contain declared merge key: {key}")
            original = [x for x in original if x.get(key) != item[key]]
        elif directive == "replace":
            replace_all = True
        elif directive == "merge":
            raise ValueError("merging lists cannot yet be specified in the patch")
        else:
            raise ValueError(f"unknown patch type: {directive!r} in list item: {item}")
    if replace_all:
        return [_fresh(x, PatchMeta(meta.type), mode) for x in plain]
    base = list(original)
    for item in plain:
        if key not in item:
            raise ValueError(f"map: {item} does not contain declared merge key: {key}")
        at = next((i for i, x in enumerate(original) if x.get(key) == item[key]), None)
        if at is None:
            original.append(_fresh(item, PatchMeta(meta.type), mode))
        else:
            original[at] = _merge_map(dict(original[at]), item, meta.type, mode)
    inside, outside = _partition(original, plain, key)
    return _normalize_order(inside, outside, plain, base, key)


def strategic_merge_patch(doc: dict[str, Any], patch: dict[str, Any],
                          kind_path_keys: str | None = None) -> dict[str, Any]:
    """Apply a strategic merge patch to `doc` and return the result (inputs untouched).

    `kind_path_keys` names the kind whose merge-key table applies (default: `doc["kind"]`);
    unknown kinds patch like JSON merge patch except for metadata lists.
    """
    if not isinstance(patch, dict):
        raise ValueError("a strategic merge patch must be a JSON object")
    kind = kind_path_keys or doc.get("kind") or patch.get("kind")
    return _merge_map(copy.deepcopy(doc), copy.deepcopy(patch), root_type(kind), _Mode())


def merge_patches(first: dict[str, Any], second: dict[str, Any], type_name: str) -> dict[str, Any]:
    """Combine two computed patches into one, keeping directives and nulls (client side)."""
    return _merge_map(copy.deepcopy(first), copy.deepcopy(second), type_name,
                      _Mode(parallel=False, ignore_nulls=False))


__all__ = ["merge_patches", "strategic_merge_patch"]
