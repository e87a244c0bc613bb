"""In-process watch fan-out for the drivers that commit locally (memory, sqlite).

Owns: the subscriber registry that a driver pushes committed events into, and the watch
loop both drivers share (subscribe first, replay history, then live events, skipping
duplicates). Also the key-range helpers for prefixes.

Invariants: `publish` is called on the event loop, once per commit, with events in revision
order, before the writers' awaits return (so a writer that saw its write acknowledged knows
every in-process watcher already has the event queued). A subscriber's queue is unbounded;
the apiserver's watch cache is the one heavy consumer and drains it promptly.
"""
from __future__ import annotations

import asyncio
from typing import AsyncIterator, Awaitable, Callable, Iterable

from .interface import Event

_CLOSED = None  # queue sentinel: the backend closed, end the watch quietly


def prefix_end(prefix: str) -> str | None:
    """Smallest string greater than every string starting with prefix (None = unbounded)."""
    while prefix:
        last = ord(prefix[-1])
        if last < 0x10FFFF:
            nxt = last + 1
            if 0xD800 <= nxt <= 0xDFFF:  # skip surrogates: they never appear in keys
                nxt = 0xE000
            return prefix[:-1] + chr(nxt)
        prefix = prefix[:-1]
    return None


def revision_of(event: Event) -> int:
    return event.kv.mod_revision


class Subscriber:
    __slots__ = ("prefix", "queue")

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.queue: asyncio.Queue[Event | None] = asyncio.Queue()


class WatchHub:
    def __init__(self) -> None:
        self._subs: set[Subscriber] = set()

    def __len__(self) -> int:
        return len(self._subs)

    def subscribe(self, prefix: str) -> Subscriber:
        sub = Subscriber(prefix)
        self._subs.add(sub)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        self._subs.discard(sub)

    def publish(self, events: Iterable[Event]) -> None:
        if not self._subs:
            return
        for ev in events:
            key = ev.kv.key
            for sub in self._subs:
                if key.startswith(sub.prefix):
                    sub.queue.put_nowait(ev)

    def close(self) -> None:
        for sub in self._subs:
            sub.queue.put_nowait(_CLOSED)
        self._subs.clear()


# A replay source returns the next page of history events under the prefix with revision
# >= its argument, in order; an empty page means no such event exists (caught up). It raises
# CompactedError if that history is gone.
ReplayPage = Callable[[int], Awaitable[list[Event]]]


async def watch_loop(hub: WatchHub, prefix: str, start_revision: int,
                     current: Callable[[], int], replay_page: ReplayPage) -> AsyncIterator[Event]:
    """Subscribe, replay history from the start revision (0: current() + 1), then stream live
    events, in revision order. Drivers return this generator from `watch` as it is, so
    `aclose()` on it unsubscribes at once."""
    start = start_revision or current() + 1
    sub = hub.subscribe(prefix)
    upto = current()   # everything newer is published after subscribing: it is in the queue
    try:
        last = start - 1
        while last < upto:
            page = await replay_page(last + 1)
            if not page:
                break
            for ev in page:
                last = revision_of(ev)
                yield ev
        while True:
            item = await sub.queue.get()
            if item is _CLOSED:
                return
            if revision_of(item) <= last:
                continue  # already replayed
            last = revision_of(item)
            yield item
    finally:
        hub.unsubscribe(sub)
