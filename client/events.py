"""Event recording: what controllers, the scheduler and the kubelet tell users about objects.

Owns `EventRecorder.record(obj, type, reason, message, field_path="")`: fire-and-forget
core/v1 Events named `<object name>.<hex nanoseconds>` in the object's namespace ("default"
for cluster-scoped objects), carrying involvedObject (with `fieldPath` when given, e.g. the
kubelet's `spec.containers{c}`), source, first/lastTimestamp and count.

Invariants:
- `record` never blocks and never raises: it puts the event on a bounded queue that one
  background task drains (a full queue drops the event; drops are counted in `dropped` and
  logged at most once per 10 s).
- A repeat of the same (object, type, reason, message) within `aggregate_window` (10 min)
  patches the existing Event's count and lastTimestamp instead of creating a new one; if
  that Event is gone, a new one is created.
- API errors are logged, never propagated.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from api.models import Event
from client.errors import NotFound
from client.rest import Client

log = logging.getLogger(__name__)

NORMAL, WARNING = "Normal", "Warning"


def rfc3339(t: datetime | None = None) -> str:
    return (t or datetime.now(UTC)).astimezone(UTC).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def object_reference(obj: Any) -> dict[str, Any]:
    """involvedObject for a model or a dict: kind, apiVersion, name, namespace, uid, rv."""
    if isinstance(obj, dict):
        meta = obj.get("metadata") or {}
        kind, api_version = obj.get("kind"), obj.get("apiVersion")
    else:
        m = getattr(obj, "metadata", None)
        meta = m.to_dict() if m is not None else {}
        kind, api_version = getattr(obj, "kind", None), getattr(obj, "api_version", None)
    ref = {"kind": kind, "apiVersion": api_version, "name": meta.get("name"),
           "namespace": meta.get("namespace"), "uid": meta.get("uid"),
           "resourceVersion": meta.get("resourceVersion")}
    return {k: v for k, v in ref.items() if v}


@dataclass
class _Pending:
    ref: dict[str, Any]
    type: str
    reason: str
    message: str
    at: datetime
    mono: float


@dataclass
class _Seen:
    name: str
    namespace: str
    count: int
    first: str
    mono: float


class EventRecorder:
    def __init__(self, client: Client, component: str, host: str | None = None, *,
                 aggregate_window: float = 600.0, max_pending: int = 1000,
                 cache_size: int = 4096) -> None:
        self.client = client
        self.component = component
        self.host = host
        self.aggregate_window = aggregate_window
        self.cache_size = cache_size
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue(max_pending)
        self.dropped = 0
        self._last_drop_log = -1e9
        self._seen: OrderedDict[tuple[Any, ...], _Seen] = OrderedDict()
        self._task: asyncio.Task[None] | None = None

    def record(self, obj: Any, type: str, reason: str, message: str,
               field_path: str = "") -> None:
        """Queue one event about `obj` (type "Normal" or "Warning"). Never blocks or raises."""
        try:
            ref = object_reference(obj)
            if field_path:
                ref["fieldPath"] = field_path
            item = _Pending(ref, type, reason, message,
                            datetime.now(UTC), time.monotonic())
            if self._task is None or self._task.done():
                self._task = asyncio.get_running_loop().create_task(
                    self._drain(), name=f"events-{self.component}")
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            self.dropped += 1
            now = time.monotonic()
            if now - self._last_drop_log >= 10.0:   # one line per 10 s, not one per event
                log.warning("event queue full: dropped %d event(s) so far, latest %s %s: %s",
                            self.dropped, type, reason, message)
                self._last_drop_log = now
        except Exception:  # recording must never hurt the caller
            log.exception("could not record event %s %s", type, reason)

    async def flush(self, timeout: float | None = 10.0) -> None:
        """Wait until every queued event was written (or failed). For tests and shutdown."""
        try:
            async with asyncio.timeout(timeout):
                await self._queue.join()
        except TimeoutError:
            log.warning("event flush timed out with %d pending", self._queue.qsize())

    async def close(self, timeout: float | None = 2.0) -> None:
        await self.flush(timeout)
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _drain(self) -> None:
        while True:
            item = await self._queue.get()
            try:
                await self._write(item)
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001 - an event that cannot be written is dropped
                log.warning("could not write event %s for %s/%s: %s", item.reason,
                            item.ref.get("kind"), item.ref.get("name"), e)
            finally:
                self._queue.task_done()

    async def _write(self, item: _Pending) -> None:
        ref = item.ref
        key = (ref.get("kind"), ref.get("namespace"), ref.get("name"), ref.get("uid"),
               ref.get("fieldPath"), item.type, item.reason, item.message)
        now = rfc3339(item.at)
        seen = self._seen.get(key)
        if seen is not None and item.mono - seen.mono < self.aggregate_window:
            try:
                await self.client.patch(Event, seen.name, {"count": seen.count + 1,
                                                           "lastTimestamp": now},
                                        namespace=seen.namespace)
                seen.count += 1
                seen.mono = item.mono
                self._seen.move_to_end(key)
                return
            except NotFound:
                pass
        ns = item.ref.get("namespace") or "default"
        name = f"{item.ref.get('name', 'unknown')}.{time.time_ns():x}"
        event = Event.from_dict({
            "metadata": {"name": name, "namespace": ns},
            "involvedObject": item.ref, "reason": item.reason, "message": item.message,
            "type": item.type, "count": 1, "firstTimestamp": now, "lastTimestamp": now,
            "source": {k: v for k, v in (("component", self.component),
                                         ("host", self.host)) if v},
            "reportingComponent": self.component, "reportingInstance": self.host or "",
        })
        await self.client.create(event)
        self._seen[key] = _Seen(name, ns, 1, now, item.mono)
        self._seen.move_to_end(key)
        while len(self._seen) > self.cache_size:
            self._seen.popitem(last=False)
