"""Object detail (pure): an object's YAML, conditions, Events and owner chain, for the
browser's detail panel. `find_uid` looks an owner up among the objects the user can see.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import yaml

from dashboard.objects import Obj, controller_ref, meta, rv_key


def owner_chain(obj: Obj, find_uid: Callable[[str], Obj | None], limit: int = 10) -> list[Obj]:
    """The controllers above `obj`, nearest first (`kind`, `name`, `uid`, `visible`: False
    when the user cannot see that owner)."""
    chain: list[Obj] = []
    ref = controller_ref(obj)
    while ref is not None and len(chain) < limit:
        owner = find_uid(str(ref.get("uid") or ""))
        chain.append({"kind": ref.get("kind"), "name": ref.get("name"), "uid": ref.get("uid"),
                      "visible": owner is not None})
        ref = controller_ref(owner) if owner is not None else None
    return chain


def events_of(obj: Obj, events: Iterable[Obj]) -> list[Obj]:
    """The Events about `obj` (involvedObject uid), in resourceVersion order."""
    uid = meta(obj).get("uid")
    mine = [e for e in events if (e.get("involvedObject") or e.get("regarding") or {}).get("uid") == uid]
    mine.sort(key=lambda e: rv_key(meta(e).get("resourceVersion")))
    return [{"type": e.get("type"), "reason": e.get("reason"), "message": e.get("message") or e.get("note"),
             "count": e.get("count") or 1, "time": e.get("lastTimestamp") or e.get("eventTime"),
             "component": e.get("reportingController") or e.get("reportingComponent")
             or (e.get("source") or {}).get("component")} for e in mine]


def detail(kind: str, obj: Obj, events: Iterable[Obj], find_uid: Callable[[str], Obj | None]) -> dict[str, Any]:
    shown = {"kind": kind, **obj} if "kind" not in obj else dict(obj)
    shown["metadata"] = {k: v for k, v in meta(obj).items() if k != "managedFields"}  # listed apart
    return {"kind": kind, "namespace": meta(obj).get("namespace") or "", "name": meta(obj).get("name"),
            "uid": meta(obj).get("uid"),
            "yaml": yaml.safe_dump(shown, sort_keys=False, default_flow_style=False),
            "conditions": (obj.get("status") or {}).get("conditions") or [],
            "events": events_of(obj, events), "owners": owner_chain(obj, find_uid),
            "managers": [{"manager": m.get("manager"), "operation": m.get("operation"),
                          "subresource": m.get("subresource") or "", "time": m.get("time")}
                         for m in meta(obj).get("managedFields") or []]}
