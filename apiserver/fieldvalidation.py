"""`fieldValidation=Strict|Warn|Ignore`: what a write does about fields the kind does not have
and fields sent twice, in kube-apiserver's words.

- Strict: 400 BadRequest, `<Kind> in version "<v>" cannot be handled as a <Kind>: strict
  decoding error: unknown field "spec.replica", duplicate field "x"`;
- Warn (the default): the write succeeds, each problem a `Warning` header;
- Ignore: dropped silently.
Unknown fields are what the kind's decoding dropped (api/scheme.py); duplicate fields are
found in a JSON body's object keys.
"""
from __future__ import annotations

import json
from typing import Any

from api.resources import ResourceInfo
from apiserver import errors

MODES = ("Strict", "Warn", "Ignore")


def mode(query: dict[str, str]) -> str:
    value = query.get("fieldValidation") or "Warn"
    if value not in MODES:
        raise errors.bad_request(f'fieldValidation "{value}" is invalid: valid values are "Strict", "Warn" '
                                 'and "Ignore"')
    return value


def duplicates(raw: bytes, content_type: str) -> list[str]:
    """`duplicate field "a.b"` for every key a JSON body repeats within one object."""
    if "json" not in content_type or b'"' not in raw:
        return []
    found: list[str] = []

    def walk(value: Any, path: str) -> None:
        if isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, f"{path}[{i}]")
        elif isinstance(value, tuple) and value and value[0] == "__pairs__":
            seen: set[str] = set()
            for k, v in value[1]:
                sub = f"{path}.{k}" if path else k
                if k in seen:
                    found.append(f'duplicate field "{sub}"')
                seen.add(k)
                walk(v, sub)

    try:
        walk(json.loads(raw, object_pairs_hook=lambda pairs: ("__pairs__", pairs)), "")
    except ValueError:
        return []
    return found


def decide(resource: ResourceInfo, how: str, problems: list[str]) -> list[str]:
    """The warnings to send, or raise under Strict. `problems`: `unknown field ...` and
    `duplicate field ...` texts (other warnings pass through untouched)."""
    field_problems = [p for p in problems if p.startswith(("unknown field", "duplicate field"))]
    others = [p for p in problems if p not in field_problems]
    if how == "Ignore":
        return others
    if how == "Strict" and field_problems:
        kind = resource.kind
        raise errors.bad_request(f'{kind} in version "{resource.version}" cannot be handled as a {kind}: '
                                 f"strict decoding error: {', '.join(field_problems)}")
    return problems
