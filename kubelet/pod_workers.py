"""Pod workers: one asyncio task per pod, so a slow pod never blocks another.

Owns `PodWorkers` (Kubernetes' pod_workers.go, much reduced). `update(uid)` wakes the
pod's worker, starting one if needed; updates that arrive while a sync runs coalesce
into one more sync (the worker always reads the newest pod when it starts a sync, so
nothing is lost and nothing is done twice). The sync function returns when to sync
again (seconds; None for "on the next event or the periodic resync") or `DONE` when the
pod is finished on this node, which ends the worker. A sync that raises is logged and
retried after `error_delay`. Every worker also resyncs every `resync_period`.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("kubelet.workers")


class _Done:
    def __repr__(self) -> str:
        return "DONE"


DONE = _Done()
SyncFn = Callable[[str], Awaitable[float | None | _Done]]


@dataclass
class _Worker:
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None
    syncs: int = 0


class PodWorkers:
    def __init__(self, sync: SyncFn, resync_period: float = 10.0, error_delay: float = 2.0) -> None:
        self.sync = sync
        self.resync_period = resync_period
        self.error_delay = error_delay
        self.workers: dict[str, _Worker] = {}
        self._closed = False

    def __contains__(self, uid: str) -> bool:
        return uid in self.workers

    def __len__(self) -> int:
        return len(self.workers)

    def update(self, uid: str) -> None:
        if self._closed:
            return
        w = self.workers.get(uid)
        if w is None:
            w = self.workers[uid] = _Worker()
            w.task = asyncio.create_task(self._run(uid, w), name=f"pod-worker-{uid[:8]}")
        w.wake.set()

    async def _run(self, uid: str, w: _Worker) -> None:
        timeout: float | None = None
        try:
            while True:
                if timeout is not None and timeout > 0:
                    # asyncio.timeout, not wait_for: in 3.11 wait_for can swallow a
                    # cancellation that races with the event, and the worker never ends
                    try:
                        async with asyncio.timeout(timeout):
                            await w.wake.wait()
                    except TimeoutError:
                        pass
                elif timeout is None:
                    await w.wake.wait()
                w.wake.clear()
                try:
                    r = await self.sync(uid)
                except asyncio.CancelledError:
                    raise
                except Exception:  # one pod's bug must not stop its worker
                    log.exception("syncing pod %s failed", uid)
                    r = self.error_delay
                w.syncs += 1
                if r is DONE:
                    return
                assert not isinstance(r, _Done)
                timeout = self.resync_period if r is None else min(max(r, 0.0), self.resync_period)
        finally:
            if self.workers.get(uid) is w:
                del self.workers[uid]
                if w.wake.is_set() and not self._closed:
                    self.update(uid)  # an update arrived while the last sync ended the worker

    async def close(self) -> None:
        """Stop every worker (their pods keep running: the runtime owns them)."""
        self._closed = True
        await cancel_and_wait([w.task for w in self.workers.values() if w.task is not None])
        self.workers.clear()


async def cancel_and_wait(tasks: list[asyncio.Task[Any]], rounds: int = 5, patience: float = 2.0) -> None:
    """Cancel tasks and wait for them to end, cancelling again any that swallowed it."""
    for t in tasks:
        t.cancel()
    pending = {t for t in tasks if not t.done()}
    for _ in range(rounds):
        if not pending:
            return
        _, pending = await asyncio.wait(pending, timeout=patience)
        for t in pending:
            t.cancel()
    if pending:
        log.warning("%d tasks would not stop: %s", len(pending), [t.get_name() for t in pending])
