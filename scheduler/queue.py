"""The scheduling queue: which pending pod is tried next, and when a failed one returns.

Owns Kubernetes' three pools:
- activeQ: a heap by priority (higher first), then by the time the pod entered the queue;
- podBackoffQ: pods waiting out a backoff of 1 s doubling per failed attempt up to 10 s,
  moved to activeQ when it expires (checked every `backoff_flush` seconds);
- unschedulablePods: pods no node fit. A cluster event (node added or changed, a bound
  pod deleted) moves those whose failing plugins care about it back to activeQ (or to
  backoffQ if their backoff has not expired); a pod parked longer than
  `max_in_unschedulable` is moved back anyway.

Invariants: a pod key is in at most one pool (or in flight: popped, being scheduled).
If a move event happens while a pod is in flight, that pod goes to backoffQ rather than
unschedulablePods when it fails (Kubernetes' moveRequestCycle), so no event is missed.
"""
from __future__ import annotations

import asyncio
import heapq
from collections import Counter
import itertools
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from scheduler.podinfo import PodInfo

INITIAL_BACKOFF = 1.0
MAX_BACKOFF = 10.0
MAX_IN_UNSCHEDULABLE = 60.0

ACTIVE, BACKOFF, UNSCHEDULABLE, IN_FLIGHT = "active", "backoff", "unschedulable", "in-flight"


@dataclass(slots=True, eq=False)
class QueuedPodInfo:
    pod: PodInfo
    timestamp: float                         # when it last entered the queue
    initial_attempt: float | None = None     # first pop
    attempts: int = 0
    unschedulable_plugins: set[str] = field(default_factory=set)
    pool: str = ACTIVE
    parked_at: float = 0.0                   # when it entered unschedulablePods

    @property
    def key(self) -> str:
        return self.pod.key


class SchedulingQueue:
    def __init__(self, *, initial_backoff: float = INITIAL_BACKOFF,
                 max_backoff: float = MAX_BACKOFF,
                 max_in_unschedulable: float = MAX_IN_UNSCHEDULABLE,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.initial_backoff = initial_backoff
        self.max_backoff = max_backoff
        self.max_in_unschedulable = max_in_unschedulable
        self.clock = clock
        self._pods: dict[str, QueuedPodInfo] = {}
        self._active: list[tuple[int, float, int, QueuedPodInfo]] = []
        self._backoff: list[tuple[float, int, QueuedPodInfo]] = []
        self._seq = itertools.count()
        self._wakeup = asyncio.Event()
        self._closed = False
        self.scheduling_cycle = 0
        self.move_request_cycle = -1
        self._parked: Counter[str] = Counter()     # failing plugin -> parked pods

    # ---------------------------------------------------------------- sizes
    def __len__(self) -> int:
        return sum(1 for q in self._pods.values() if q.pool != IN_FLIGHT)

    def pool_of(self, key: str) -> str | None:
        q = self._pods.get(key)
        return q.pool if q is not None else None

    def counts(self) -> dict[str, int]:
        out = {ACTIVE: 0, BACKOFF: 0, UNSCHEDULABLE: 0, IN_FLIGHT: 0}
        for q in self._pods.values():
            out[q.pool] += 1
        return out

    # ---------------------------------------------------------------- pod events
    def add(self, pod: PodInfo) -> None:
        """A new pending pod (or one seen again): into activeQ."""
        q = self._pods.get(pod.key)
        if q is not None:
            self.update(pod)
            return
        q = QueuedPodInfo(pod, self.clock())
        self._pods[pod.key] = q
        self._push_active(q)

    def update(self, pod: PodInfo) -> None:
        """A pending pod changed. A parked pod whose spec or labels changed gets another
        try; otherwise the queued entry just takes the new version."""
        q = self._pods.get(pod.key)
        if q is None:
            self.add(pod)
            return
        old, q.pod = q.pod, pod
        if q.pool == UNSCHEDULABLE and _relevant_change(old, pod):
            self._move(q)

    def delete(self, key: str) -> None:
        q = self._pods.pop(key, None)
        if q is not None:
            self._leave(q)
            q.pool = ""                      # stale heap entries are skipped

    # ---------------------------------------------------------------- popping
    async def pop(self) -> QueuedPodInfo | None:
        """The next pod to schedule (None once closed). Marks it in flight."""
        while True:
            while self._active:
                _, _, _, q = heapq.heappop(self._active)
                if q.pool == ACTIVE and self._pods.get(q.key) is q:
                    q.pool = IN_FLIGHT
                    q.attempts += 1
                    if q.initial_attempt is None:
                        q.initial_attempt = self.clock()
                    self.scheduling_cycle += 1
                    return q
            if self._closed:
                return None
            self._wakeup.clear()
            await self._wakeup.wait()

    def done(self, key: str) -> None:
        """The in-flight pod was bound (or dropped): forget it."""
        q = self._pods.get(key)
        if q is not None and q.pool == IN_FLIGHT:
            del self._pods[key]

    def add_unschedulable_if_not_present(self, q: QueuedPodInfo, pod_cycle: int) -> None:
        """An in-flight pod failed. With failing plugins recorded it is parked, unless a
        move event came during its cycle; an error (no plugins) backs off."""
        if self._pods.get(q.key) is not q or q.pool != IN_FLIGHT:
            return                            # deleted meanwhile
        q.timestamp = self.clock()
        if not q.unschedulable_plugins or self.move_request_cycle >= pod_cycle:
            self._push_backoff(q)
        else:
            q.pool = UNSCHEDULABLE
            q.parked_at = q.timestamp
            self._parked.update(q.unschedulable_plugins)

    # ---------------------------------------------------------------- cluster events
    def move_all_to_active_or_backoff(self, plugins: Iterable[str] | None = None) -> int:
        """A cluster event: re-try parked pods that failed on one of `plugins` (all when
        None). Answers how many moved."""
        wanted = None if plugins is None else set(plugins)
        moved = 0
        for q in list(self._pods.values()):
            if q.pool != UNSCHEDULABLE:
                continue
            if wanted is not None and q.unschedulable_plugins and \
                    not (q.unschedulable_plugins & wanted):
                continue
            self._move(q)
            moved += 1
        self.move_request_cycle = self.scheduling_cycle
        return moved

    def flush_backoff_completed(self) -> int:
        now, moved = self.clock(), 0
        while self._backoff and self._backoff[0][0] <= now:
            _, _, q = heapq.heappop(self._backoff)
            if q.pool == BACKOFF and self._pods.get(q.key) is q:
                self._push_active(q)
                moved += 1
        return moved

    def flush_unschedulable_leftover(self) -> int:
        now, moved = self.clock(), 0
        for q in list(self._pods.values()):
            if q.pool == UNSCHEDULABLE and now - q.parked_at >= self.max_in_unschedulable:
                self._move(q)
                moved += 1
        return moved

    async def run(self, backoff_flush: float = 1.0, unschedulable_flush: float = 30.0) -> None:
        """Background flushing until cancelled."""
        last_leftover = self.clock()
        while not self._closed:
            await asyncio.sleep(backoff_flush)
            self.flush_backoff_completed()
            if self.clock() - last_leftover >= unschedulable_flush:
                last_leftover = self.clock()
                self.flush_unschedulable_leftover()

    def close(self) -> None:
        self._closed = True
        self._wakeup.set()

    # ---------------------------------------------------------------- internals
    def backoff_duration(self, q: QueuedPodInfo) -> float:
        if q.attempts <= 0:
            return 0.0
        return min(self.initial_backoff * (2 ** (q.attempts - 1)), self.max_backoff)

    def _backoff_expiry(self, q: QueuedPodInfo) -> float:
        return q.timestamp + self.backoff_duration(q)

    def _move(self, q: QueuedPodInfo) -> None:
        if self._backoff_expiry(q) > self.clock():
            self._push_backoff(q)
        else:
            self._push_active(q)

    def _leave(self, q: QueuedPodInfo) -> None:
        if q.pool == UNSCHEDULABLE:
            self._parked.subtract(q.unschedulable_plugins)

    def parked_on(self, plugins: Iterable[str]) -> bool:
        """Is any parked pod waiting for one of `plugins` to change its mind? (O(1))"""
        return any(self._parked[p] > 0 for p in plugins)

    def _push_active(self, q: QueuedPodInfo) -> None:
        self._leave(q)
        q.pool = ACTIVE
        heapq.heappush(self._active, (-q.pod.priority, q.timestamp, next(self._seq), q))
        self._wakeup.set()

    def _push_backoff(self, q: QueuedPodInfo) -> None:
        self._leave(q)
        q.pool = BACKOFF
        heapq.heappush(self._backoff, (self._backoff_expiry(q), next(self._seq), q))


def _relevant_change(old: PodInfo, new: PodInfo) -> bool:
    """Kubernetes ignores status-only updates (our own condition writes among them)."""
    o, n = old.obj, new.obj
    return (o.get("spec") != n.get("spec")
            or (o.get("metadata") or {}).get("labels") != (n.get("metadata") or {}).get("labels"))
