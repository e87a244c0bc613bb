"""The controllers' work queue (client-go's workqueue), and the worker loop over it.

Owns `WorkQueue` (a FIFO of keys with a dirty set and a processing set, a delay queue for
`add_after`, and a per-key exponential rate limiter) and `run_workers`.

Invariants, as in client-go:
- A key is in the queue at most once: repeated `add`s before it is processed collapse.
- A key is never handed to two workers at once: an `add` while it is being processed
  marks it dirty, and `done(key)` puts it back in the queue.
- `add_after(key, s)` adds it after `s` seconds; of several pending delays the earliest wins.
- `add_rate_limited(key)` waits base * 2**failures (5 ms doubling to 1000 s by default);
  `forget(key)` resets the count once the key reconciled cleanly.
- After `shutdown()` adds are ignored and `get()` raises `ShutDown` once the queue is empty.
"""
from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

log = logging.getLogger(__name__)


class ShutDown(Exception):
    """`get()` on a queue that was shut down and has nothing left."""


class ItemExponentialRateLimiter:
    """Per-key backoff: base * 2**failures, capped at max_delay (client-go's default item
    limiter with base 5 ms and max 1000 s)."""

    def __init__(self, base: float = 0.005, max_delay: float = 1000.0) -> None:
        self.base = base
        self.max_delay = max_delay
        self._failures: dict[Hashable, int] = {}

    def when(self, key: Hashable) -> float:
        n = self._failures.get(key, 0)
        self._failures[key] = n + 1
        if n > 60:                     # 2**60 * anything > max: avoid float overflow
            return self.max_delay
        return float(min(self.base * 2.0 ** n, self.max_delay))

    def forget(self, key: Hashable) -> None:
        self._failures.pop(key, None)

    def num_requeues(self, key: Hashable) -> int:
        return self._failures.get(key, 0)


class WorkQueue:
    """Async, single-loop work queue of hashable keys (usually `namespace/name`)."""

    def __init__(self, name: str = "", *, base_delay: float = 0.005,
                 max_delay: float = 1000.0,
                 rate_limiter: ItemExponentialRateLimiter | None = None) -> None:
        self.name = name
        self.rate_limiter = rate_limiter or ItemExponentialRateLimiter(base_delay, max_delay)
        self._queue: deque[Hashable] = deque()
        self._dirty: set[Hashable] = set()
        self._processing: set[Hashable] = set()
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._delayed: dict[Hashable, tuple[float, asyncio.TimerHandle]] = {}
        self._shutting_down = False

    # ---------------------------------------------------------------- adding
    def add(self, key: Hashable) -> None:
        if self._shutting_down or key in self._dirty:
            return
        self._dirty.add(key)
        if key in self._processing:
            return
        self._queue.append(key)
        self._wake_one()

    def add_after(self, key: Hashable, seconds: float) -> None:
        if self._shutting_down:
            return
        if seconds <= 0:
            self.add(key)
            return
        loop = asyncio.get_running_loop()
        when = loop.time() + seconds
        pending = self._delayed.get(key)
        if pending is not None:
            if pending[0] <= when:
                return
            pending[1].cancel()
        self._delayed[key] = (when, loop.call_at(when, self._fire_delayed, key))

    def _fire_delayed(self, key: Hashable) -> None:
        self._delayed.pop(key, None)
        self.add(key)

    def add_rate_limited(self, key: Hashable) -> None:
        self.add_after(key, self.rate_limiter.when(key))

    def forget(self, key: Hashable) -> None:
        self.rate_limiter.forget(key)

    def num_requeues(self, key: Hashable) -> int:
        return self.rate_limiter.num_requeues(key)

    # ---------------------------------------------------------------- processing
    async def get(self) -> Any:
        """The next key, waiting for one; the key is now processing until `done(key)`."""
        while not self._queue:
            if self._shutting_down:
                raise ShutDown(self.name)
            fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiters.append(fut)
            try:
                await fut
            except asyncio.CancelledError:
                if fut in self._waiters:
                    self._waiters.remove(fut)
                elif self._queue:
                    self._wake_one()   # we were woken for an item we will not take
                raise
        key = self._queue.popleft()
        self._processing.add(key)
        self._dirty.discard(key)
        return key

    def done(self, key: Hashable) -> None:
        self._processing.discard(key)
        if key in self._dirty:
            self._queue.append(key)
            self._wake_one()

    def shutdown(self) -> None:
        self._shutting_down = True
        for _, handle in self._delayed.values():
            handle.cancel()
        self._delayed.clear()
        while self._waiters:
            fut = self._waiters.popleft()
            if not fut.done():
                fut.set_result(None)

    @property
    def shutting_down(self) -> bool:
        return self._shutting_down

    def idle(self) -> bool:
        """Nothing queued, nothing processing, nothing waiting for a delay."""
        return not self._queue and not self._processing and not self._delayed

    def len(self) -> int:
        return len(self._queue)

    def __len__(self) -> int:
        return len(self._queue)

    def _wake_one(self) -> None:
        while self._waiters:
            fut = self._waiters.popleft()
            if not fut.done():
                fut.set_result(None)
                return


async def run_workers(queue: WorkQueue, reconcile: Callable[[Any], Awaitable[None]],
                      workers: int = 1) -> None:
    """Run `workers` loops of get -> reconcile(key) -> done until the queue shuts down.

    Success forgets the key's failures; an exception is logged and the key re-added with
    rate limiting. Cancelling this coroutine stops every worker.
    """
    async def worker() -> None:
        while True:
            try:
                key = await queue.get()
            except ShutDown:
                return
            try:
                await reconcile(key)
            except asyncio.CancelledError:
                raise
            except Exception:  # a reconcile error means "retry later"
                log.exception("%s: reconcile %r failed (retry %d)", queue.name or "workqueue",
                              key, queue.num_requeues(key) + 1)
                queue.add_rate_limited(key)
            else:
                queue.forget(key)
            finally:
                queue.done(key)

    tasks = [asyncio.create_task(worker(), name=f"{queue.name or 'workqueue'}-worker-{i}")
             for i in range(workers)]
    try:
        await asyncio.gather(*tasks)
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
