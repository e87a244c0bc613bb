"""The path of one change (pure): for a selected write, the ordered chain of what followed
and which component did each step, reconstructed from the timeline's entries only:

- *what is related*: the written object, everything owned by it (ownerReferences, to any
  depth), Endpoints/EndpointSlices that list one of those pods (targetRef uids), and the
  Events whose involvedObject is one of them; for a delete (or its start, the
  deletionTimestamp), also the deleted object's
  owner, and what it creates afterwards (a ReplicaSet replacing a deleted pod);
- *what followed*: entries at or after the write's resourceVersion (one global revision
  per store, as etcd's), in resourceVersion order;
- *who*: the field manager of the write (managedFields) or the Event's reporter, named as
  Kubernetes names the actor (`actor`): a controller-manager write on a pod owned by a
  ReplicaSet is the replicaset controller's, an Event about a Deployment reported by the
  controller-manager is the deployment controller's.

The path ends where the same actor writes the same object again (a user's next `kubectl
scale` is a change of its own, with its own path).

Nothing is guessed: a step that left no trace in the API (kube-proxy's iptables rules, for
one) does not appear.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from dashboard.objects import rv_key
from dashboard.timeline import Entry

CONTROLLER_MANAGERS = {"kube-controller-manager", "controller-manager"}
SCHEDULERS = {"kube-scheduler", "default-scheduler", "scheduler"}
KUBELETS = {"kubelet", "hollow-kubelet"}
#: a kind whose objects a controller other than its owner's makes
MADE_BY = {"EndpointSlice": "endpointslice controller", "Endpoints": "endpoints controller"}


def _is_deletion(e: Entry) -> bool:
    """The object went (DELETED) or began to go (its deletionTimestamp was set)."""
    return e.get("source") == "watch" and (e.get("type") == "DELETED" or e.get("reason") == "terminating")


def _is_controller(name: str) -> bool:
    return name.endswith(" controller") or name in ("scheduler", "kubelet")


def actor(e: Entry) -> str:
    """The component that did `e`, in Kubernetes' names."""
    comp = str(e.get("component") or "")
    kind = str(e.get("kind") or "")
    if comp in CONTROLLER_MANAGERS:
        if kind in MADE_BY:
            return MADE_BY[kind]
        if e.get("source") == "event" or e.get("subresource") == "status" or not e.get("ownerKind"):
            return f"{kind.lower()} controller"
        owner = str(e.get("ownerKind") or kind)
        return f"{owner.lower()} controller"
    if comp in SCHEDULERS:
        return "scheduler"
    if comp in KUBELETS:
        return "kubelet"
    if comp.startswith("kubectl"):
        return "kubectl"
    if not comp and _is_deletion(e):
        return "(deleted; the API does not record by whom)"
    return comp or "unknown"


def _related(entries: list[Entry], root: Entry) -> set[str]:
    """The uids tied to `root`: itself, its descendants by ownerReferences and the
    Endpoints/EndpointSlices of those pods; for a delete, its owners and their new
    children. Repeated to a fixed point, since watch streams of different kinds arrive in
    any order."""
    uids = {str(root["uid"])}
    after = [e for e in entries if e.get("source") == "watch" and rv_key(e.get("rv")) >= rv_key(root.get("rv"))]
    parents: set[str] = set(root.get("owners") or []) if _is_deletion(root) else set()
    uids |= parents
    while True:
        grown = set(uids)
        for e in after:
            if e["uid"] in grown:
                continue
            owners = set(e.get("owners") or [])
            if owners & (grown - parents) or set(e.get("pods") or []) & (grown - parents):
                grown.add(e["uid"])
            elif owners & parents and e.get("type") == "ADDED":
                grown.add(e["uid"])
        if grown == uids:
            return uids
        uids = grown


def change_path(entries: Iterable[Entry], root_seq: int) -> list[dict[str, Any]]:
    """The steps after the write with seq `root_seq` (itself first), in resourceVersion
    order. Raises KeyError when no such entry is kept."""
    entries = list(entries)
    root = next((e for e in entries if e.get("seq") == root_seq), None)
    if root is None:
        raise KeyError(root_seq)
    uids = _related(entries, root)
    start = rv_key(root.get("rv"))
    picked = [e for e in entries if e is root or
              (e.get("uid") in uids and rv_key(e.get("rv")) >= start and e.get("seq") != root_seq)]
    picked.sort(key=lambda e: (e is not root, rv_key(e.get("rv")), e.get("seq", 0)))
    who = actor(root)
    if not _is_controller(who) and not _is_deletion(root):
        nxt = next((i for i, e in enumerate(picked) if i and e.get("source") == "watch"
                    and e.get("uid") == root.get("uid") and actor(e) == who), None)
        picked = picked[:nxt]
    return [{"seq": e.get("seq"), "rv": e.get("rv"), "time": e.get("time"), "actor": actor(e),
             "component": e.get("component") or "", "source": e.get("source"), "type": e.get("type"),
             "kind": e.get("kind"), "namespace": e.get("namespace"), "name": e.get("name"),
             "what": e.get("reason"), "message": e.get("message") or ""} for e in picked]


def actors_in_order(steps: list[dict[str, Any]]) -> list[str]:
    """The distinct actors of a path in the order they first acted."""
    seen: list[str] = []
    for s in steps:
        if s["actor"] not in seen:
            seen.append(s["actor"])
    return seen
