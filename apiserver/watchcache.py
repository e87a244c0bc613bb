"""The watch cache: every object of every resource in memory, fed by one storage watch.

Owns: `WatchCache` (one storage watch on `/registry/`, dispatching to a `ResourceCache` per
storage prefix `/registry/<group>/<plural>/`), the per-resource object map with indexes by
namespace and by `spec.nodeName`, a bounded history of recent events for watches that
resume from a resourceVersion, and the `Watcher`s that receive events.

Invariants:
- Each stored write is parsed once here (JSON → dict, resourceVersion set from the store's
  mod_revision) and serialised once; every watcher gets the same bytes.
- `rv` is the newest store revision applied to the cache (global across resources), so a
  list's resourceVersion is a point a watch can resume from.
- A watch from a resourceVersion older than a resource's history window is refused (410),
  never silently given a partial history.
- Watcher registration and history replay happen with no await in between, so no event can
  slip between the replay and the live stream.
- Caches are made on first sight of a prefix (a key in the store, or a `cache(resource)`
  call), so resources registered at run time (CRDs) need no set-up here, and every version
  of a resource shares its one cache. Their history is complete from the load on.
- `listeners` of a prefix are called, with no await, for each event applied there (the
  CRD controller registers served resources from them).
- `end_watches()` (a graceful shutdown) gives each watcher that asked for bookmarks a last
  BOOKMARK at the cache's revision before its stream ends, so it resumes from there on the
  next apiserver instead of relisting.
"""
from __future__ import annotations

import asyncio
import logging
import sys
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from api.resources import ResourceInfo
from apiserver.storage.interface import Backend, CompactedError, Event
from apiserver.wire import dumps, loads

log = logging.getLogger("apiserver.watchcache")

HISTORY_SIZE = 20_000
WATCHER_QUEUE_LIMIT = 50_000


@dataclass(slots=True)
class CachedObject:
    """One stored version of an object: its serialised bytes (the only full copy kept, as
    a JSON document is several times larger as Python dicts) and the few fields the
    indexes and selectors read on every event. `obj` decodes the bytes on each call: treat
    it as a fresh, private copy."""

    key: str
    raw: bytes
    rv: int
    namespace: str | None
    node_name: str | None
    labels: dict[str, str]

    @property
    def obj(self) -> dict[str, Any]:
        return loads(self.raw)  # type: ignore[no-any-return]


_EMPTY: dict[str, str] = {}


def decode(key: str, value: bytes, rv: int) -> CachedObject:
    obj = loads(value)
    meta = obj.setdefault("metadata", {})
    meta["resourceVersion"] = str(rv)
    spec = obj.get("spec")
    node = spec.get("nodeName") if isinstance(spec, dict) else None
    ns = meta.get("namespace")
    labels = meta.get("labels") or _EMPTY
    return CachedObject(sys.intern(key), dumps(obj), rv, sys.intern(ns) if isinstance(ns, str) else ns,
                        sys.intern(node) if isinstance(node, str) else node, labels)


@dataclass(slots=True)
class CacheEvent:
    type: str  # "PUT" | "DELETE"
    rv: int
    cur: CachedObject | None    # the object after a PUT, or as deleted (rv = delete rev)
    prev: CachedObject | None


MatchFn = Callable[[CachedObject], bool]


@dataclass(eq=False)
class Watcher:
    """One open watch. `match` applies label and field selectors beyond the indexes."""

    resource: ResourceInfo
    namespace: str | None
    node_name: str | None
    match: MatchFn
    queue: asyncio.Queue[bytes | None] = field(default_factory=asyncio.Queue)
    closed: bool = False
    bookmarks: bool = False     # allowWatchBookmarks: it gets a last bookmark on shutdown

    def offer(self, ev: CacheEvent, encoded: "_EncodedEvent") -> None:
        if self.closed:
            return
        prev_ok = ev.prev is not None and self._selects(ev.prev)
        if ev.type == "DELETE":
            if prev_ok:
                self._put(encoded.get("DELETED", ev.cur))
            return
        cur_ok = ev.cur is not None and self._selects(ev.cur)
        if cur_ok:
            self._put(encoded.get("MODIFIED" if prev_ok else "ADDED", ev.cur))
        elif prev_ok:
            self._put(encoded.get("DELETED", ev.cur))

    def _selects(self, co: CachedObject) -> bool:
        if self.namespace and co.namespace != self.namespace:
            return False
        if self.node_name is not None and co.node_name != self.node_name:
            return False
        return self.match(co)

    def _put(self, data: bytes) -> None:
        if self.queue.qsize() >= WATCHER_QUEUE_LIMIT:
            log.warning("closing a slow %s watcher", self.resource.plural)
            self.close()
            return
        self.queue.put_nowait(data)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.queue.put_nowait(None)


def bookmark_event(resource: ResourceInfo, rv: int, initial_end: bool = False) -> bytes:
    """A BOOKMARK watch event line at `rv` (`initial_end`: the end of a watch-list's
    initial events)."""
    meta: dict[str, Any] = {"resourceVersion": str(rv)}
    if initial_end:
        meta["annotations"] = {"k8s.io/initial-events-end": "true"}
    obj = {"kind": resource.kind, "apiVersion": resource.api_version, "metadata": meta}
    return dumps({"type": "BOOKMARK", "object": obj}) + b"\n"


class _EncodedEvent:
    """Serialises an event once per type, shared by every watcher."""

    __slots__ = ("_done",)

    def __init__(self) -> None:
        self._done: dict[str, bytes] = {}

    def get(self, typ: str, co: CachedObject | None) -> bytes:
        data = self._done.get(typ)
        if data is None:
            assert co is not None
            data = b'{"type":"' + typ.encode() + b'","object":' + co.raw + b"}\n"
            self._done[typ] = data
        return data


Listener = Callable[[CacheEvent], None]


class ResourceCache:
    def __init__(self, prefix: str, window_start: int = 0) -> None:
        self.prefix = prefix
        self.resource: ResourceInfo | None = None     # the first row it was asked for by
        self.objects: dict[str, CachedObject] = {}
        self.by_namespace: dict[str, set[str]] = {}
        self.by_node: dict[str, set[str]] = {}
        self.history: deque[CacheEvent] = deque()
        self.window_start = window_start   # history is complete for revisions > window_start
        self.watchers: set[Watcher] = set()
        # watchers by the spec.nodeName they select (a kubelet's), and the rest: an event
        # is offered to the rest and to the watchers of its old and new node only
        self._node_watchers: dict[str, set[Watcher]] = {}
        self._other_watchers: set[Watcher] = set()
        self.listeners: list[Listener] = []

    # -- state
    def _index(self, co: CachedObject) -> None:
        if co.namespace:
            self.by_namespace.setdefault(co.namespace, set()).add(co.key)
        if co.node_name:
            self.by_node.setdefault(co.node_name, set()).add(co.key)

    def _unindex(self, co: CachedObject) -> None:
        if co.namespace and (s := self.by_namespace.get(co.namespace)) is not None:
            s.discard(co.key)
        if co.node_name and (s := self.by_node.get(co.node_name)) is not None:
            s.discard(co.key)

    def load(self, co: CachedObject) -> None:
        self.objects[co.key] = co
        self._index(co)

    def apply(self, ev: Event) -> CacheEvent:
        key = ev.kv.key
        prev = self.objects.get(key)
        if ev.type == "DELETE":
            cur = decode(key, ev.kv.value, ev.kv.mod_revision) if ev.kv.value else prev
            if prev is not None:
                self._unindex(prev)
                del self.objects[key]
            cev = CacheEvent("DELETE", ev.kv.mod_revision, cur, prev or cur)
        else:
            cur = decode(key, ev.kv.value, ev.kv.mod_revision)
            if prev is not None:
                self._unindex(prev)
            self.objects[key] = cur
            self._index(cur)
            cev = CacheEvent("PUT", ev.kv.mod_revision, cur, prev)
        self.history.append(cev)
        if len(self.history) > HISTORY_SIZE:
            self.window_start = self.history.popleft().rv
        encoded = _EncodedEvent()
        for w in self._targets(cev):
            w.offer(cev, encoded)
        for listener in self.listeners:
            try:
                listener(cev)
            except Exception:   # a listener's bug must not stop the cache
                log.exception("watch cache listener failed on %s", key)
        return cev

    def _targets(self, cev: CacheEvent) -> list[Watcher]:
        """The watchers an event can concern (each still applies its own selection)."""
        out = list(self._other_watchers)
        if self._node_watchers:
            nodes = {co.node_name for co in (cev.cur, cev.prev) if co is not None and co.node_name is not None}
            for node in nodes:
                out.extend(self._node_watchers.get(node, ()))
        return out

    # -- reads
    def select(self, namespace: str | None, node_name: str | None) -> Iterable[CachedObject]:
        if node_name is not None:
            keys: Iterable[str] = self.by_node.get(node_name, ()) if node_name else \
                [k for k, o in self.objects.items() if not o.node_name]
            objs = (self.objects[k] for k in keys)
            return [o for o in objs if not namespace or o.namespace == namespace]
        if namespace:
            return [self.objects[k] for k in self.by_namespace.get(namespace, ())]
        return self.objects.values()

    def add_watcher(self, w: Watcher, since_rv: int | None, initial: bool) -> None:
        """Register `w`. since_rv None: from now; initial: synthetic ADDED for current state
        first. Otherwise replay history after since_rv (410 when outside the window)."""
        if since_rv is not None and since_rv < self.window_start:
            raise CompactedError(since_rv, self.window_start)
        if initial:
            for co in sorted(self.select(w.namespace, w.node_name), key=lambda o: o.key):
                if w.match(co):
                    w.queue.put_nowait(b'{"type":"ADDED","object":' + co.raw + b"}\n")
        elif since_rv is not None:
            for cev in self.history:
                if cev.rv > since_rv:
                    w.offer(cev, _EncodedEvent())
        self.watchers.add(w)
        if w.node_name is None:
            self._other_watchers.add(w)
        else:
            self._node_watchers.setdefault(w.node_name, set()).add(w)

    def remove_watcher(self, w: Watcher) -> None:
        self.watchers.discard(w)
        if w.node_name is None:
            self._other_watchers.discard(w)
        elif (ws := self._node_watchers.get(w.node_name)) is not None:
            ws.discard(w)
            if not ws:
                del self._node_watchers[w.node_name]
        w.close()


class WatchCache:
    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.caches: dict[str, ResourceCache] = {}     # by storage prefix
        self.rv = 0
        self._loaded_rv = 0
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._task: asyncio.Task[None] | None = None
        self.ready = asyncio.Event()

    def cache(self, resource: ResourceInfo) -> ResourceCache:
        """The cache holding `resource`'s objects (every version of it shares one)."""
        c = self._cache_for_prefix(resource.storage_prefix())
        if c.resource is None:
            c.resource = resource
        return c

    def _cache_for_prefix(self, prefix: str) -> ResourceCache:
        c = self.caches.get(prefix)
        if c is None:
            c = self.caches[prefix] = ResourceCache(prefix, self._loaded_rv)
        return c

    def _cache_for_key(self, key: str) -> ResourceCache | None:
        # /registry/<group>/<plural>/...
        parts = key.split("/", 4)
        if len(parts) < 5 or parts[0] or parts[1] != "registry":
            return None
        return self._cache_for_prefix(f"/registry/{parts[2]}/{parts[3]}/")

    async def start(self) -> None:
        await self._load()
        self._task = asyncio.create_task(self._run(), name="watchcache")

    async def _load(self) -> None:
        for c in self.caches.values():
            c.objects.clear()
            c.by_namespace.clear()
            c.by_node.clear()
            c.history.clear()
        res = await self.backend.list("/registry/")
        for kv in res.items:
            rc = self._cache_for_key(kv.key)
            if rc is not None:
                rc.load(decode(kv.key, kv.value, kv.mod_revision))
        self.rv = self._loaded_rv = res.revision
        for c in self.caches.values():
            c.window_start = res.revision
        self.ready.set()

    async def _run(self) -> None:
        delay = 0.1
        while True:
            try:
                async for ev in self.backend.watch("/registry/", self.rv + 1):
                    delay = 0.1
                    c = self._cache_for_key(ev.kv.key)
                    if c is not None:
                        c.apply(ev)
                    self.rv = max(self.rv, ev.kv.mod_revision)
                    self._wake()
            except asyncio.CancelledError:
                raise
            except CompactedError:
                log.warning("storage compacted past the cache; reloading and closing watchers")
                for c in self.caches.values():
                    for w in list(c.watchers):
                        c.remove_watcher(w)
                await self._load()
            except Exception as e:  # noqa: BLE001 - a dropped store connection: resume where we were
                log.warning("storage watch failed (%s); resuming from %d", e, self.rv)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)

    def _wake(self) -> None:
        if not self._waiters:
            return
        keep = []
        for rev, fut in self._waiters:
            if rev <= self.rv:
                if not fut.done():
                    fut.set_result(None)
            else:
                keep.append((rev, fut))
        self._waiters = keep

    async def wait_for(self, rev: int, timeout: float = 3.0) -> None:
        """Wait until the cache has applied store revision `rev` (a consistent read)."""
        if rev <= self.rv:
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((rev, fut))
        try:
            async with asyncio.timeout(timeout):
                await fut
        except TimeoutError:
            log.warning("watch cache at %d did not reach %d in %.1fs", self.rv, rev, timeout)

    async def sync(self) -> None:
        await self.wait_for(await self.backend.current_revision())

    def end_watches(self) -> int:
        """End every open watch stream cleanly (a last bookmark at `rv` first, for those
        that asked for bookmarks); returns how many were ended."""
        ended = 0
        for c in self.caches.values():
            for w in list(c.watchers):
                if w.bookmarks and not w.closed:
                    w.queue.put_nowait(bookmark_event(c.resource, self.rv))
                c.remove_watcher(w)
                ended += 1
        return ended

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001 - stopping: how it ended is moot
                pass
        for c in self.caches.values():
            for w in list(c.watchers):
                c.remove_watcher(w)
