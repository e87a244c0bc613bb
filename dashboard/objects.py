"""Small pure readers of Kubernetes objects as plain dicts (what the dashboard's informers
hold): metadata fields, owner references, pod phase/readiness/restarts, the field manager
that made a write. No I/O.
"""
from __future__ import annotations

from typing import Any

Obj = dict[str, Any]


def meta(obj: Obj) -> Obj:
    return obj.get("metadata") or {}


def uid(obj: Obj) -> str:
    return str(meta(obj).get("uid") or "")


def name(obj: Obj) -> str:
    return str(meta(obj).get("name") or "")


def namespace(obj: Obj) -> str:
    return str(meta(obj).get("namespace") or "")


def rv_key(rv: str | None) -> tuple[int, str]:
    """Sort key of a resourceVersion: numeric where it is a number (etcd and pykube stores),
    else after all numbers, by text."""
    text = rv or ""
    return (int(text), "") if text.isdigit() else (1 << 62, text)


def owner_uids(obj: Obj) -> list[str]:
    return [str(r.get("uid")) for r in meta(obj).get("ownerReferences") or [] if r.get("uid")]


def controller_ref(obj: Obj) -> Obj | None:
    refs = meta(obj).get("ownerReferences") or []
    return next((r for r in refs if r.get("controller")), refs[0] if refs else None)


def condition(obj: Obj, type_: str) -> Obj | None:
    return next((c for c in (obj.get("status") or {}).get("conditions") or [] if c.get("type") == type_), None)


def pod_ready(pod: Obj) -> bool:
    c = condition(pod, "Ready")
    return bool(c and c.get("status") == "True")


def pod_restarts(pod: Obj) -> int:
    return sum(int(s.get("restartCount") or 0) for s in (pod.get("status") or {}).get("containerStatuses") or [])


def pod_phase(pod: Obj) -> str:
    if meta(pod).get("deletionTimestamp"):
        return "Terminating"
    return str((pod.get("status") or {}).get("phase") or "Pending")


def node_ready(node: Obj) -> bool:
    c = condition(node, "Ready")
    return bool(c and c.get("status") == "True")


def selects(selector: dict[str, str] | None, labels: dict[str, str] | None) -> bool:
    """A Service's (map) selector matches these labels; an empty selector selects nothing."""
    if not selector:
        return False
    labels = labels or {}
    return all(labels.get(k) == v for k, v in selector.items())


def writer(old: Obj | None, new: Obj) -> Obj | None:
    """The managedFields entry of the write `old` -> `new` (its `manager`, `operation`,
    `subresource`, `time`): the entry that is new or has a new time, the latest of them
    (None when managedFields say nothing)."""
    before = {(m.get("manager"), m.get("operation"), m.get("subresource")): m.get("time")
              for m in meta(old or {}).get("managedFields") or []}
    changed = [m for m in meta(new).get("managedFields") or []
               if before.get((m.get("manager"), m.get("operation"), m.get("subresource")), "\0") != m.get("time")]
    if not changed:
        return None
    return max(changed, key=lambda m: str(m.get("time") or ""))


_IGNORED = {("metadata", "resourceVersion"), ("metadata", "managedFields"), ("metadata", "generation")}


def changed_paths(old: Any, new: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """The paths of the fields that differ (a list counts as one field), without the
    fields the apiserver itself keeps (resourceVersion, managedFields, generation)."""
    if prefix[:2] in _IGNORED:
        return []
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[tuple[str, ...]] = []
        for k in sorted(set(old) | set(new)):
            out += changed_paths(old.get(k), new.get(k), prefix + (k,))
        return out
    return [] if old == new else [prefix]


def _owns(fields: Obj, path: tuple[str, ...]) -> bool:
    """A fieldsV1 set holds `path` (or, past a list or map of items it cannot name, its
    deepest named prefix of at least two levels)."""
    node: Any = fields
    for depth, key in enumerate(path):
        child = node.get(f"f:{key}") if isinstance(node, dict) else None
        if child is None:
            return depth >= 2 and isinstance(node, dict) and any(k.startswith(("k:", "v:", "i:")) for k in node)
        node = child
    return True


def field_owner(old: Obj | None, new: Obj) -> Obj | None:
    """The managedFields entry owning most of the fields the write changed: who wrote
    when no entry's time moved (a manager rewriting fields it already owned)."""
    paths = changed_paths(old or {}, new)
    best, best_n = None, 0
    for m in meta(new).get("managedFields") or []:
        n = sum(1 for p in paths if _owns(m.get("fieldsV1") or {}, p))
        if n > best_n or (n == best_n and n and str(m.get("time") or "") > str((best or {}).get("time") or "")):
            best, best_n = m, n
    return best


def event_component(ev: Obj) -> str:
    """Who reported an Event: reportingController (events.k8s.io) or source.component."""
    return str(ev.get("reportingController") or ev.get("reportingComponent")
               or (ev.get("source") or {}).get("component") or "")


def endpoint_pod_uids(obj: Obj) -> list[str]:
    """The pods an EndpointSlice (endpoints[].targetRef) or Endpoints (subsets[].addresses
    and notReadyAddresses) points at."""
    refs = [e.get("targetRef") or {} for e in obj.get("endpoints") or []]
    for s in obj.get("subsets") or []:
        refs += [a.get("targetRef") or {} for a in (s.get("addresses") or []) + (s.get("notReadyAddresses") or [])]
    return [str(r["uid"]) for r in refs if r.get("kind") == "Pod" and r.get("uid")]
