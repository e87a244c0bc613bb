"""The CRD controller inside the apiserver: serves what the stored CRDs define.

Owns the run-time side of CustomResourceDefinitions (kube-apiserver's naming, establishing
and finalizing controllers and its CRD handler's registration, in one place):
- `start()`: every stored CRD is served before the apiserver answers (after a restart the
  served resources are rebuilt from the store);
- on each CRD event in the watch cache (a listener, so with no await between the store's
  event and the registration), the CRD's accepted names are worked out against the names
  already taken in its group and, when they are, its versions are registered in the resource
  table (api.resources) with their strategies (apiserver.strategies); a CRD that is gone
  is unregistered and the watches on its resource are closed;
- a worker writes each CRD's status (acceptedNames, NamesAccepted, Established,
  Terminating) when it differs from what it should be, and, for a CRD being deleted,
  deletes all its objects, waits for them to be gone (their own finalizers may hold them),
  and then removes the `customresourcecleanup.apiextensions.k8s.io` finalizer.

Invariants: registration is decided from the CRD as stored (a failed write registers
nothing); names accepted once stay served while a later change conflicts; the resources
of built-in kinds can never be taken over.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any

from api import resources
from api.meta import now_rfc3339
from api.resources import ResourceInfo, by_kind
from apiserver import errors, strategies
from apiserver.apiextensions import naming, serving
from apiserver.registry import DeleteOptions, Registry
from apiserver.watchcache import CacheEvent, WatchCache

log = logging.getLogger("apiserver.apiextensions")

Obj = dict[str, Any]
CRDS = by_kind("apiextensions.k8s.io/v1", "CustomResourceDefinition")


class CRDController:
    def __init__(self, registry: Registry, cache: WatchCache) -> None:
        self.registry, self.cache = registry, cache
        self.served: dict[str, tuple[str, str]] = {}      # CRD name -> (group, plural) served
        self.accepted: dict[str, Obj] = {}                  # CRD name -> names it holds
        self.queue: asyncio.Queue[str] = asyncio.Queue()
        self._queued: set[str] = set()
        self._task: asyncio.Task[None] | None = None
        self._listening: set[str] = set()

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        rc = self.cache.cache(CRDS)
        rc.listeners.append(self._on_crd_event)
        for co in sorted(rc.objects.values(), key=lambda c: c.obj["metadata"].get("creationTimestamp") or ""):
            self.sync(co.obj)
        self._task = asyncio.create_task(self._work(), name="crd-controller")

    async def stop(self) -> None:
        """Stop the worker and serve nothing more (the table is the process's: an apiserver
        that stops takes its CRDs' resources with it)."""
        for name in list(self.served):
            self.stop_serving(name)
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001 - stopping: how the worker ended changes nothing
                pass

    # ------------------------------------------------------------------ serving (sync)
    def _on_crd_event(self, ev: CacheEvent) -> None:
        co = ev.cur or ev.prev
        if co is None:
            return
        if ev.type == "DELETE":
            self.stop_serving(co.obj["metadata"]["name"])
        else:
            self.sync(co.obj)

    def used_names(self, crd: Obj) -> naming.UsedNames:
        """Names taken in the CRD's group: built-in resources' and other CRDs' accepted ones."""
        group = (crd.get("spec") or {}).get("group")
        used = naming.UsedNames()
        for r in resources.RESOURCES:
            if r.group == group:
                used.add({"plural": r.plural, "singular": r.singular, "shortNames": list(r.short_names),
                          "kind": r.kind, "listKind": r.list_kind})
        for other, names in self.accepted.items():
            if other != crd["metadata"]["name"] and names.get("_group") == group:
                used.add(names)
        return used

    def sync(self, crd: Obj) -> None:
        """Serve `crd` as stored now, and queue its status work."""
        name = crd["metadata"]["name"]
        names, cond = naming.accepted_names(crd, self.used_names(crd))
        status_names = ((crd.get("status") or {}).get("acceptedNames")) or {}
        if cond["status"] != "True":
            names = status_names           # keep what was accepted before, if anything
        view = dict(crd, status=dict(crd.get("status") or {}, acceptedNames=names))
        rows = serving.served(view)
        if rows:
            self.accepted[name] = dict(names, _group=(crd.get("spec") or {}).get("group"))
            self._serve(name, rows)
        elif name in self.served:
            self.stop_serving(name, keep_names=False)
        self.enqueue(name)

    def _serve(self, name: str, rows: list[tuple[ResourceInfo, Any]]) -> None:
        first = rows[0][0]
        old = self.served.get(name)
        if old and old != (first.group, first.plural):
            self.stop_serving(name)
        before = resources.registered(first.group, first.plural)
        try:
            resources.register([r for r, _ in rows])
        except ValueError as e:
            log.warning("not serving CRD %s: %s", name, e)
            return
        for r in before:
            strategies.unregister(r)
        for _, strategy in rows:
            strategies.register(strategy)
        self.served[name] = (first.group, first.plural)
        prefix = first.storage_prefix()
        if prefix not in self._listening:
            self._listening.add(prefix)
            self.cache.cache(first).listeners.append(lambda ev, n=name: self._on_instance_event(n, ev))
        log.info("serving %s.%s at %s", first.plural, first.group, ",".join(r.version for r, _ in rows))

    def stop_serving(self, name: str, keep_names: bool = False) -> None:
        gp = self.served.pop(name, None)
        if not keep_names:
            self.accepted.pop(name, None)
        if gp is None:
            return
        rows = resources.unregister(*gp)
        for r in rows:
            strategies.unregister(r)
        if rows:
            rc = self.cache.cache(rows[0])
            for w in list(rc.watchers):
                rc.remove_watcher(w)
        log.info("stopped serving %s.%s", gp[1], gp[0])

    def _on_instance_event(self, crd_name: str, ev: CacheEvent) -> None:
        if ev.type == "DELETE":
            self.enqueue(crd_name)

    # ------------------------------------------------------------------ status work (async)
    def enqueue(self, name: str) -> None:
        if name not in self._queued:
            self._queued.add(name)
            self.queue.put_nowait(name)

    async def _work(self) -> None:
        while True:
            name = await self.queue.get()
            self._queued.discard(name)
            try:
                await self.reconcile(name)
            except asyncio.CancelledError:
                raise
            except errors.StaleObjectError:
                self.enqueue(name)
            except Exception:
                log.exception("CRD %s: reconcile failed; retrying", name)
                await asyncio.sleep(1.0)
                self.enqueue(name)

    def _stored(self, name: str) -> Obj | None:
        co = self.cache.cache(CRDS).objects.get(CRDS.storage_key(None, name))
        return co.obj if co is not None else None

    async def reconcile(self, name: str) -> None:
        crd = self._stored(name)
        if crd is None:
            return
        await self._write_status(crd)
        if crd["metadata"].get("deletionTimestamp") and naming.FINALIZER in (crd["metadata"].get("finalizers") or []):
            await self._finalize(name)

    async def _write_status(self, crd: Obj) -> None:
        name = crd["metadata"]["name"]
        want = naming.desired_status(crd, self.used_names(crd), now_rfc3339())
        if want == (crd.get("status") or {}):
            return

        def mutate(cur: Obj) -> Obj:
            cur["status"] = naming.desired_status(cur, self.used_names(cur), now_rfc3339())
            return cur
        try:
            await self.registry.guaranteed_update(CRDS, None, name, mutate, "status")
        except errors.APIError as e:
            if e.code != 404:
                raise

    async def _finalize(self, name: str) -> None:
        gp = self.served.get(name)
        rows = resources.registered(*gp) if gp else []
        left = 0
        if rows:
            row = rows[0]
            objs = list(self.cache.cache(row).objects.values())
            for co in objs:
                meta = co.obj.get("metadata") or {}
                left += 1
                if meta.get("deletionTimestamp"):
                    continue
                try:
                    await self.registry.delete(row, meta.get("namespace"), meta["name"], DeleteOptions())
                except errors.APIError as e:
                    if e.code != 404:
                        raise
            await self.cache.sync()
            left = len(self.cache.cache(row).objects)
        await self._set_terminating(name, left)
        if left:
            return                           # the instances' DELETE events bring us back

        def drop_finalizer(cur: Obj) -> Obj:
            fins = [f for f in cur["metadata"].get("finalizers") or [] if f != naming.FINALIZER]
            if fins:
                cur["metadata"]["finalizers"] = fins
            else:
                cur["metadata"].pop("finalizers", None)
            return cur
        try:
            await self.registry.guaranteed_update(CRDS, None, name, drop_finalizer)
        except errors.APIError as e:
            if e.code != 404:
                raise

    async def _set_terminating(self, name: str, left: int) -> None:
        def mutate(cur: Obj) -> Obj:
            status = cur.setdefault("status", {})
            status["conditions"] = naming.set_condition(list(status.get("conditions") or []),
                                                        naming.terminating(True, left), now_rfc3339())
            return cur
        crd = self._stored(name)
        if crd is None:
            return
        cond = naming.find(((crd.get("status") or {}).get("conditions")) or [], "Terminating")
        want = naming.terminating(True, left)
        if cond and cond.get("reason") == want["reason"]:
            return
        try:
            await self.registry.guaranteed_update(CRDS, None, name, mutate, "status")
        except errors.APIError as e:
            if e.code != 404:
                raise
