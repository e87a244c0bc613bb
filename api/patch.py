"""The three patch formats the apiserver accepts, and the client-side apply diff.

- `json_merge_patch(doc, patch)`: RFC 7386 (`application/merge-patch+json`).
- `json_patch(doc, ops)`: RFC 6902 (`application/json-patch+json`): add, remove, replace,
  move, copy, test, with RFC 6901 pointers.
- `strategic_merge_patch(doc, patch, kind)`: Kubernetes' strategic merge patch
  (`application/strategic-merge-patch+json`), implemented in api.strategic.
- `three_way_merge(original, modified, current)`: the patch `kubectl apply` sends: what
  `modified` changes relative to `current`, plus `null`s / delete directives for what was
  in `original` (the last-applied configuration) but is no longer in `modified`.

All functions are pure (inputs are never mutated) and raise ValueError on a bad patch.
"""
from __future__ import annotations

import copy
from typing import Any

from api.patch_schema import root_type
from api.strategic import merge_patches, strategic_merge_patch
from api.strategic_diff import DiffOptions, diff_maps, same


# ---------------------------------------------------------------- RFC 7386
def json_merge_patch(doc: Any, patch: Any) -> Any:
    """Apply an RFC 7386 merge patch: objects merge, `null` removes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(doc) if isinstance(doc, dict) else {}
    for k, v in patch.items():
        if v is None:
            result.pop(k, None)
        else:
            result[k] = json_merge_patch(result.get(k), v)
    return result


# ---------------------------------------------------------------- RFC 6902
def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise ValueError(f'invalid JSON pointer "{path}": must start with "/"')
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _list_index(container: list[Any], token: str, path: str, allow_end: bool) -> int:
    if token == "-" and allow_end:
        return len(container)
    if not token.isdigit() or (len(token) > 1 and token.startswith("0")):
        raise ValueError(f'invalid array index "{token}" in path "{path}"')
    i = int(token)
    limit = len(container) if allow_end else len(container) - 1
    if i > limit:
        raise ValueError(f'array index {i} out of bounds in path "{path}"')
    return i


def _parent(doc: Any, path: str) -> tuple[Any, str]:
    tokens = _pointer(path)
    if not tokens:
        raise ValueError("the whole document cannot be the target of this operation")
    node = doc
    for token in tokens[:-1]:
        if isinstance(node, dict):
            if token not in node:
                raise ValueError(f'path "{path}" does not exist: missing "{token}"')
            node = node[token]
        elif isinstance(node, list):
            node = node[_list_index(node, token, path, allow_end=False)]
        else:
            raise ValueError(f'path "{path}" does not exist: "{token}" is not a container')
    return node, tokens[-1]


def _get(doc: Any, path: str) -> Any:
    if path == "":
        return doc
    parent, last = _parent(doc, path)
    if isinstance(parent, dict):
        if last not in parent:
            raise ValueError(f'path "{path}" does not exist')
        return parent[last]
    if isinstance(parent, list):
        return parent[_list_index(parent, last, path, allow_end=False)]
    raise ValueError(f'path "{path}" does not exist')


def _add(doc: Any, path: str, value: Any) -> Any:
    if path == "":
        return value
    parent, last = _parent(doc, path)
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        parent.insert(_list_index(parent, last, path, allow_end=True), value)
    else:
        raise ValueError(f'path "{path}" does not exist')
    return doc


def _remove(doc: Any, path: str) -> Any:
    parent, last = _parent(doc, path)
    if isinstance(parent, dict):
        if last not in parent:
            raise ValueError(f'unable to remove nonexistent key "{last}" at path "{path}"')
        del parent[last]
    elif isinstance(parent, list):
        del parent[_list_index(parent, last, path, allow_end=False)]
    else:
        raise ValueError(f'path "{path}" does not exist')
    return doc


def _field(op: dict[str, Any], name: str, i: int) -> Any:
    if name not in op:
        raise ValueError(f'operation {i} ("{op.get("op")}") is missing "{name}"')
    return op[name]


def json_patch(doc: Any, ops: list[dict[str, Any]]) -> Any:
    """Apply an RFC 6902 JSON patch; the operations apply in order, all or nothing."""
    if not isinstance(ops, list):
        raise ValueError("a JSON patch must be a list of operations")
    result = copy.deepcopy(doc)
    for i, op in enumerate(ops):
        if not isinstance(op, dict):
            raise ValueError(f"operation {i} is not an object")
        name, path = op.get("op"), _field(op, "path", i)
        if not isinstance(path, str):
            raise ValueError(f"operation {i}: path must be a string")
        if name == "add":
            result = _add(result, path, copy.deepcopy(_field(op, "value", i)))
        elif name == "remove":
            result = _remove(result, path)
        elif name == "replace":
            _get(result, path)
            result = _add(_remove(result, path), path, copy.deepcopy(_field(op, "value", i))) \
                if path else copy.deepcopy(_field(op, "value", i))
        elif name in ("move", "copy"):
            source = _field(op, "from", i)
            value = copy.deepcopy(_get(result, source))
            if name == "move":
                if path.startswith(source + "/"):
                    raise ValueError(f'cannot move "{source}" into its own child "{path}"')
                result = _remove(result, source)
            result = _add(result, path, value)
        elif name == "test":
            if not same(_get(result, path), _field(op, "value", i)):
                raise ValueError(f'test operation failed: value at "{path}" is not '
                                 f'{op["value"]!r}')
        else:
            raise ValueError(f'operation {i}: unknown op "{name}"')
    return result


# ---------------------------------------------------------------- three-way merge (apply)
def _merge_diff(old: Any, new: Any, additions: bool, deletions: bool) -> dict[str, Any]:
    """JSON-merge-patch diff from `old` to `new`, keeping additions and/or deletions."""
    patch: dict[str, Any] = {}
    for k, v in new.items():
        if k not in old:
            if additions:
                patch[k] = copy.deepcopy(v)
        elif isinstance(old[k], dict) and isinstance(v, dict):
            sub = _merge_diff(old[k], v, additions, deletions)
            if sub:
                patch[k] = sub
        elif additions and not same(old[k], v):
            patch[k] = copy.deepcopy(v)
    if deletions:
        for k in old:
            if k not in new:
                patch[k] = None
    return patch


def _deep_union(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(first)
    for k, v in second.items():
        if isinstance(out.get(k), dict) and isinstance(v, dict):
            out[k] = _deep_union(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def three_way_merge(original: dict[str, Any] | None, modified: dict[str, Any],
                    current: dict[str, Any] | None, strategic: bool = True,
                    kind: str | None = None) -> dict[str, Any]:
    """The patch `kubectl apply` sends; `{}` when nothing needs to change.

    `original` is the last-applied configuration (None or {} on first apply), `modified` the
    new configuration, `current` the live object. With `strategic` (built-in kinds) the
    result is a strategic merge patch; otherwise a JSON merge patch (lists replaced whole).
    """
    original, current = original or {}, current or {}
    if not strategic:
        deletions = _merge_diff(original, modified, additions=False, deletions=True)
        delta = _merge_diff(current, modified, additions=True, deletions=False)
        return _deep_union(deletions, delta)
    root = root_type(kind or modified.get("kind") or current.get("kind"))
    delta = diff_maps(current, modified, root, DiffOptions(ignore_deletions=True))
    deletions = diff_maps(original, modified, root, DiffOptions(ignore_changes=True))
    return merge_patches(deletions, delta, root)


__all__ = ["json_merge_patch", "json_patch", "strategic_merge_patch", "three_way_merge"]
