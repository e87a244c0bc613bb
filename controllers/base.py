"""What every controller shares: a `Controller` base and the `SharedInformers` factory.

`Controller` (client-go's controller pattern, as in sample-controller): informer handlers
only map an object to a key and `queue.add` it; `run(workers)` waits for the informers it
watches to sync and then runs `reconcile(key)` on `workers` loops over one `WorkQueue`
(errors re-queue with backoff, see `client.workqueue.run_workers`). `reconcile` re-reads
from the cache, returns quietly when the object is gone, and is idempotent.

`SharedInformers` (client-go's SharedInformerFactory): one informer per (kind, namespace)
shared by every controller of the process, so N controllers watching pods cost one watch.

Invariants:
- Handlers never do I/O and never mutate cached objects; they only enqueue.
- `get()` is idempotent: the same (kind, namespace) always answers the same `Informer`;
  one asked for after `start_all()` is started at once.
- `run()` shuts its queue down when it ends (cancelled), so workers exit cleanly.
- A reconcile that raises is retried with backoff; a `Conflict` (stale cache) is retried
  quietly.
"""
from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable, Iterable
from typing import Any, ClassVar

from api.models import K8sObject
from api.resources import ResourceInfo
from client.errors import Conflict
from client.events import EventRecorder
from client.informer import Informer, drop_managed_fields
from client.rest import Client
from client.store import object_key
from client.workqueue import WorkQueue, run_workers

log = logging.getLogger(__name__)

Kind = type[K8sObject] | ResourceInfo
KeyFunc = Callable[[Any], "Hashable | Iterable[Hashable] | None"]


class SharedInformers:
    """One informer per (kind, namespace) for a whole process."""

    def __init__(self, client: Client, *, resync_period: float = 0) -> None:
        self.client = client
        self.resync_period = resync_period
        self._informers: dict[tuple[Any, str | None], Informer] = {}
        self._started = False

    def get(self, kind: Kind, namespace: str | None = None) -> Informer:
        """The shared informer of `kind` (a Model class: typed objects; a ResourceInfo:
        plain dicts), across all namespaces unless `namespace` is given."""
        key = (kind, namespace)
        inf = self._informers.get(key)
        if inf is None:
            inf = Informer(self.client, kind, namespace, resync_period=self.resync_period,
                           transform=drop_managed_fields)
            self._informers[key] = inf
            if self._started:
                asyncio.get_running_loop().create_task(inf.start())
        return inf

    def all(self) -> list[Informer]:
        return list(self._informers.values())

    async def start_all(self) -> None:
        """Start every informer asked for so far (and, from now on, each new one)."""
        self._started = True
        for inf in list(self._informers.values()):
            await inf.start()

    async def wait_synced(self, timeout: float | None = None) -> bool:
        """Wait until every informer has listed once; False on timeout."""
        results = await asyncio.gather(*(i.wait_synced(timeout)
                                         for i in list(self._informers.values())))
        return all(results)

    async def stop_all(self) -> None:
        self._started = False
        await asyncio.gather(*(i.stop() for i in list(self._informers.values())))


class Controller(ABC):
    """A level-triggered controller over one work queue of keys (usually `ns/name`)."""

    NAME: ClassVar[str] = "controller"

    def __init__(self, client: Client, informers: SharedInformers,
                 recorder: EventRecorder | None = None) -> None:
        self.client = client
        self.informers = informers
        self.recorder = recorder
        self.queue = WorkQueue(self.NAME)
        self._watched: list[Informer] = []

    # ---------------------------------------------------------------- wiring
    def watch(self, kind: Kind, key_fn: KeyFunc | None = None,
              namespace: str | None = None) -> Informer:
        """Get the shared informer of `kind` and enqueue `key_fn(obj)` (default: the
        object's own key) on every add, update and delete. `key_fn` may answer one key,
        several, or None (nothing to do)."""
        inf = self.informers.get(kind, namespace)
        fn = key_fn or object_key
        inf.add_handlers(on_add=lambda o: self._enqueue(fn(o)),
                         on_update=lambda old, new: self._enqueue_update(fn, old, new),
                         on_delete=lambda o: self._enqueue(fn(o)))
        self._watched.append(inf)
        return inf

    def _enqueue_update(self, fn: KeyFunc, old: Any, new: Any) -> None:
        if old is not new:
            self._enqueue(fn(old))
        self._enqueue(fn(new))

    def _enqueue(self, keys: Hashable | Iterable[Hashable] | None) -> None:
        if keys is None:
            return
        if isinstance(keys, (str, tuple)):
            self.queue.add(keys)
            return
        for k in keys:  # type: ignore[union-attr]
            self.queue.add(k)

    def enqueue(self, obj: Any) -> None:
        """Queue an object's key."""
        self.queue.add(object_key(obj))

    def requeue_after(self, key: Hashable, seconds: float) -> None:
        self.queue.add_after(key, seconds)

    def record(self, obj: Any, type_: str, reason: str, message: str) -> None:
        if self.recorder is not None:
            self.recorder.record(obj, type_, reason, message)

    # ---------------------------------------------------------------- running
    async def wait_synced(self, timeout: float | None = None) -> bool:
        for inf in self._watched:
            await inf.start()
        results = await asyncio.gather(*(i.wait_synced(timeout) for i in self._watched))
        return all(results)

    async def run(self, workers: int = 1) -> None:
        """Wait for the watched informers, then reconcile keys until cancelled."""
        try:
            await self.wait_synced()
            await self.started()
            log.info("%s: started with %d worker(s)", self.NAME, workers)
            await run_workers(self.queue, self._reconcile, workers)
        finally:
            self.queue.shutdown()

    async def _reconcile(self, key: Any) -> None:
        """A write conflict only means our cache was behind: retry soon, without the
        traceback every other failure gets."""
        try:
            await self.reconcile(key)
        except Conflict as e:
            log.debug("%s: %r: %s; retrying", self.NAME, key, e)
            self.queue.add_rate_limited(key)

    async def started(self) -> None:
        """Hook run once the caches synced, before the first reconcile (e.g. rebuild
        allocator state). Default: nothing."""

    @abstractmethod
    async def reconcile(self, key: Any) -> None:
        """Move the world one step toward spec for `key`. Idempotent; raise to retry."""
