"""The garbage collector: deletes objects whose owners are gone, and runs the foreground
and orphan deletion finalizers.

The graph is the informers of every kind (`api.models.MODELS`): the built-in "owner_uid"
index maps an owner uid to its dependents, a "uid" index finds an owner from an
ownerReference. Work items are `ObjectRef`s (kind, namespace, name, uid); `reconcile`
re-reads the object from its cache (a different uid under the same name is another
object) and does one of:

- `orphan` finalizer on a deleting owner: strip this owner's ownerReferences from every
  dependent, then remove the finalizer;
- `foregroundDeletion` finalizer on a deleting owner: delete its dependents (those that have
  dependents of their own in foreground too) and, once no dependent with
  blockOwnerDeletion is left, remove the finalizer;
- an object with ownerReferences (`decide`): if some owner is still solid, only the refs
  to absent (or foreground-deleting) owners are dropped; otherwise the object is deleted
  (Background, or Foreground when an owner waits for it and it has dependents itself).

Invariants:
- An owner is absent only when the apiserver says so: a GET answering NotFound, or an
  object of that name with another uid. A slow cache never gets a live object deleted.
  Verified-absent uids are remembered (uids are never reused).
- The last steps of foreground and orphan deletion (dropping the finalizer, which lets
  the owner go) are decided on dependents listed from the apiserver, not on caches that
  may lag behind the owner's.
- Deletes carry a uid precondition; ownerRef and finalizer edits are merge patches with
  the resourceVersion read, so a concurrent change makes them retry, never clobber.
- An ownerReference naming a kind pykube does not serve counts as a live owner.
- Custom kinds join the graph when their CRD is established (watched like the built-in
  kinds from then on), so custom resources own and are owned like built-in objects.
"""
from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass
from enum import Enum
from typing import Any, NamedTuple

from api import resources
from api.crds import accepted_rows
from api.models import MODELS, CustomResourceDefinition, K8sObject, OwnerReference
from api.models.custom import custom_model
from api.resources import ResourceInfo, UnknownResourceError, by_kind
from client.errors import Conflict, NotFound
from client.informer import Informer
from controllers.base import Controller

log = logging.getLogger(__name__)

ORPHAN = "orphan"
FOREGROUND = "foregroundDeletion"


class ObjectRef(NamedTuple):
    """A work item: one object identity (a recreated object has another uid)."""

    resource: ResourceInfo
    namespace: str | None
    name: str
    uid: str

    def __str__(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.resource.kind} {where}{self.name} ({self.uid[:8]})"


class OwnerState(Enum):
    SOLID = "solid"            # exists and is not waiting for its dependents
    WAITING = "waiting"        # deleting with the foregroundDeletion finalizer
    ABSENT = "absent"          # verified gone


@dataclass(frozen=True)
class Decision:
    """What to do with a dependent: nothing, drop some ownerRefs, or delete it."""

    action: str                          # "none" | "remove_refs" | "delete"
    remove_uids: frozenset[str] = frozenset()
    policy: str | None = None


def decide(states: dict[str, OwnerState], has_dependents: bool) -> Decision:
    """Kubernetes' attemptToDeleteItem over the states of an object's owners (by uid)."""
    solid = {u for u, s in states.items() if s is OwnerState.SOLID}
    dangling = {u for u, s in states.items() if s is OwnerState.ABSENT}
    waiting = {u for u, s in states.items() if s is OwnerState.WAITING}
    if not dangling and not waiting:
        return Decision("none")
    if solid:
        return Decision("remove_refs", frozenset(dangling | waiting))
    if waiting and has_dependents:
        return Decision("delete", policy="Foreground")
    return Decision("delete", policy="Background")


def ref_to(obj: K8sObject) -> ObjectRef:
    m = obj.metadata
    return ObjectRef(type(obj).RESOURCE, m.namespace, m.name or "", m.uid or "")


def owner_refs(obj: K8sObject) -> list[OwnerReference]:
    return list(obj.metadata.owner_references or [])


def blocks(dependent: K8sObject, owner_uid: str) -> bool:
    return any(r.uid == owner_uid and r.block_owner_deletion for r in owner_refs(dependent))


def _gc_finalizer(obj: K8sObject) -> bool:
    m = obj.metadata
    return bool(m.deletion_timestamp) and bool({ORPHAN, FOREGROUND} & set(m.finalizers or []))


def _uid_index(obj: Any) -> list[str]:
    uid = obj.metadata.uid
    return [uid] if uid else []


class GarbageCollector(Controller):
    NAME = "garbage-collector-controller"

    def __init__(self, *args: Any, kinds: tuple[type[K8sObject], ...] = MODELS,
                 absent_cache_size: int = 10000, lag_retry: float = 0.2, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.lag_retry = lag_retry
        self._by_resource: dict[ResourceInfo, Informer] = {}
        self._models: dict[ResourceInfo, type[K8sObject]] = {}
        self._absent: OrderedDict[str, None] = OrderedDict()
        self._absent_cache_size = absent_cache_size
        for model in kinds:
            self._add_kind(model)
        if CustomResourceDefinition in kinds:
            crds = self._by_resource[CustomResourceDefinition.RESOURCE]
            crds.add_handlers(self._on_crd, lambda old, new: self._on_crd(new), None)

    def _add_kind(self, model: type[K8sObject]) -> Informer:
        inf = self.informers.get(model)
        inf.add_index("uid", _uid_index)
        inf.add_handlers(self._on_add, self._on_update, self._on_delete)
        self._watched.append(inf)
        self._by_resource[model.RESOURCE] = inf
        self._models[model.RESOURCE] = model
        return inf

    def _on_crd(self, crd: K8sObject) -> None:
        """An established CRD adds its kind (at its preferred version) to the graph, so its
        objects can own others and be collected; the row joins this process's table."""
        rows = accepted_rows(crd.to_dict())
        if not rows or any(r.group == rows[0].group and r.plural == rows[0].plural
                           for r in self._by_resource):
            return
        if not resources.registered(rows[0].group, rows[0].plural):
            try:
                resources.register(rows)
            except ValueError:
                return                            # a built-in resource: already watched
        self._add_kind(custom_model(rows[0]))
        log.info("garbage collector watches %s.%s", rows[0].plural, rows[0].group)

    # ---------------------------------------------------------------- graph queries
    def _resource_for(self, api_version: str, kind: str) -> ResourceInfo | None:
        try:
            info = by_kind(api_version, kind)
        except UnknownResourceError:
            return None
        if info in self._by_resource:
            return info
        # another version of a watched kind (CRDs serve several): the watched row
        return next((r for r in self._by_resource
                     if r.group == info.group and r.plural == info.plural), None)

    def _informer_for(self, api_version: str, kind: str) -> Informer | None:
        info = self._resource_for(api_version, kind)
        return self._by_resource[info] if info is not None else None

    def dependents(self, uid: str) -> list[K8sObject]:
        out: list[K8sObject] = []
        for inf in self._by_resource.values():
            out.extend(inf.store.by_index("owner_uid", uid))
        return out

    def _cached_owner(self, ref: OwnerReference, namespace: str | None) -> K8sObject | None:
        inf = self._informer_for(ref.api_version, ref.kind)
        if inf is None:
            return None
        for obj in inf.store.by_index("uid", ref.uid):
            if not obj.RESOURCE.namespaced or obj.metadata.namespace == namespace:
                return obj
        return None

    def _cached(self, item: ObjectRef) -> K8sObject | None:
        inf = self._by_resource.get(item.resource)
        obj = inf.store.get_by_name(item.namespace, item.name) if inf else None
        return obj if obj is not None and obj.metadata.uid == item.uid else None

    # ---------------------------------------------------------------- handlers
    def _on_add(self, obj: K8sObject) -> None:
        if owner_refs(obj) or _gc_finalizer(obj):
            self.queue.add(ref_to(obj))

    def _on_update(self, old: K8sObject, new: K8sObject) -> None:
        old_uids = [r.uid for r in owner_refs(old)]
        new_uids = [r.uid for r in owner_refs(new)]
        if _gc_finalizer(new) or old_uids != new_uids:
            self.queue.add(ref_to(new))
        if old_uids != new_uids or \
                old.metadata.deletion_timestamp != new.metadata.deletion_timestamp:
            self._enqueue_waiting_owners(old)
            self._enqueue_waiting_owners(new)

    def _on_delete(self, obj: K8sObject) -> None:
        uid = obj.metadata.uid
        if uid:
            for dep in self.dependents(uid):
                self.queue.add(ref_to(dep))
        self._enqueue_waiting_owners(obj)

    def _enqueue_waiting_owners(self, obj: K8sObject) -> None:
        for r in owner_refs(obj):
            owner = self._cached_owner(r, obj.metadata.namespace)
            if owner is not None and _gc_finalizer(owner):
                self.queue.add(ref_to(owner))

    # ---------------------------------------------------------------- reconcile
    async def reconcile(self, item: ObjectRef) -> None:
        obj = self._cached(item)
        if obj is None:
            return
        meta = obj.metadata
        if meta.deletion_timestamp:
            fins = meta.finalizers or []
            if ORPHAN in fins:
                await self.orphan_dependents(obj)
            elif FOREGROUND in fins:
                await self.delete_dependents(obj)
            return
        if owner_refs(obj):
            await self.attempt_to_delete(obj)

    async def attempt_to_delete(self, obj: K8sObject) -> None:
        states = {r.uid: await self.owner_state(r, obj.metadata.namespace)
                  for r in owner_refs(obj)}
        d = decide(states, bool(self.dependents(obj.metadata.uid or "")))
        if d.action == "remove_refs":
            await self._remove_owner_refs(obj, d.remove_uids)
        elif d.action == "delete":
            log.info("garbage collecting %s (owners gone, %s)", ref_to(obj), d.policy)
            await self._delete(obj, d.policy)

    async def owner_state(self, ref: OwnerReference, namespace: str | None) -> OwnerState:
        if ref.uid in self._absent:
            return OwnerState.ABSENT
        info = self._resource_for(ref.api_version, ref.kind)
        if info is None:
            return OwnerState.SOLID               # a kind we do not serve: never collect
        owner: Any = self._cached_owner(ref, namespace)
        if owner is None:
            model = self._models[info]
            ns = namespace if info.namespaced else None
            try:
                owner = await self.client.get(model, ref.name, namespace=ns)
            except NotFound:
                owner = None
            if owner is None or owner.metadata.uid != ref.uid:
                self._remember_absent(ref.uid)
                return OwnerState.ABSENT
        if owner.metadata.deletion_timestamp and FOREGROUND in (owner.metadata.finalizers or []):
            return OwnerState.WAITING
        return OwnerState.SOLID

    def _remember_absent(self, uid: str) -> None:
        self._absent[uid] = None
        while len(self._absent) > self._absent_cache_size:
            self._absent.popitem(last=False)

    async def delete_dependents(self, owner: K8sObject) -> None:
        """Foreground deletion: delete dependents, drop the finalizer when none blocks."""
        uid = owner.metadata.uid or ""
        deps = self.dependents(uid)
        if not any(blocks(d, uid) for d in deps):
            # the caches of other kinds may lag behind this owner's: ask the apiserver
            if any(blocks(d, uid) for d in await self.dependents_from_api(owner)):
                self.requeue_after(ref_to(owner), self.lag_retry)
                return
            await self._remove_finalizer(owner, FOREGROUND)
            return
        for dep in deps:
            if not dep.metadata.deletion_timestamp:
                self.queue.add(ref_to(dep))       # attempt_to_delete sees us WAITING

    async def orphan_dependents(self, owner: K8sObject) -> None:
        """Strip this owner's refs from its dependents (as the apiserver lists them, so
        none is missed and would later be collected), then drop the finalizer."""
        uid = owner.metadata.uid or ""
        for dep in await self.dependents_from_api(owner):
            await self._remove_owner_refs(dep, frozenset({uid}))
        await self._remove_finalizer(owner, ORPHAN)

    async def dependents_from_api(self, owner: K8sObject) -> list[K8sObject]:
        """Every object naming `owner` (by uid) among the kinds we watch, listed from the
        apiserver: a namespaced owner's dependents live in its namespace."""
        uid, ns = owner.metadata.uid, owner.metadata.namespace
        found: list[K8sObject] = []
        for info, model in self._models.items():
            if ns and not info.namespaced:
                continue
            items = (await self.client.list_all(model, ns if info.namespaced else None)).items
            found.extend(o for o in items if any(r.uid == uid for r in owner_refs(o)))
        return found

    # ---------------------------------------------------------------- writes
    async def _delete(self, obj: K8sObject, policy: str | None) -> None:
        m = obj.metadata
        try:
            await self.client.delete(type(obj), m.name or "", namespace=m.namespace,
                                     propagation_policy=policy,
                                     preconditions={"uid": m.uid or ""})
        except NotFound:
            pass
        except Conflict:
            pass                                  # another object now has the name

    async def _remove_owner_refs(self, obj: K8sObject, uids: frozenset[str]) -> None:
        keep = [r.to_dict() for r in owner_refs(obj) if r.uid not in uids]
        await self._patch_meta(obj, {"ownerReferences": keep or None})

    async def _remove_finalizer(self, obj: K8sObject, finalizer: str) -> None:
        keep = [f for f in obj.metadata.finalizers or [] if f != finalizer]
        await self._patch_meta(obj, {"finalizers": keep or None})

    async def _patch_meta(self, obj: K8sObject, changes: dict[str, Any]) -> None:
        """A merge patch of metadata guarded by the resourceVersion we decided on."""
        m = obj.metadata
        patch = {"metadata": {**changes, "resourceVersion": m.resource_version}}
        try:
            await self.client.patch(type(obj), m.name or "", patch, namespace=m.namespace)
        except NotFound:
            pass
        # Conflict propagates: the item is retried with backoff on a fresher cache
