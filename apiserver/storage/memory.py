"""MemoryBackend: the storage contract kept in a dict, for unit tests and throwaway clusters.

Owns: current values (`dict` plus a sorted key list for ordered, paginated lists), the event
history (one event per revision, in order) that watches replay and that `list(revision=r)`
rewinds, and compaction, which drops history older than the compacted revision.

Every method runs on the event loop without awaiting in the middle, so each call is atomic.
Nothing survives the process.
"""
from __future__ import annotations

import builtins
import bisect
import functools
from typing import AsyncIterator

from .fanout import WatchHub, prefix_end, revision_of, watch_loop
from .interface import (
    CompactedError, ConflictError, Event, KeyExistsError, KeyValue, ListResult, NotFoundError,
    StorageError,
)

_PAGE = 1000


class MemoryBackend:
    def __init__(self) -> None:
        self._kvs: dict[str, KeyValue] = {}
        self._keys: list[str] = []          # sorted keys of _kvs
        self._history: list[Event] = []     # one per revision, ascending
        self._rev = 0
        self._compacted = 0
        self._hub = WatchHub()
        self._closed = False

    async def start(self) -> None:
        self._closed = False

    async def close(self) -> None:
        self._closed = True
        self._hub.close()

    # -- reads ---------------------------------------------------------------------------------
    async def get(self, key: str) -> KeyValue | None:
        return self._kvs.get(key)

    def _bounds(self, prefix: str, start_after: str = "") -> tuple[int, int]:
        lo = bisect.bisect_left(self._keys, prefix)
        if start_after:
            lo = max(lo, bisect.bisect_right(self._keys, start_after))
        end = prefix_end(prefix)
        hi = len(self._keys) if end is None else bisect.bisect_left(self._keys, end)
        return lo, max(lo, hi)

    async def list(self, prefix: str, *, limit: int = 0, start_after: str = "",
                   revision: int = 0) -> ListResult:
        if revision and revision != self._rev:
            return self._list_at(prefix, limit, start_after, revision)
        lo, hi = self._bounds(prefix, start_after)
        stop = hi if limit <= 0 else min(hi, lo + limit)
        items = [self._kvs[k] for k in self._keys[lo:stop]]
        return ListResult(items=items, revision=self._rev, more=stop < hi, remaining=hi - stop)

    def _list_at(self, prefix: str, limit: int, start_after: str, revision: int) -> ListResult:
        if revision > self._rev:
            raise StorageError(f"revision {revision} is in the future (current {self._rev})")
        if revision < self._compacted:
            raise CompactedError(revision, self._compacted)
        state = {k: kv for k, kv in self._kvs.items() if k.startswith(prefix)}
        idx = bisect.bisect_right(self._history, revision, key=revision_of)
        for ev in reversed(self._history[idx:]):      # undo newer writes, newest first
            key = ev.kv.key
            if not key.startswith(prefix):
                continue
            if ev.prev_kv is None:
                state.pop(key, None)
            else:
                state[key] = ev.prev_kv
        keys = sorted(k for k in state if k > start_after) if start_after else sorted(state)
        page = keys if limit <= 0 else keys[:limit]
        return ListResult(items=[state[k] for k in page], revision=revision,
                          more=len(page) < len(keys), remaining=len(keys) - len(page))

    async def count(self, prefix: str) -> int:
        lo, hi = self._bounds(prefix)
        return hi - lo

    async def current_revision(self) -> int:
        return self._rev

    # -- writes --------------------------------------------------------------------------------
    def _commit(self, event: Event) -> None:
        self._rev = event.kv.mod_revision
        self._history.append(event)
        self._hub.publish((event,))

    def _check_open(self) -> None:
        if self._closed:
            raise StorageError("memory backend is closed")

    async def create(self, key: str, value: bytes) -> KeyValue:
        self._check_open()
        if key in self._kvs:
            raise KeyExistsError(key)
        rev = self._rev + 1
        kv = KeyValue(key, bytes(value), rev, rev)
        self._kvs[key] = kv
        bisect.insort(self._keys, key)
        self._commit(Event("PUT", kv, None, created=True))
        return kv

    def _current(self, key: str, expected_revision: int) -> KeyValue:
        old = self._kvs.get(key)
        if old is None:
            raise NotFoundError(key)
        if expected_revision and old.mod_revision != expected_revision:
            raise ConflictError(key, expected_revision, old.mod_revision)
        return old

    async def update(self, key: str, value: bytes, expected_revision: int) -> KeyValue:
        self._check_open()
        old = self._current(key, expected_revision)
        kv = KeyValue(key, bytes(value), old.create_revision, self._rev + 1)
        self._kvs[key] = kv
        self._commit(Event("PUT", kv, old))
        return kv

    async def delete(self, key: str, expected_revision: int = 0) -> KeyValue:
        self._check_open()
        old = self._current(key, expected_revision)
        kv = KeyValue(key, old.value, old.create_revision, self._rev + 1)
        del self._kvs[key]
        del self._keys[bisect.bisect_left(self._keys, key)]
        self._commit(Event("DELETE", kv, old))
        return kv

    # -- watch and compaction ------------------------------------------------------------------
    async def _replay(self, prefix: str, start: int) -> builtins.list[Event]:
        if start < self._compacted:
            raise CompactedError(start, self._compacted)
        out: builtins.list[Event] = []
        for ev in self._history[bisect.bisect_left(self._history, start, key=revision_of):]:
            if ev.kv.key.startswith(prefix):
                out.append(ev)
                if len(out) >= _PAGE:
                    break
        return out

    def watch(self, prefix: str, start_revision: int) -> AsyncIterator[Event]:
        return watch_loop(self._hub, prefix, start_revision, lambda: self._rev,
                          functools.partial(self._replay, prefix))

    async def compact(self, revision: int) -> None:
        if revision > self._rev:
            raise StorageError(f"cannot compact at {revision}: newer than current {self._rev}")
        if revision <= self._compacted:
            return
        self._compacted = revision
        del self._history[:bisect.bisect_left(self._history, revision, key=revision_of)]

    @property
    def compacted_revision(self) -> int:
        return self._compacted
