"""The Namespace controller: empties a Terminating namespace, then finalizes it.

A deleted namespace is kept by the apiserver (phase Terminating) while its
`spec.finalizers` holds "kubernetes". This controller deletes every namespaced object in
it (every namespaced built-in kind, and the custom ones discovery lists), waits
(re-queueing) until they are all gone, and then PUTs `/api/v1/namespaces/{name}/finalize` without "kubernetes", after which
the apiserver removes the namespace.

Invariants:
- Nothing happens to a namespace without deletionTimestamp.
- The content is read from the apiserver, not a cache: finalizing on a stale cache would
  leave orphans behind.
- Objects already being deleted are not deleted again; ones held by finalizers or
  graceful pod termination are waited for (GC and kubelets finish them).
- status.conditions tell the user what is left (NamespaceContentRemaining,
  NamespaceFinalizersRemaining), written only when they change.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

from api.meta import now_rfc3339
from api.models import Namespace
from api.models.core import NamespaceSpec, NamespaceStatus
from api.resources import RESOURCES, ResourceInfo
from client.discovery import server_resources
from client.errors import APIError, Conflict, NotFound
from controllers.base import Controller

log = logging.getLogger(__name__)

FINALIZER = "kubernetes"
# workload controllers first, so they stop re-creating what is being deleted
_FIRST = ("Deployment", "ReplicaSet")
DELETE_COLLECTION_TIMEOUT = 600.0   # seconds: the server deletes a collection one object at a time
NAMESPACED: tuple[ResourceInfo, ...] = tuple(sorted(
    (r for r in RESOURCES if r.namespaced),
    key=lambda r: _FIRST.index(r.kind) if r.kind in _FIRST else len(_FIRST)))


@dataclass
class Remaining:
    """What is still in a namespace: counts by `plural.group` and the finalizers holding it."""

    counts: dict[str, int] = field(default_factory=dict)
    finalizers: dict[str, int] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.counts


def content_conditions(rem: Remaining) -> list[dict[str, Any]]:
    """Namespace status conditions describing what remains (pure; times filled by caller)."""
    conds = []
    if rem.counts:
        what = ", ".join(f"{k} has {v} resource instances" for k, v in sorted(rem.counts.items()))
        conds.append({"type": "NamespaceContentRemaining", "status": "True",
                      "reason": "SomeResourcesRemain", "message": f"Some resources are remaining: {what}"})
    else:
        conds.append({"type": "NamespaceContentRemaining", "status": "False",
                      "reason": "ContentRemoved", "message": "All content successfully removed"})
    if rem.finalizers:
        what = ", ".join(f"{k} in {v} resource instances" for k, v in sorted(rem.finalizers.items()))
        conds.append({"type": "NamespaceFinalizersRemaining", "status": "True",
                      "reason": "SomeFinalizersRemain",
                      "message": f"Some content in the namespace has finalizers remaining: {what}"})
    else:
        conds.append({"type": "NamespaceFinalizersRemaining", "status": "False",
                      "reason": "ContentHasNoFinalizers", "message": "All content-preserving finalizers finished"})
    return conds


class NamespaceController(Controller):
    NAME = "namespace-controller"

    def __init__(self, *args: Any, requeue_seconds: float = 0.5,
                 discover: Callable[[Any], Awaitable[list[ResourceInfo]]] = server_resources,
                 **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.discover = discover
        self.namespaces = self.watch(Namespace)
        self.requeue_seconds = requeue_seconds

    async def reconcile(self, key: str) -> None:
        ns: Namespace | None = self.namespaces.store.get(key)
        if ns is None or not ns.metadata.deletion_timestamp:
            return
        if FINALIZER not in ((ns.spec.finalizers if ns.spec else None) or []):
            return
        rem = await self.delete_content(key)
        await self._set_conditions(ns, rem)
        if not rem.empty:
            self.requeue_after(key, self.requeue_seconds)
            return
        await self.finalize(ns)

    async def delete_content(self, namespace: str) -> Remaining:
        """Delete everything in `namespace`; answers what was still there."""
        rem = Remaining()
        for info in await self.namespaced_resources():
            # as Kubernetes' namespace deleter: one DeleteCollection where the resource has
            # it (thousands of Events go in one request), then a list of what is left
            collected = "deletecollection" in info.verbs and await self._delete_collection(info, namespace)
            items = (await self.client.list_all(info, namespace)).items
            if not items:
                continue
            rem.counts[info.group_resource] = len(items)
            for obj in items:
                for f in (obj.get("metadata") or {}).get("finalizers") or []:
                    rem.finalizers[f] = rem.finalizers.get(f, 0) + 1
            if not collected:
                await asyncio.gather(*(self._delete(info, namespace, obj["metadata"])
                                       for obj in items
                                       if not obj["metadata"].get("deletionTimestamp")))
        return rem

    async def _delete_collection(self, info: ResourceInfo, namespace: str) -> bool:
        """DELETE the namespace's collection of `info`; False when the server refuses the verb."""
        try:
            await self.client.request("DELETE", info.path(namespace), params={"propagationPolicy": "Background"},
                                      timeout=DELETE_COLLECTION_TIMEOUT)
        except NotFound:
            return True
        except APIError as e:
            if e.code in (405, 403):
                return False
            raise
        return True

    async def namespaced_resources(self) -> list[ResourceInfo]:
        """The built-in namespaced kinds, then the custom ones the server serves (one row
        per resource, its preferred version; read from discovery each time, so a CRD made
        a moment ago is emptied too)."""
        out = list(NAMESPACED)
        try:
            served = await self.discover(self.client)
        except APIError as e:
            log.warning("discovery failed (%s); emptying built-in kinds only", e)
            return out
        seen = {(r.group, r.plural) for r in RESOURCES}
        for r in served:
            if r.namespaced and "delete" in r.verbs and "list" in r.verbs and \
                    (r.group, r.plural) not in seen:
                seen.add((r.group, r.plural))
                out.append(r)
        return out

    async def _delete(self, info: ResourceInfo, namespace: str, meta: dict[str, Any]) -> None:
        try:
            await self.client.delete(info, meta["name"], namespace,
                                     propagation_policy="Background",
                                     preconditions={"uid": meta["uid"]})
        except (NotFound, Conflict):
            pass

    async def finalize(self, ns: Namespace) -> None:
        body = ns.model_copy(deep=True)
        spec = body.spec or NamespaceSpec()
        spec.finalizers = [f for f in spec.finalizers or [] if f != FINALIZER]
        body.spec = spec
        try:
            await self.client.request("PUT", Namespace.RESOURCE.path(None, ns.name, "finalize"),
                                      json=body.to_dict())
        except NotFound:
            return
        log.info("namespace %s: content removed, finalized", ns.name)

    async def _set_conditions(self, ns: Namespace, rem: Remaining) -> None:
        old = list((ns.status.conditions if ns.status else None) or [])
        by_type = {c.get("type"): c for c in old}
        new = []
        changed = False
        for cond in content_conditions(rem):
            prev = by_type.pop(cond["type"], None)
            same = prev is not None and all(prev.get(k) == cond[k] for k in cond)
            changed |= not same
            if prev is not None and prev.get("status") == cond["status"]:
                cond["lastTransitionTime"] = prev.get("lastTransitionTime") or now_rfc3339()
            else:
                cond["lastTransitionTime"] = now_rfc3339()
            new.append(prev if same else cond)
        if not changed:
            return
        body = ns.model_copy(deep=True)
        status = body.status or NamespaceStatus(phase="Terminating")
        status.conditions = new + list(by_type.values())
        body.status = status
        try:
            await self.client.update_status(body)
        except (Conflict, NotFound):
            pass                      # best effort: the next pass writes it
