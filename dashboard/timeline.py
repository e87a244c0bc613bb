"""The timeline (pure): watch changes and Events as entries, what each change did in a
few words, the filter the browser asks for, and a bounded buffer of recent entries.

An entry is a dict (JSON as is): `seq` (this dashboard's order), `time`, `source`
("watch" | "event"), `type` (ADDED/MODIFIED/DELETED, or the Event's Normal/Warning), the
object's `kind`, `namespace`, `name`, `uid`, `rv` (resourceVersion of the write or of the
Event), `component` (the field manager that wrote, or the Event's reporter), `subresource` (of
the write: `status`, ...), `reason`,
`message`, `owners` (owner uids), `ownerKind` (the controller owner's kind) and `pods` (pod uids an Endpoints/EndpointSlice lists).
Events are entries of their involved object, never watch changes of kind Event.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from dashboard.objects import (Obj, controller_ref, endpoint_pod_uids, event_component, field_owner, meta,
                               node_ready, owner_uids, pod_phase, pod_ready, pod_restarts, writer)

Entry = dict[str, Any]


def _replicas(obj: Obj) -> tuple[Any, Any]:
    return (obj.get("spec") or {}).get("replicas"), (obj.get("status") or {}).get("readyReplicas") or 0


def describe(kind: str, etype: str, old: Obj | None, new: Obj) -> str | None:
    """What a watch change did, in a few words; None for a change worth no line (a node's
    heartbeat, a write that changed nothing the dashboard shows)."""
    if etype == "ADDED":
        return "created"
    if etype == "DELETED":
        return "deleted"
    old = old or {}
    if meta(new).get("deletionTimestamp") and not meta(old).get("deletionTimestamp"):
        return "terminating"
    if kind == "Pod":
        said = []
        node = (new.get("spec") or {}).get("nodeName")
        if node and node != (old.get("spec") or {}).get("nodeName"):
            said.append(f"bound to node {node}")
        if pod_phase(new) != pod_phase(old):
            said.append(f"phase {pod_phase(new)}")
        if pod_ready(new) != pod_ready(old):
            said.append("ready" if pod_ready(new) else "not ready")
        if pod_restarts(new) > pod_restarts(old):
            said.append(f"restarts {pod_restarts(new)}")
        return ", ".join(said) or None
    if kind == "Node":
        if node_ready(new) != node_ready(old):
            return "Ready" if node_ready(new) else "NotReady"
        if (new.get("spec") or {}) != (old.get("spec") or {}):
            return "spec changed"
        return None
    if kind in ("Deployment", "ReplicaSet", "StatefulSet"):
        (want, ready), (want0, ready0) = _replicas(new), _replicas(old)
        if want != want0:
            return f"scaled to {want}"
        if meta(new).get("generation") != meta(old).get("generation"):
            return f"spec changed (generation {meta(new).get('generation')})"
        if ready != ready0:
            return f"ready {ready}/{want}"
        return None
    if kind in ("EndpointSlice", "Endpoints"):
        n, n0 = len(endpoint_pod_uids(new)), len(endpoint_pod_uids(old))
        return f"{n} endpoints" if n != n0 else ("endpoints changed" if new != old else None)
    if meta(new).get("generation") != meta(old).get("generation"):
        return f"spec changed (generation {meta(new).get('generation')})"
    return "updated"


def from_watch(kind: str, etype: str, old: Obj | None, new: Obj, now: str) -> Entry | None:
    """The entry of one watch change (None when `describe` finds nothing worth a line)."""
    what = describe(kind, etype, old, new)
    if what is None:
        return None
    m = meta(new)
    moved = writer(old, new) if etype != "DELETED" else None   # an entry whose time moved
    who = moved or (field_owner(old, new) if etype == "MODIFIED" else None)
    return {"source": "watch", "type": etype, "kind": kind, "namespace": m.get("namespace") or "",
            "name": m.get("name") or "", "uid": m.get("uid") or "", "rv": m.get("resourceVersion") or "",
            "time": (meta(new).get("creationTimestamp") if etype == "ADDED" else (moved or {}).get("time")) or now,
            "component": (who or {}).get("manager") or "", "subresource": (who or {}).get("subresource") or "",
            "reason": what, "message": "",
            "owners": owner_uids(new), "ownerKind": (controller_ref(new) or {}).get("kind") or "",
            "pods": endpoint_pod_uids(new) if kind in ("EndpointSlice", "Endpoints") else []}


def from_event(ev: Obj) -> Entry:
    """The entry of an Event (core/v1 or events.k8s.io/v1 shape), on its involved object."""
    inv = ev.get("involvedObject") or ev.get("regarding") or {}
    m = meta(ev)
    return {"source": "event", "type": ev.get("type") or "Normal", "kind": inv.get("kind") or "",
            "namespace": inv.get("namespace") or m.get("namespace") or "", "name": inv.get("name") or "",
            "uid": inv.get("uid") or "", "rv": m.get("resourceVersion") or "",
            "time": ev.get("lastTimestamp") or ev.get("eventTime") or ev.get("firstTimestamp")
            or m.get("creationTimestamp") or "",
            "component": event_component(ev), "reason": ev.get("reason") or "",
            "message": ev.get("message") or ev.get("note") or "", "subresource": "", "owners": [], "ownerKind": "", "pods": [],
            "count": ev.get("count") or 1, "event": m.get("name") or ""}


@dataclass(frozen=True)
class Filter:
    """What the browser filters on; empty fields match everything. `name` and `component`
    match substrings, case-insensitive; `since` keeps entries after that seq."""

    namespace: str = ""
    kind: str = ""
    name: str = ""
    component: str = ""
    since: int = 0

    @classmethod
    def from_query(cls, q: dict[str, str]) -> Filter:
        since = q.get("since", "0")
        return cls(q.get("namespace", ""), q.get("kind", ""), q.get("name", ""), q.get("component", ""),
                   int(since) if since.isdigit() else 0)

    def matches(self, e: Entry) -> bool:
        return (e.get("seq", 0) > self.since
                and (not self.namespace or e.get("namespace") == self.namespace)
                and (not self.kind or str(e.get("kind", "")).lower() == self.kind.lower())
                and (not self.name or self.name.lower() in str(e.get("name", "")).lower())
                and (not self.component or self.component.lower() in str(e.get("component", "")).lower()))


class Timeline:
    """The last `size` entries in arrival order, each given the next `seq`. An Event seen
    again (its count went up) is a new entry; the same Event at the same resourceVersion
    (a relist) is not."""

    def __init__(self, size: int = 5000) -> None:
        self.entries: deque[Entry] = deque(maxlen=size)
        self.seq = 0
        self._seen_events: dict[str, str] = {}

    def add(self, entry: Entry) -> Entry | None:
        """Append `entry` (given its seq); None when it repeats an Event already recorded."""
        if entry.get("source") == "event":
            key = f"{entry.get('namespace')}/{entry.get('event')}"
            if self._seen_events.get(key) == entry.get("rv"):
                return None
            self._seen_events[key] = str(entry.get("rv"))
        self.seq += 1
        entry = {**entry, "seq": self.seq}
        self.entries.append(entry)
        return entry

    def query(self, f: Filter, limit: int = 1000) -> list[Entry]:
        hits = [e for e in self.entries if f.matches(e)]
        return hits[-limit:]

