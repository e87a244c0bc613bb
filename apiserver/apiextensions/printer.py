"""A custom resource's table: its version's `additionalPrinterColumns` (pure).

Owns what kube-apiserver's CRD table convertor does: a Name column, then one column per
printer column (a JSONPath evaluated with missing keys allowed), or Age alone when the
version declares none. Cells as Kubernetes makes them: strings printed by JSONPath (maps and
lists as compact JSON), integers and numbers as numbers, booleans as booleans, dates as a
human duration since then; a path that selects nothing is a null cell.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from api import jsonpath, tables

Obj = dict[str, Any]

DEFAULT_COLUMNS: list[Obj] = [{
    "name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp",
    "description": "CreationTimestamp is a timestamp representing the server time when this "
                   "object was created. It is not guaranteed to be set in happens-before order "
                   "across separate operations. Clients may not set this value. It is "
                   "represented in RFC3339 form and is in UTC.\n\nPopulated by the system. "
                   "Read-only. Null for lists. More info: https://git.k8s.io/community/"
                   "contributors/devel/sig-architecture/api-conventions.md#metadata"}]
NAME = tables.Column("Name", format="name",
                     description="Name must be unique within a namespace. Is required when "
                                 "creating resources, although some resources may allow a client "
                                 "to request the generation of an appropriate name automatically. "
                                 "Name is primarily intended for creation idempotence and "
                                 "configuration definition. Cannot be updated. More info: "
                                 "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names")


class PrinterColumns:
    """The table of one served version."""

    def __init__(self, columns: list[Obj] | None) -> None:
        self.specs = list(columns or DEFAULT_COLUMNS)
        self.paths = [jsonpath.parse(jsonpath.relaxed(c["jsonPath"]))[0].path  # type: ignore[attr-defined]
                      for c in self.specs]
        self.columns = [NAME] + [
            tables.Column(c["name"], c.get("type") or "string", int(c.get("priority") or 0),
                          c.get("format") or "",
                          c.get("description") or
                          f"Custom resource definition column (in JSONPath format): {c['jsonPath']}")
            for c in self.specs]

    def row(self, obj: Obj, now: datetime | None = None) -> list[Any]:
        cells: list[Any] = [(obj.get("metadata") or {}).get("name")]
        for spec, path in zip(self.specs, self.paths):
            values = jsonpath.evaluate(path, obj)
            if not values:
                cells.append(None)
                continue
            cells.append(cell(spec.get("type") or "string", values[0], now))
        return cells


def cell(typ: str, value: Any, now: datetime | None = None) -> Any:
    """One cell as kube-apiserver's cellForJSONValue makes it."""
    if typ == "string":
        return jsonpath.text_of(value) if value is not None else None
    if typ == "integer":
        if isinstance(value, bool):
            return None
        if isinstance(value, int):
            return value
        if isinstance(value, float):
            return int(value)
        return None
    if typ == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
        return value
    if typ == "boolean":
        return value if isinstance(value, bool) else None
    if typ == "date":
        if not isinstance(value, str):
            return None
        t = tables.parse_time(value)
        if t is None:
            return "<invalid>"
        return tables.human_duration(((now or datetime.now(timezone.utc)) - t).total_seconds())
    return value
