"""The density benchmark's view of its pods: one watch on every pod of the cluster.

Owns `PodTracker`, which stamps (with this process's monotonic clock) when each pod is
first seen (its create), first seen bound to a node (scheduled) and first seen Running as
its kubelet reports it, keeps the set of pods Running now, counts deletions, and resumes
the watch from the last resourceVersion it saw (bookmarks included) when the server ends
it. Events are parsed with orjson so the benchmark stays a small share of the CPU.
"""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any, Callable

import httpx
import orjson


@dataclass(slots=True)
class PodTimes:
    added: float
    scheduled: float = 0.0
    running: float = 0.0


class PodTracker:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.pods: dict[str, PodTimes] = {}
        self.running: set[str] = set()
        self.live: set[str] = set()
        self.deleted = 0
        self.rv = ""
        self.changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        r = await self.http.get("/api/v1/pods", params={"limit": "1"})
        r.raise_for_status()
        self.rv = r.json()["metadata"]["resourceVersion"]
        self._task = asyncio.create_task(self._run(), name="pod-watch")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            params = {"watch": "1", "resourceVersion": self.rv, "allowWatchBookmarks": "true"}
            try:
                async with self.http.stream("GET", "/api/v1/pods", params=params,
                                            timeout=httpx.Timeout(60, read=None)) as r:
                    async for line in r.aiter_lines():
                        if line:
                            self._event(orjson.loads(line))
            except (httpx.HTTPError, orjson.JSONDecodeError):
                await asyncio.sleep(0.5)

    def _event(self, ev: dict[str, Any]) -> None:
        obj = ev.get("object") or {}
        meta = obj.get("metadata") or {}
        typ = ev.get("type")
        if typ == "ERROR":
            raise SystemExit(f"pod watch failed: {obj.get('message')}")
        self.rv = meta.get("resourceVersion") or self.rv
        if typ == "BOOKMARK":
            return
        key = f"{meta.get('namespace')}/{meta.get('name')}"
        now = time.monotonic()
        if typ == "DELETED":
            self.running.discard(key)
            if key in self.live:
                self.live.discard(key)
                self.deleted += 1
            self.changed.set()
            return
        t = self.pods.get(key)
        if t is None:
            t = self.pods[key] = PodTimes(now)
            self.live.add(key)
        if not t.scheduled and (obj.get("spec") or {}).get("nodeName"):
            t.scheduled = now
        running = (obj.get("status") or {}).get("phase") == "Running" and not meta.get("deletionTimestamp")
        if running:
            if not t.running:
                t.running = now
            self.running.add(key)
        else:
            self.running.discard(key)
        self.changed.set()

    async def wait(self, done: Callable[[], bool], timeout: float, check: Callable[[], None]) -> bool:
        """Wait until `done()`, calling `check()` (are the processes alive?) every second."""
        deadline = time.monotonic() + timeout
        while not done():
            if time.monotonic() > deadline:
                return False
            check()
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), 1.0)
            except TimeoutError:
                pass
        return True
