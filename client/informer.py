"""The informer: list, then watch from the list's resourceVersion, into a local cache.

Owns the list/watch loop (client-go's reflector) feeding a `Store`, and the handlers
(`on_add(obj)`, `on_update(old, new)`, `on_delete(obj)`) fired as the cache changes.

Invariants:
- The cache only moves forward: it is the last list plus every watch event after it.
- A clean end of the watch stream (the server's timeout, or its shutdown, which sends a
  last bookmark) re-watches from the last resourceVersion seen (bookmarks included). An
  apiserver that is away (connection refused or dropped, 5xx, 429) is watched again from
  that resourceVersion after a backoff, without a relist; a 410 `Gone` or any other error
  relists (backoff 0.2 s doubling, capped at 10 s; reset once a watch delivers events).
  A relist is diffed against the cache: new keys fire on_add, changed resourceVersions
  on_update, keys that vanished (deleted while disconnected) on_delete.
- `resync_period > 0` re-delivers every cached object as on_update(obj, obj) periodically,
  so level-triggered controllers re-check the world.
- Handlers run in the informer's task, in event order; a handler may be sync or async and
  should only enqueue keys. A handler that raises is logged and does not stop the informer.
- Cached objects are shared: never mutate them.
"""
from __future__ import annotations

import asyncio
import inspect
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from api.models import K8sObject
from api.resources import ResourceInfo
from client.errors import ConnectionFailed, Gone, ServerError, TooManyRequests
from client.rest import Client
from client.store import BUILTIN_INDEXES, IndexFunc, Store, object_key
from client.watch import ADDED, BOOKMARK, DELETED, MODIFIED, resource_version

log = logging.getLogger(__name__)

__all__ = ["Informer", "Store", "BUILTIN_INDEXES"]


def drop_managed_fields(obj: Any) -> Any:
    """The object without metadata.managedFields (about half of a pod's bytes): what
    kube-scheduler and kube-controller-manager keep in their informers, as no controller
    reads them, and an update that leaves them out keeps the stored ones."""
    if isinstance(obj, dict):
        meta = obj.get("metadata")
        if isinstance(meta, dict):
            meta.pop("managedFields", None)
    elif getattr(obj, "metadata", None) is not None and obj.metadata.managed_fields is not None:
        obj.metadata.managed_fields = None
    return obj


@dataclass
class _Handlers:
    on_add: Callable[[Any], Any] | None
    on_update: Callable[[Any, Any], Any] | None
    on_delete: Callable[[Any], Any] | None


class Informer:
    """A cache of one kind (optionally one namespace / selector) kept current by watch."""

    def __init__(self, client: Client, kind: type[K8sObject] | ResourceInfo,
                 namespace: str | None = None, *, label_selector: str | None = None,
                 field_selector: str | None = None, resync_period: float = 0,
                 page_size: int = 500, backoff_base: float = 0.2, backoff_cap: float = 10.0,
                 watch_timeout: tuple[int, int] = (300, 600),
                 transform: Callable[[Any], Any] | None = None) -> None:
        """`transform`: applied to each object as it arrives, before it is stored or handed
        to a handler (`drop_managed_fields`, as Kubernetes' components trim theirs)."""
        self.client = client
        self.transform = transform
        self.kind = kind
        self.namespace = namespace
        self.label_selector = label_selector
        self.field_selector = field_selector
        self.resync_period = resync_period
        self.page_size = page_size
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.watch_timeout = watch_timeout
        self.store = Store()
        self.resource_version: str | None = None
        self.relists = 0          # how many lists were made (1 + recoveries)
        self._handlers: list[_Handlers] = []
        self._synced = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    # ---------------------------------------------------------------- setup
    def add_index(self, name: str, fn: IndexFunc) -> None:
        self.store.add_index(name, fn)

    def add_handlers(self, on_add: Callable[[Any], Any] | None = None,
                     on_update: Callable[[Any, Any], Any] | None = None,
                     on_delete: Callable[[Any], Any] | None = None) -> None:
        """Register handlers. Added after the informer synced, on_add is called at once
        (synchronously; an async handler is scheduled) for every cached object."""
        h = _Handlers(on_add, on_update, on_delete)
        self._handlers.append(h)
        if on_add is not None:
            for obj in self.store.list():
                result = _safe_call(on_add, obj)
                if inspect.isawaitable(result):
                    asyncio.ensure_future(_guard(result))

    # ---------------------------------------------------------------- lifecycle
    @property
    def has_synced(self) -> bool:
        return self._synced.is_set()

    async def start(self) -> None:
        """Start the list/watch loop (and resync) in the background; returns at once."""
        if self._tasks:
            return
        name = getattr(self.kind, "kind", None) or getattr(self.kind, "__name__", "?")
        self._tasks.append(asyncio.create_task(self._run(), name=f"informer-{name}"))
        if self.resync_period > 0:
            self._tasks.append(asyncio.create_task(self._resync_loop(),
                                                   name=f"informer-{name}-resync"))

    async def stop(self) -> None:
        tasks, self._tasks = self._tasks, []
        for t in tasks:
            t.cancel()
        for t in tasks:
            try:
                await t
            except asyncio.CancelledError:
                pass
            except Exception:  # noqa: BLE001 - already logged by the loop
                pass

    async def wait_synced(self, timeout: float | None = None) -> bool:
        """Wait for the first list to land in the cache; False on timeout."""
        try:
            async with asyncio.timeout(timeout):
                await self._synced.wait()
        except TimeoutError:
            return False
        return True

    async def __aenter__(self) -> Informer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ---------------------------------------------------------------- the loop
    async def _run(self) -> None:
        delay = self.backoff_base
        need_list = True
        while True:
            try:
                if need_list:
                    await self._relist()
                    need_list = False
                if await self._watch_once():
                    delay = self.backoff_base
                    continue           # the server ended the stream: re-watch at once
                log.debug("%s: watch ended without events", self._what())
            except asyncio.CancelledError:
                raise
            except Gone:
                log.info("%s: resourceVersion %s too old, relisting", self._what(),
                         self.resource_version)
                need_list = True
            except (ConnectionFailed, ServerError, TooManyRequests) as e:
                # the apiserver is away (restarting, overloaded): our cache is still good up
                # to resource_version, so watch again from there; relisting every informer
                # of every component at once is the storm that would greet its return
                log.info("%s: %s; %s in %.1fs", self._what(), e,
                         "listing" if need_list else f"watching again from {self.resource_version}", delay)
            except Exception as e:  # noqa: BLE001 - the loop must survive anything
                log.warning("%s: list/watch failed (%s), relisting in %.1fs", self._what(),
                            e, delay)
                need_list = True
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.backoff_cap)

    async def _relist(self) -> None:
        lst = await self.client.list_all(self.kind, self.namespace,
                                         label_selector=self.label_selector,
                                         field_selector=self.field_selector,
                                         page_size=self.page_size)
        self.relists += 1
        items = lst.items if self.transform is None else [self.transform(o) for o in lst.items]
        fresh = {object_key(o): o for o in items}
        for key in [k for k in self.store.keys() if k not in fresh]:
            old = self.store.remove(key)
            if old is not None:
                await self._fire_delete(old)
        for obj in fresh.values():
            _, old = self.store.put(obj)
            if old is None:
                await self._fire_add(obj)
            elif resource_version(old) != resource_version(obj):
                await self._fire_update(old, obj)
        self.resource_version = lst.resource_version
        self._synced.set()

    async def _watch_once(self) -> bool:
        """One watch stream until it ends; True when it delivered any event."""
        got = False
        lo, hi = self.watch_timeout
        stream = self.client.watch(self.kind, self.namespace,
                                   resource_version=self.resource_version,
                                   label_selector=self.label_selector,
                                   field_selector=self.field_selector,
                                   timeout_seconds=random.randint(lo, hi),
                                   allow_bookmarks=True)
        async with stream:
            async for ev in stream:
                got = True
                obj = ev.object
                if self.transform is not None and ev.type != BOOKMARK:
                    obj = self.transform(obj)
                if ev.type in (ADDED, MODIFIED):
                    _, old = self.store.put(obj)
                    if old is None:
                        await self._fire_add(obj)
                    else:
                        await self._fire_update(old, obj)
                elif ev.type == DELETED:
                    if self.store.remove(object_key(obj)) is not None:
                        await self._fire_delete(obj)
                elif ev.type != BOOKMARK:
                    continue
                rv = ev.resource_version
                if rv:
                    self.resource_version = rv
        return got

    async def _resync_loop(self) -> None:
        await self._synced.wait()
        while True:
            await asyncio.sleep(self.resync_period)
            for obj in self.store.list():
                await self._fire_update(obj, obj)

    # ---------------------------------------------------------------- handlers
    async def _fire_add(self, obj: Any) -> None:
        for h in self._handlers:
            if h.on_add is not None:
                await _call(h.on_add, obj)

    async def _fire_update(self, old: Any, new: Any) -> None:
        for h in self._handlers:
            if h.on_update is not None:
                await _call(h.on_update, old, new)

    async def _fire_delete(self, obj: Any) -> None:
        for h in self._handlers:
            if h.on_delete is not None:
                await _call(h.on_delete, obj)

    def _what(self) -> str:
        kind = getattr(self.kind, "kind", None) or getattr(self.kind, "__name__", "?")
        return f"informer {kind}" + (f" in {self.namespace}" if self.namespace else "")


def _safe_call(fn: Callable[..., Any], *args: Any) -> Any:
    try:
        return fn(*args)
    except Exception:  # a handler bug must not stop the informer
        log.exception("informer handler %r failed", fn)
        return None


async def _guard(awaitable: Any) -> None:
    try:
        await awaitable
    except Exception:
        log.exception("informer handler failed")


async def _call(fn: Callable[..., Any], *args: Any) -> None:
    result = _safe_call(fn, *args)
    if inspect.isawaitable(result):
        await _guard(result)
