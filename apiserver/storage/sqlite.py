"""SqliteBackend: the default store, one sqlite file in WAL mode, driven from asyncio.

Owns: the single worker thread every sqlite call runs on (so the event loop never blocks),
group commit (writes that arrive while a transaction is running are queued and applied
together in the next one: one commit, many acknowledgements), pushing committed events to
in-process watchers right after the commit, and chunked compaction.

Durability: WAL with synchronous=NORMAL. A write is acknowledged only after its transaction
committed, which survives the process being SIGKILLed (not a power cut). The revision is the
log row id, so it continues across restarts. The schema and SQL live in `sqlite_log.py`.
"""
from __future__ import annotations

import builtins
import asyncio
import functools
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, AsyncIterator, Callable, TypeVar

from .fanout import WatchHub, watch_loop
from .interface import Event, KeyValue, ListResult, StorageError
from .sqlite_log import Op, OpKind, SqliteLog

T = TypeVar("T")
MAX_BATCH = 1024        # writes per transaction
REPLAY_PAGE = 1000      # history rows per replay query


class SqliteBackend:
    def __init__(self, path: str | Path, *, lock_timeout: float = 5.0) -> None:
        """lock_timeout: how long start() waits for another process to let go of the file."""
        self.path = str(path)
        self.lock_timeout = lock_timeout
        self._log: SqliteLog | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._hub = WatchHub()
        self._rev = 0            # newest revision published on the loop
        self._compacted = 0
        self._pending: list[tuple[Op, asyncio.Future[Event]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self._closing = False
        self.batches = 0          # transactions committed (for benchmarks / tests)

    # -- lifecycle -----------------------------------------------------------------------------
    async def start(self) -> None:
        if self._log is not None:
            return
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="pykube-sqlite")
        self._closing = False
        try:
            log = await asyncio.get_running_loop().run_in_executor(
                self._executor, SqliteLog, self.path, self.lock_timeout)
        except BaseException as e:
            self._executor.shutdown(wait=False)
            self._executor = None
            if isinstance(e, sqlite3.Error):
                raise StorageError(f"cannot open sqlite database {self.path}: {e}") from e
            raise
        self._log = log
        self._rev, self._compacted = log.rev, log.compacted

    async def close(self) -> None:
        self._closing = True
        if self._flusher is not None:
            await asyncio.shield(self._flusher)
        self._hub.close()
        log, executor = self._log, self._executor
        self._log = None
        if log is not None and executor is not None:
            await asyncio.get_running_loop().run_in_executor(executor, log.close)
        if executor is not None:
            executor.shutdown(wait=False)
        self._executor = None

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        if self._log is None or self._executor is None:
            raise StorageError("sqlite backend is not started (or closed)")
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)
        except sqlite3.Error as e:
            raise StorageError(f"sqlite {self.path}: {e}") from e

    # -- reads ---------------------------------------------------------------------------------
    async def get(self, key: str) -> KeyValue | None:
        return await self._run(self._require().get, key)

    async def list(self, prefix: str, *, limit: int = 0, start_after: str = "",
                   revision: int = 0) -> ListResult:
        return await self._run(self._require().list, prefix, limit, start_after, revision)

    async def count(self, prefix: str) -> int:
        return await self._run(self._require().count, prefix)

    async def current_revision(self) -> int:
        return self._rev

    def _require(self) -> SqliteLog:
        if self._log is None:
            raise StorageError("sqlite backend is not started (or closed)")
        return self._log

    # -- writes (group commit) -----------------------------------------------------------------
    async def create(self, key: str, value: bytes) -> KeyValue:
        return (await self._write("create", key, value, 0)).kv

    async def update(self, key: str, value: bytes, expected_revision: int) -> KeyValue:
        return (await self._write("update", key, value, expected_revision)).kv

    async def delete(self, key: str, expected_revision: int = 0) -> KeyValue:
        return (await self._write("delete", key, b"", expected_revision)).kv

    async def _write(self, kind: OpKind, key: str, value: bytes, expected: int) -> Event:
        if self._closing or self._log is None:
            raise StorageError("sqlite backend is not started (or closed)")
        fut: asyncio.Future[Event] = asyncio.get_running_loop().create_future()
        self._pending.append(((kind, key, bytes(value), expected), fut))
        if self._flusher is None:
            self._flusher = asyncio.get_running_loop().create_task(self._flush())
        return await fut

    async def _flush(self) -> None:
        """Drain the pending writes, one transaction per batch, until none are left."""
        try:
            while self._pending:
                batch = self._pending[:MAX_BATCH]
                del self._pending[:MAX_BATCH]
                try:
                    results = await self._run(self._require().apply, [op for op, _ in batch])
                except Exception as e:  # noqa: BLE001 - the whole transaction failed: nothing was written
                    err = e if isinstance(e, StorageError) else StorageError(f"sqlite write: {e}")
                    for _, fut in batch:
                        if not fut.done():
                            fut.set_exception(err)
                    continue
                self.batches += 1
                events = [r for r in results if isinstance(r, Event)]
                if events:
                    self._rev = events[-1].kv.mod_revision
                    self._hub.publish(events)        # watchers first, then acknowledgements
                for (_, fut), res in zip(batch, results):
                    if fut.done():
                        continue
                    if isinstance(res, Event):
                        fut.set_result(res)
                    else:
                        fut.set_exception(res)
        finally:
            self._flusher = None

    # -- watch and compaction ------------------------------------------------------------------
    async def _replay(self, prefix: str, start: int) -> builtins.list[Event]:
        return await self._run(self._require().replay, prefix, start, REPLAY_PAGE)

    def watch(self, prefix: str, start_revision: int) -> AsyncIterator[Event]:
        return watch_loop(self._hub, prefix, start_revision, lambda: self._rev,
                          functools.partial(self._replay, prefix))

    async def compact(self, revision: int) -> None:
        """Forget history older than revision, sweeping in chunks so writes interleave."""
        log = self._require()
        lo = await self._run(log.compact_begin, revision)
        if lo is not None:
            self._compacted = revision
        while lo is not None:
            lo = await self._run(log.compact_chunk, revision, lo)

    @property
    def compacted_revision(self) -> int:
        return self._compacted
