"""`fieldValidation=Strict|Warn|Ignore`: what a write does about fields the kind does not have
and fields sent twice, in kube-apiserver's words and order.

- create and update: a JSON body is read in document order, each problem where it first
  shows: `unknown field "spec.replica"`, `duplicate field "spec.paused"` (a field both
  unknown and repeated is only unknown). A YAML body gives go-yaml's `line 5: key "name"
  already set in map` first, then the unknown fields in key order (kube turns YAML into
  sorted JSON first). Strict: 400 BadRequest, `Deployment in version "v1" cannot be handled
  as a Deployment: strict decoding error: <problems joined with ", ">`;
- merge and strategic merge patches: the patch's duplicate fields, then the unknown fields of
  the patched object in key order; JSON patches: `json patch unknown field "[0].foo"` and
  `json patch duplicate field "[1].path"` for the operations themselves first. Strict: 422
  Invalid on the field `patch`, its value the patched object (merge, JSON patch) or the
  patch as Go prints a map (strategic), as kube-apiserver's patcher reports it;
- apply: go-yaml's duplicate-key lines; Strict: 400 `error strict decoding YAML: ...`;
- Warn (the default when the parameter is absent): the write succeeds and each problem is a
  `Warning` header; Ignore: nothing is reported.

Unknown fields are what the kind's strategy dropped while decoding (its `unknown field "p"`
warnings); everything here is pure over the bytes and objects it is given.
"""
from __future__ import annotations

import json
from typing import Any, Iterator

import yaml

from api.field import child, go_repr, index, invalid, invalid_message, causes
from api.resources import ResourceInfo
from apiserver import errors

MODES = ("Strict", "Warn", "Ignore")
_UNKNOWN = 'unknown field "'
_JSON_PATCH_FIELDS = ("op", "path", "from", "value")


def mode(query: dict[str, str]) -> str:
    value = query.get("fieldValidation") or "Warn"
    if value not in MODES:
        raise errors.bad_request(f'fieldValidation "{value}" is invalid: valid values are "Strict", "Warn" '
                                 'and "Ignore"')
    return value


# ---------------------------------------------------------------- reading bodies
class _Pairs(list):  # type: ignore[type-arg]
    """A JSON object with its keys in order, repeats kept."""


def _pairs(raw: bytes) -> Any:
    try:
        return json.loads(raw, object_pairs_hook=_Pairs)
    except ValueError:
        return None


def _walk(node: Any, path: str = "") -> Iterator[tuple[str, bool]]:
    """(path, is a repeat) of every field, in document order."""
    if isinstance(node, _Pairs):
        seen: set[str] = set()
        for k, v in node:
            p = child(path, k)
            yield p, k in seen
            seen.add(k)
            yield from _walk(v, p)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _walk(v, index(path, i))


def _walk_sorted(node: Any, path: str = "") -> Iterator[str]:
    """Every field path of a decoded object, keys sorted (the order Go decodes JSON made from
    a map)."""
    if isinstance(node, dict):
        for k in sorted(node):
            p = child(path, k)
            yield p
            yield from _walk_sorted(node[k], p)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _walk_sorted(v, index(path, i))


class _DuplicateKeys(yaml.SafeLoader):
    """A YAML loader that notes each key a mapping repeats, with its line."""

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self.repeats: list[str] = []

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            k = key_node.value
            if k in seen:
                self.repeats.append(f'line {key_node.start_mark.line + 1}: key "{k}" already set in map')
            seen.add(k)
        return super().construct_mapping(node, deep)


def yaml_duplicates(raw: bytes) -> list[str]:
    """go-yaml's `line N: key "k" already set in map` for each repeated key."""
    loader = _DuplicateKeys(raw)
    try:
        loader.get_single_data()
    except yaml.YAMLError:
        return []
    finally:
        loader.dispose()
    return loader.repeats


def _split(warnings: list[str]) -> tuple[list[str], list[str]]:
    """(unknown field paths, the other warnings)."""
    unknown = [w[len(_UNKNOWN):-1] for w in warnings if w.startswith(_UNKNOWN) and w.endswith('"')]
    return unknown, [w for w in warnings if not (w.startswith(_UNKNOWN) and w.endswith('"'))]


def _inside(path: str, roots: set[str]) -> bool:
    return any(path == r or path.startswith((r + ".", r + "[")) for r in roots)


def _in_order(paths: list[str], order: list[str]) -> list[str]:
    rank = {p: i for i, p in reversed(list(enumerate(order)))}
    return sorted(paths, key=lambda p: rank.get(p, len(rank)))


def _unknown(paths: list[str]) -> list[str]:
    return [f'unknown field "{p}"' for p in paths]


# ---------------------------------------------------------------- create and update
def body_problems(raw: bytes, content_type: str, unknown: list[str]) -> tuple[list[str], list[str]]:
    """(the problems in kube's order, go-yaml's duplicate lines) of a create/update body."""
    ctype = content_type.split(";")[0].strip().lower()
    if ctype.endswith("yaml"):
        tree = yaml.safe_load(raw) if unknown else None
        return _unknown(_in_order(unknown, list(_walk_sorted(tree)))), yaml_duplicates(raw)
    if "json" not in ctype and ctype:
        return _unknown(unknown), []
    events = list(_walk(_pairs(raw)))
    roots = set(unknown)
    first: dict[str, int] = {}
    ranked: list[tuple[int, str]] = []
    for i, (path, repeat) in enumerate(events):
        first.setdefault(path, i)
        if repeat and not _inside(path, roots):
            ranked.append((i, f'duplicate field "{path}"'))
    ranked += [(first.get(p, len(events)), f'unknown field "{p}"') for p in unknown]
    return [text for _, text in sorted(ranked, key=lambda x: x[0])], []


def body_warnings(resource: ResourceInfo, how: str, raw: bytes, content_type: str,
                  warnings: list[str]) -> list[str]:
    """The warnings a create or update sends; raises 400 under Strict."""
    unknown, others = _split(warnings)
    if how == "Ignore":
        return others
    problems, yaml_lines = body_problems(raw, content_type, unknown)
    if how == "Strict" and (problems or yaml_lines):
        head = ["yaml: unmarshal errors:\n  " + "\n  ".join(yaml_lines)] if yaml_lines else []
        kind = resource.kind
        raise errors.bad_request(f'{kind} in version "{resource.version}" cannot be handled as a {kind}: '
                                 f"strict decoding error: {', '.join(head + problems)}")
    return others + yaml_lines + problems


# ---------------------------------------------------------------- patches
def json_patch_problems(raw: bytes) -> list[str]:
    """Fields of the JSON patch operations themselves that are unknown or repeated."""
    ops = _pairs(raw)
    out: list[str] = []
    for i, op in enumerate(ops if isinstance(ops, list) else []):
        if not isinstance(op, _Pairs):
            continue
        seen: set[str] = set()
        for k, _ in op:
            if k not in _JSON_PATCH_FIELDS:
                out.append(f'json patch unknown field "[{i}].{k}"')
            elif k in seen:
                out.append(f'json patch duplicate field "[{i}].{k}"')
            seen.add(k)
    return out


def patch_warnings(resource: ResourceInfo, how: str, ptype: str, raw: bytes, patch: Any,
                   patched: dict[str, Any], warnings: list[str]) -> list[str]:
    """The warnings a merge, strategic or JSON patch sends; raises 422 under Strict.
    `patched` is the object the patch produced, before the kind dropped anything."""
    unknown, others = _split(warnings)
    if how == "Ignore":
        return others
    if ptype == "json":
        problems = json_patch_problems(raw)
    else:
        problems = [f'duplicate field "{p}"' for p, repeat in _walk(_pairs(raw)) if repeat]
    problems += _unknown(_in_order(unknown, list(_walk_sorted(patched))))
    if how == "Strict" and problems:
        value = go_map(patch) if ptype == "strategic" else \
            json.dumps(patched, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        errs = [invalid("patch", value, "strict decoding error: " + ", ".join(problems))]
        raise errors.APIError(422, "Invalid", invalid_message("", "", errs), {"causes": causes(errs)})
    return others + problems


def apply_warnings(how: str, raw: bytes) -> list[str]:
    """Server-side apply: the repeated keys of the configuration (go-yaml's lines)."""
    if how == "Ignore":
        return []
    lines = yaml_duplicates(raw)
    if how == "Strict" and lines:
        raise errors.bad_request("error strict decoding YAML: error converting YAML to JSON: "
                                 "yaml: unmarshal errors:\n  " + "\n  ".join(lines))
    return lines


def decide(resource: ResourceInfo, how: str, warnings: list[str]) -> list[str]:
    """Unknown fields of an applied configuration: warnings, or 400 under Strict (the other
    warnings pass through)."""
    unknown, others = _split(warnings)
    if how == "Ignore" or not unknown:
        return others
    if how == "Strict":
        kind = resource.kind
        raise errors.bad_request(f'{kind} in version "{resource.version}" cannot be handled as a {kind}: '
                                 f"strict decoding error: {', '.join(_unknown(unknown))}")
    return others + _unknown(unknown)


def go_map(value: Any) -> str:
    """A decoded JSON value as Go's `%+v` prints it (`map[spec:map[paused:false]]`)."""
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{go_map(v)}" for k, v in sorted(value.items())) + "]"
    if isinstance(value, list):
        return "[" + " ".join(go_map(v) for v in value) + "]"
    if value is None:
        return "<nil>"
    if isinstance(value, str):
        return value
    return go_repr(value)


__all__ = ["MODES", "apply_warnings", "body_problems", "body_warnings", "decide", "go_map", "json_patch_problems",
           "mode", "patch_warnings", "yaml_duplicates"]
