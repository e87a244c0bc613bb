"""client-go's JSONPath templates evaluated over wire dicts (the syntax is parsed in
api.jsonpath_parse).

Owns what kubectl's `-o jsonpath=`, `custom-columns`, `--sort-by` and `wait --for=jsonpath`
compute, and what a CRD's additionalPrinterColumns select on the apiserver:
the values a path selects (missing keys select nothing, as kubectl sets AllowMissingKeys)
and how they print — strings raw, maps and lists as compact JSON with Go's key order and
escaping, several results of one action joined by a space; `go_value` is Go's `%v` for
custom-columns cells.
"""
from __future__ import annotations

import json
import re
from typing import Any

from api.jsonpath_parse import (ROOT, Expr, Field, Filter, Index, JSONPathError, Node, Path, Range,
                                    Recursive, Text, Union_, parse)

__all__ = ["Expr", "JSONPathError", "Node", "Range", "Text", "evaluate", "execute", "go_json",
           "go_scalar", "go_value", "parse", "relaxed", "render", "text_of"]


# ---------------------------------------------------------------- evaluation
def evaluate(path: Path, data: Any, root: Any = None) -> list[Any]:
    """Every value the path selects from `data` (missing keys select nothing)."""
    root = data if root is None else root
    values = [data]
    for seg in path:
        values = _step(seg, values, root)
    return values


def _step(seg: Any, values: list[Any], root: Any) -> list[Any]:
    out: list[Any] = []
    if seg is ROOT:
        return [root]
    if isinstance(seg, Field):
        for v in values:
            if isinstance(v, dict):
                if seg.name == "*":
                    out.extend(v.values())
                elif seg.name in v:
                    out.append(v[seg.name])
        return out
    if isinstance(seg, Recursive):
        for v in values:
            out.extend(_descend(v))
        return out
    if isinstance(seg, Index):
        for v in values:
            if not isinstance(v, list):
                continue
            if seg.single:
                assert seg.start is not None
                idx = seg.start + len(v) if seg.start < 0 else seg.start
                if 0 <= idx < len(v):
                    out.append(v[idx])
            else:
                out.extend(v[slice(seg.start, seg.end, seg.step)])
        return out
    if isinstance(seg, Union_):
        for v in values:
            for branch in seg.branches:
                out.extend(evaluate(branch, v, root))
        return out
    if isinstance(seg, Filter):
        for v in values:
            items = v if isinstance(v, list) else []
            out.extend(item for item in items if _filter_ok(seg, item, root))
        return out
    raise JSONPathError(f"unknown segment {seg!r}")


def _descend(v: Any) -> list[Any]:
    out = [v]
    if isinstance(v, dict):
        for child in v.values():
            out.extend(_descend(child))
    elif isinstance(v, list):
        for child in v:
            out.extend(_descend(child))
    return out


def _filter_ok(f: Filter, item: Any, root: Any) -> bool:
    left = evaluate(f.left, item, root)
    if f.op is None:
        return bool(left)
    rights = evaluate(f.right, item, root) if f.right_is_path else [f.right]
    if not left or not rights:
        return False
    a, b = left[0], rights[0]
    if isinstance(a, (int, float)) and not isinstance(a, bool) and isinstance(b, str):
        try:
            b = float(b)
        except ValueError:
            return f.op == "!="
    try:
        return bool({"==": a == b, "!=": a != b}[f.op] if f.op in ("==", "!=") else {
            "<": lambda: a < b, ">": lambda: a > b,
            "<=": lambda: a <= b, ">=": lambda: a >= b}[f.op]())
    except TypeError:
        return False


def go_json(value: Any) -> str:
    """Compact JSON as Go's encoding/json writes it (sorted keys, HTML-escaped)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def text_of(value: Any) -> str:
    """One result as `-o jsonpath` prints it."""
    if isinstance(value, (dict, list)):
        return go_json(value)
    return go_scalar(value)


def go_scalar(value: Any) -> str:
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return str(value)


def go_value(value: Any) -> str:
    """A value as Go's `%v` prints it (custom-columns cells)."""
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{go_value(value[k])}" for k in sorted(value)) + "]"
    if isinstance(value, list):
        return "[" + " ".join(go_value(v) for v in value) + "]"
    return go_scalar(value)


def execute(nodes: list[Node], data: Any, root: Any = None) -> str:
    """Render parsed nodes against `data`."""
    root = data if root is None else root
    out: list[str] = []
    for node in nodes:
        if isinstance(node, Text):
            out.append(node.text)
        elif isinstance(node, Expr):
            out.append(" ".join(text_of(v) for v in evaluate(node.path, data, root)))
        else:
            for item in evaluate(node.path, data, root):
                out.append(execute(node.body, item, root))
    return "".join(out)


def render(template: str, data: Any) -> str:
    return execute(parse(template), data)


_RELAXED = re.compile(r"^\{\.?([^{}]+)\}$|^\.?([^{}]+)$")


def relaxed(expr: str) -> str:
    """custom-columns / --sort-by: `.a.b`, `a.b`, `{a.b}` and `{.a.b}` all mean `{.a.b}`."""
    if not expr:
        return expr
    m = _RELAXED.match(expr)
    if not m:
        raise JSONPathError("unexpected path string, expected a 'name1.name2' or '.name1.name2' "
                            "or '{name1.name2}' or '{.name1.name2}'")
    return "{." + (m.group(1) or m.group(2)) + "}"
