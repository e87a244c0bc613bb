"""Field errors: what validation and decoding report, rendered as Kubernetes renders them.

`FieldError(type, field, message, bad_value)` mirrors apimachinery's field.Error:
`str(err)` is `spec.replicas: Invalid value: -1: must be greater than or equal to 0`,
`err.reason` is the Status cause reason (`FieldValueInvalid`), `err.body` is the cause
message. `InvalidError` carries a list of them; `invalid_message` builds the Status
message (`Deployment.apps "web" is invalid: ...`). Field paths are strings built with
`child`/`index`/`key`: `spec.template.spec.containers[0].image`, `metadata.labels[app]`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

ERROR_TYPES = {
    "Required": "Required value",
    "Invalid": "Invalid value",
    "TypeInvalid": "Invalid value",
    "Duplicate": "Duplicate value",
    "NotSupported": "Unsupported value",
    "Forbidden": "Forbidden",
    "TooLong": "Too long",
    "TooMany": "Too many",
    "NotFound": "Not found",
    "Internal": "Internal error",
}
_NO_VALUE = ("Required", "Forbidden", "TooLong", "Internal")


def go_repr(value: Any) -> str:
    """A bad value printed the way Go's field errors print it (`"x"`, `5`, `map[...]`)."""
    go = getattr(value, "go_repr", None)
    if callable(go):         # a value that knows how Go prints it (unstructured JSON)
        return str(go())
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict) and value and all(isinstance(v, str) for v in value.values()):
        inner = ", ".join(f"{json.dumps(k)}:{json.dumps(v)}" for k, v in sorted(value.items()))
        return f"map[string]string{{{inner}}}"
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return "[]string{" + ", ".join(json.dumps(v) for v in value) + "}"
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


@dataclass(frozen=True)
class FieldError:
    """One problem with one field. `type` is a key of ERROR_TYPES."""

    type: str
    field: str
    message: str = ""
    bad_value: Any = None

    @property
    def reason(self) -> str:
        """The Status cause reason: FieldValueRequired, FieldValueInvalid, ..."""
        return f"FieldValue{self.type}"

    @property
    def body(self) -> str:
        """The error without the field path (Kubernetes' ErrorBody, the cause message)."""
        label = ERROR_TYPES.get(self.type, self.type)
        text = label if self.type in _NO_VALUE else f"{label}: {go_repr(self.bad_value)}"
        return f"{text}: {self.message}" if self.message else text

    def __str__(self) -> str:
        return f"{self.field}: {self.body}" if self.field else self.body


class InvalidError(ValueError):
    """An object failed decoding or validation; `errors` says where and why."""

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = list(errors)
        super().__init__(aggregate(self.errors))

    def message(self, qualified_kind: str, name: str) -> str:
        return invalid_message(qualified_kind, name, self.errors)

    def causes(self) -> list[dict[str, str]]:
        return causes(self.errors)


def aggregate(errors: list[FieldError]) -> str:
    """One error as itself, several as `[a, b]` (apimachinery's aggregate)."""
    texts: list[str] = []
    for err in errors:
        text = str(err)
        if text not in texts:
            texts.append(text)
    if len(texts) == 1:
        return texts[0]
    return "[" + ", ".join(texts) + "]"


def invalid_message(qualified_kind: str, name: str, errors: list[FieldError]) -> str:
    """`Deployment.apps "web" is invalid: spec.replicas: Invalid value: -1: ...`."""
    return f"{qualified_kind} {json.dumps(name)} is invalid: {aggregate(errors)}"


def causes(errors: list[FieldError]) -> list[dict[str, str]]:
    """Status `details.causes` entries for these errors."""
    return [{"reason": e.reason, "message": e.body, "field": e.field} for e in errors]


# ---------------------------------------------------------------- paths and constructors
def child(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def index(path: str, i: int) -> str:
    return f"{path}[{i}]"


def key(path: str, k: str) -> str:
    return f"{path}[{k}]"


def required(field: str, message: str = "") -> FieldError:
    return FieldError("Required", field, message)


def invalid(field: str, value: Any, message: str) -> FieldError:
    return FieldError("Invalid", field, message, value)


def duplicate(field: str, value: Any) -> FieldError:
    return FieldError("Duplicate", field, "", value)


def not_supported(field: str, value: Any, valid: list[str] | tuple[str, ...]) -> FieldError:
    shown = ", ".join(json.dumps(v) for v in sorted(valid))
    return FieldError("NotSupported", field, f"supported values: {shown}" if valid else "", value)


def forbidden(field: str, message: str) -> FieldError:
    return FieldError("Forbidden", field, message)


def too_long(field: str, max_length: int, unit: str = "bytes") -> FieldError:
    return FieldError("TooLong", field, f"must have at most {max_length} {unit}")


def not_found(field: str, value: Any) -> FieldError:
    return FieldError("NotFound", field, "", value)


__all__ = [
    "ERROR_TYPES", "FieldError", "InvalidError", "aggregate", "causes", "child", "duplicate",
    "forbidden", "go_repr", "index", "invalid", "invalid_message", "key", "not_found",
    "not_supported", "required", "too_long",
]
