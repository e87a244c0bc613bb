"""Decoding: a wire dict in, the clean wire dict out, parsed once through the typed model.

`decode(resource, obj)` validates `obj` against the kind's pydantic model. Type errors become
an `InvalidError` whose FieldErrors carry Kubernetes-style paths (camelCase names, `[i]`
for list items, `[key]` for map keys). Fields the model does not know are dropped and
reported as warnings (`unknown field "spec.template.spec.foo"`), as the apiserver's
`Warning` header reports them; a field sent as null is never a warning.
"""
from __future__ import annotations

import types
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from api.field import FieldError, InvalidError, child, index, invalid, key, required
from api.models import model_for
from api.resources import ResourceInfo

Obj = dict[str, Any]

_TYPE_MESSAGES = {
    "int_type": "must be an integer",
    "int_parsing": "must be an integer",
    "int_from_float": "must be an integer",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "string_type": "must be a string",
    "bool_type": "must be a boolean",
    "bool_parsing": "must be a boolean",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "list_type": "must be an array",
}


def _unwrap(tp: Any) -> tuple[Any, bool]:
    """(the single non-None member of an Optional, is_multi_member_union), looking through
    `Annotated` (IntOrString, Quantity)."""
    while True:
        if get_origin(tp) is Annotated:
            tp = get_args(tp)[0]
        elif get_origin(tp) in (Union, types.UnionType):
            members = [a for a in get_args(tp) if a is not type(None)]
            if len(members) != 1:
                return None, True
            tp = members[0]
        else:
            return tp, False


def _model_field(model: type[BaseModel], part: str) -> tuple[str, Any] | None:
    for name, info in model.model_fields.items():
        if part in (info.alias, name):
            return info.alias or name, info.annotation
    return None


def _loc_to_path(model: type[BaseModel], loc: tuple[Any, ...]) -> str:
    """A pydantic error location as a Kubernetes field path, skipping union member tags."""
    path = ""
    tp: Any = model
    for part in loc:
        tp, is_union = _unwrap(tp)
        origin = get_origin(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel) and isinstance(part, str):
            found = _model_field(tp, part)
            name, tp = found if found else (part, None)
            path = child(path, name)
        elif origin is list and isinstance(part, int):
            path, tp = index(path, part), get_args(tp)[0]
        elif origin is dict and isinstance(part, str):
            path, tp = key(path, part), get_args(tp)[1]
        elif is_union:
            tp = None  # `part` names the union member pydantic tried
            continue
        elif isinstance(part, int):
            path, tp = index(path, part), None
        else:
            path, tp = child(path, str(part)), None
    return path


def field_errors(model: type[BaseModel], exc: ValidationError) -> list[FieldError]:
    """One FieldError per path; the members of a failed union are joined (`int or string`)."""
    by_path: dict[str, tuple[str, Any, list[str]]] = {}
    for e in exc.errors(include_url=False):
        path = _loc_to_path(model, tuple(e["loc"]))
        kind = "Required" if e["type"] == "missing" else "Invalid"
        message = _TYPE_MESSAGES.get(e["type"], e["msg"][:1].lower() + e["msg"][1:])
        if path in by_path:
            by_path[path][2].append(message.removeprefix("must be "))
        else:
            by_path[path] = (kind, e.get("input"), [message])
    errs: list[FieldError] = []
    for path, (kind, value, messages) in by_path.items():
        if kind == "Required":
            errs.append(required(path))
        else:
            errs.append(invalid(path, value, " or ".join(messages)))
    return errs


def unknown_fields(given: Any, kept: Any, path: str = "") -> list[str]:
    """Paths present (and not null) in `given` but missing from `kept`.

    Equal subtrees are skipped whole (a C-speed comparison): equal dicts have the same keys
    all the way down, so only the branches that differ are walked key by key."""
    if given == kept:
        return []
    out: list[str] = []
    if isinstance(given, dict) and isinstance(kept, dict):
        for k, v in given.items():
            p = child(path, k)
            if k in kept:
                out.extend(unknown_fields(v, kept[k], p))
            elif v is not None:
                out.append(p)
    elif isinstance(given, list) and isinstance(kept, list):
        for i, (g, c) in enumerate(zip(given, kept, strict=False)):
            out.extend(unknown_fields(g, c, index(path, i)))
    return out


def decode(resource: ResourceInfo, obj: Obj) -> tuple[Obj, list[str]]:
    """Parse `obj` as `resource`'s kind: (clean wire dict, warnings). Raises InvalidError."""
    if not isinstance(obj, dict):
        raise InvalidError([invalid("", None, "the object must be a JSON object")])
    model = model_for(resource)
    try:
        parsed = model.model_validate(obj)
    except ValidationError as exc:
        raise InvalidError(field_errors(model, exc)) from None
    clean = parsed.to_dict()
    warnings = [f'unknown field "{p}"' for p in unknown_fields(obj, clean)]
    return clean, warnings


__all__ = ["decode", "field_errors", "unknown_fields"]
