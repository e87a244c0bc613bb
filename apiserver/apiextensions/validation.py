"""Validating a custom object against its version's structural schema (pure).

Owns `validate(schema, obj)`: every problem, as `FieldError`s worded as kube-apiserver words
them (kube-openapi's messages inside apimachinery's field errors):

    spec.replicas: Invalid value: "three": spec.replicas in body must be of type integer: "string"
    spec.replicas: Invalid value: 15: spec.replicas in body should be less than or equal to 10
    spec.color: Unsupported value: "pink": supported values: "red", "green"
    spec.image: Required value
    spec.name: Too long: may not be longer than 8

Checked: type (with `nullable`, `x-kubernetes-int-or-string`), required, enum, pattern,
minLength/maxLength, minimum/maximum (and exclusive), multipleOf, minItems/maxItems,
uniqueItems, minProperties/maxProperties, properties, additionalProperties, items, and
allOf/anyOf/oneOf/not. `apiVersion`, `kind` and `metadata` at the root are the ObjectMeta
rules' business, not the schema's. Not checked: `format`, and `x-kubernetes-validations`
(CEL rules), which pykube does not evaluate.
"""
from __future__ import annotations

import json
import re
from typing import Any

from api.field import FieldError, child, index, invalid, required

Schema = dict[str, Any]
_ROOT_META = ("apiVersion", "kind", "metadata")


def validate(schema: Schema, obj: Any) -> list[FieldError]:
    """Every problem with `obj` (a whole custom object) under `schema`."""
    errs: list[FieldError] = []
    root = {k: v for k, v in obj.items() if k not in _ROOT_META} if isinstance(obj, dict) else obj
    root_schema = dict(schema)
    root_schema["required"] = [r for r in schema.get("required") or [] if r not in _ROOT_META]
    _validate(root_schema, root, "", errs)
    return errs


def json_type(value: Any) -> str:
    """The JSON type name kube-openapi reports for a value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _type_ok(want: str, value: Any) -> bool:
    have = json_type(value)
    if want == "number":
        return have in ("number", "integer")
    return have == want


def number_text(n: Any) -> str:
    """A number as Go's %v prints a float64 (10, 1.5)."""
    if isinstance(n, float) and n.is_integer():
        return str(int(n))
    return str(n)


class Unstructured:
    """A list or map from a custom object, printed in field errors as Go prints the
    `interface{}` values kube-apiserver holds (`[]interface {}{"a", 1}`)."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def go_repr(self) -> str:
        return go_interface(self.value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Unstructured) and other.value == self.value


def go_interface(v: Any) -> str:
    if v is None:
        return "interface {}(nil)"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return number_text(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "[]interface {}{" + ", ".join(go_interface(x) for x in v) + "}"
    if isinstance(v, dict):
        inner = ", ".join(f"{json.dumps(k, ensure_ascii=False)}:{go_interface(v[k])}" for k in sorted(v))
        return "map[string]interface {}{" + inner + "}"
    return str(v)


def _bad(v: Any) -> Any:
    return Unstructured(v) if isinstance(v, (list, dict)) else v


def _message(path: str, text: str) -> str:
    return f"{path or '<root>'} in body {text}"


def _validate(s: Schema, v: Any, path: str, errs: list[FieldError]) -> None:
    if v is None:
        if not s.get("nullable") and s.get("type"):
            errs.append(FieldError("TypeInvalid", path,
                                   _message(path, f'must be of type {s["type"]}: "null"'), None))
        return
    if s.get("x-kubernetes-int-or-string"):
        if json_type(v) not in ("integer", "string"):
            errs.append(FieldError("TypeInvalid", path, _message(
                path, f'must be of type integer,string: "{json_type(v)}"'), _bad(v)))
            return
    elif s.get("type") and not _type_ok(s["type"], v):
        errs.append(FieldError("TypeInvalid", path, _message(
            path, f'must be of type {s["type"]}: "{json_type(v)}"'), _bad(v)))
        return
    before = len(errs)
    _enum(s, v, path, errs)
    if isinstance(v, str):
        _string(s, v, path, errs)
    elif isinstance(v, (int, float)) and not isinstance(v, bool):
        _number(s, v, path, errs)
    elif isinstance(v, list):
        _array(s, v, path, errs)
    elif isinstance(v, dict):
        _object(s, v, path, errs)
    if len(errs) == before:
        _combinators(s, v, path, errs)


def _enum(s: Schema, v: Any, path: str, errs: list[FieldError]) -> None:
    enum = s.get("enum")
    if enum is None or v in enum:
        return
    shown = ", ".join(json.dumps(e if isinstance(e, str) else json.dumps(e)) for e in enum)
    errs.append(FieldError("NotSupported", path, f"supported values: {shown}", _bad(v)))


def _string(s: Schema, v: str, path: str, errs: list[FieldError]) -> None:
    if "maxLength" in s and len(v) > s["maxLength"]:
        errs.append(FieldError("TooLong", path, f"may not be longer than {s['maxLength']}", v))
    if "minLength" in s and len(v) < s["minLength"]:
        errs.append(invalid(path, _bad(v), _message(path, f"should be at least {s['minLength']} chars long")))
    pattern = s.get("pattern")
    if pattern is not None:
        try:
            ok = re.search(pattern, v) is not None
        except re.error:
            ok = True     # the CRD's validation rejects bad patterns; never fail here
        if not ok:
            errs.append(invalid(path, _bad(v), _message(path, f"should match '{pattern}'")))


def _number(s: Schema, v: float, path: str, errs: list[FieldError]) -> None:
    if "maximum" in s:
        mx = s["maximum"]
        if s.get("exclusiveMaximum") and v >= mx:
            errs.append(invalid(path, _bad(v), _message(path, f"should be less than {number_text(mx)}")))
        elif v > mx:
            errs.append(invalid(path, _bad(v), _message(path, f"should be less than or equal to {number_text(mx)}")))
    if "minimum" in s:
        mn = s["minimum"]
        if s.get("exclusiveMinimum") and v <= mn:
            errs.append(invalid(path, _bad(v), _message(path, f"should be greater than {number_text(mn)}")))
        elif v < mn:
            errs.append(invalid(path, _bad(v), _message(path, f"should be greater than or equal to {number_text(mn)}")))
    m = s.get("multipleOf")
    if m and (v / m) != int(v / m):
        errs.append(invalid(path, _bad(v), _message(path, f"should be a multiple of {number_text(m)}")))


def _array(s: Schema, v: list[Any], path: str, errs: list[FieldError]) -> None:
    if "maxItems" in s and len(v) > s["maxItems"]:
        n = s["maxItems"]
        errs.append(FieldError("TooMany", path, f"must have at most {n} item{'' if n == 1 else 's'}", len(v)))
    if "minItems" in s and len(v) < s["minItems"]:
        errs.append(invalid(path, _bad(v), _message(path, f"should have at least {s['minItems']} items")))
    if s.get("uniqueItems"):
        seen: list[str] = []
        for item in v:
            enc = json.dumps(item, sort_keys=True)
            if enc in seen:
                errs.append(invalid(path, _bad(v), _message(path, "shouldn't contain duplicates")))
                break
            seen.append(enc)
    items = s.get("items")
    if isinstance(items, dict):
        for i, item in enumerate(v):
            _validate(items, item, index(path, i), errs)


def _object(s: Schema, v: dict[str, Any], path: str, errs: list[FieldError]) -> None:
    for name in s.get("required") or []:
        if name not in v:
            errs.append(required(child(path, name)))
    if "maxProperties" in s and len(v) > s["maxProperties"]:
        n = s["maxProperties"]
        errs.append(FieldError("TooMany", path, f"must have at most {n} item{'' if n == 1 else 's'}", len(v)))
    if "minProperties" in s and len(v) < s["minProperties"]:
        errs.append(invalid(path, _bad(v), _message(path, f"should have at least {s['minProperties']} properties")))
    props: dict[str, Schema] = s.get("properties") or {}
    extra = s.get("additionalProperties")
    for name, value in v.items():
        if name in props:
            _validate(props[name], value, child(path, name), errs)
        elif isinstance(extra, dict):
            _validate(extra, value, child(path, name), errs)   # kube-openapi names map keys so


def _combinators(s: Schema, v: Any, path: str, errs: list[FieldError]) -> None:
    for sub in s.get("allOf") or []:
        _validate(sub, v, path, errs)
    any_of = s.get("anyOf")
    if any_of and not any(_passes(sub, v) for sub in any_of):
        errs.append(invalid(path, _bad(v), _message(path, "must validate at least one schema (anyOf)")))
    one_of = s.get("oneOf")
    if one_of and sum(1 for sub in one_of if _passes(sub, v)) != 1:
        errs.append(invalid(path, _bad(v), _message(path, "must validate one and only one schema (oneOf)")))
    if isinstance(s.get("not"), dict) and _passes(s["not"], v):
        errs.append(invalid(path, _bad(v), _message(path, "shouldn't validate the schema (not)")))


def _passes(s: Schema, v: Any) -> bool:
    errs: list[FieldError] = []
    _validate(s, v, "", errs)
    return not errs
