"""The storage contract (apiserver/storage/interface.py), checked against every driver.

Each test runs once per backend (memory, sqlite, real etcd) and only touches keys under
its own `prefix`, so the etcd runs can share one server.
"""
from __future__ import annotations

import asyncio
import contextlib
from typing import AsyncIterator

import pytest

from apiserver.storage import (
    Backend, CompactedError, ConflictError, Event, KeyExistsError, NotFoundError,
)

TIMEOUT = 5.0


async def take(events: AsyncIterator[Event], n: int) -> list[Event]:
    out: list[Event] = []
    async def run() -> None:
        async for ev in events:
            out.append(ev)
            if len(out) == n:
                return
    await asyncio.wait_for(run(), TIMEOUT)
    return out


def summary(events: list[Event]) -> list[tuple[str, str, bytes, int]]:
    return [(e.type, e.kv.key, e.kv.value, e.kv.mod_revision) for e in events]


async def test_create_get_list_count(backend: Backend, prefix: str) -> None:
    assert await backend.get(prefix + "a") is None
    a = await backend.create(prefix + "a", b"1")
    assert a.value == b"1" and a.create_revision == a.mod_revision
    b = await backend.create(prefix + "b", b"2")
    await backend.create(prefix + "ab/x", b"nested")
    await backend.create(prefix[:-1] + "-other/a", b"outside")   # shares the text, not the prefix
    assert b.mod_revision == a.mod_revision + 1
    assert await backend.get(prefix + "a") == a
    listed = await backend.list(prefix)
    assert [kv.key for kv in listed.items] == [prefix + "a", prefix + "ab/x", prefix + "b"]
    assert listed.items[0] == a and listed.items[2] == b
    assert listed.revision == await backend.current_revision() and not listed.more
    assert await backend.count(prefix) == 3
    assert await backend.count(prefix + "ab/") == 1
    assert await backend.count(prefix + "zzz/") == 0


async def test_create_existing_key_fails(backend: Backend, prefix: str) -> None:
    kv = await backend.create(prefix + "k", b"v1")
    rev = await backend.current_revision()
    with pytest.raises(KeyExistsError):
        await backend.create(prefix + "k", b"v2")
    assert await backend.get(prefix + "k") == kv
    assert await backend.current_revision() == rev, "a failed write must not use a revision"


async def test_update_is_compare_and_swap(backend: Backend, prefix: str) -> None:
    key = prefix + "k"
    v1 = await backend.create(key, b"v1")
    v2 = await backend.update(key, b"v2", v1.mod_revision)
    assert (v2.value, v2.create_revision, v2.mod_revision) == (b"v2", v1.create_revision,
                                                               v1.mod_revision + 1)
    with pytest.raises(ConflictError) as err:
        await backend.update(key, b"stale", v1.mod_revision)
    assert (err.value.expected, err.value.actual) == (v1.mod_revision, v2.mod_revision)
    assert (await backend.get(key)) == v2
    with pytest.raises(NotFoundError):
        await backend.update(prefix + "missing", b"x", v2.mod_revision)
    v3 = await backend.update(key, b"v3", 0)                 # 0 = unconditional
    assert v3.value == b"v3" and v3.mod_revision == v2.mod_revision + 1
    with pytest.raises(NotFoundError):
        await backend.update(prefix + "missing", b"x", 0)    # ... but never creates


async def test_delete_is_compare_and_swap(backend: Backend, prefix: str) -> None:
    key = prefix + "k"
    v1 = await backend.create(key, b"v1")
    v2 = await backend.update(key, b"v2", v1.mod_revision)
    with pytest.raises(ConflictError):
        await backend.delete(key, v1.mod_revision)
    assert await backend.get(key) == v2
    gone = await backend.delete(key, v2.mod_revision)
    assert (gone.key, gone.value, gone.create_revision, gone.mod_revision) == (
        key, b"v2", v1.create_revision, v2.mod_revision + 1)
    assert await backend.get(key) is None
    with pytest.raises(NotFoundError):
        await backend.delete(key)
    await backend.create(key, b"again")
    assert (await backend.delete(key)).value == b"again"     # unconditional


async def test_list_pagination(backend: Backend, prefix: str) -> None:
    keys = [f"{prefix}item-{i:02d}" for i in range(25)]
    for k in keys:
        await backend.create(k, k.encode())
    seen: list[str] = []
    page = await backend.list(prefix, limit=10)
    snapshot = page.revision
    pages = 1
    assert page.more and page.remaining == 15
    seen += [kv.key for kv in page.items]
    await backend.create(prefix + "item-99", b"after the snapshot")
    while page.more:
        page = await backend.list(prefix, limit=10, start_after=seen[-1], revision=snapshot)
        assert page.revision == snapshot
        seen += [kv.key for kv in page.items]
        pages += 1
    assert seen == keys and pages == 3 and page.remaining == 0
    full = await backend.list(prefix, limit=100)
    assert not full.more and len(full.items) == 26


async def test_list_at_old_revision(backend: Backend, prefix: str) -> None:
    a = await backend.create(prefix + "a", b"a1")
    b = await backend.create(prefix + "b", b"b1")
    before = await backend.current_revision()
    await backend.update(prefix + "a", b"a2", a.mod_revision)
    await backend.delete(prefix + "b", b.mod_revision)
    await backend.create(prefix + "c", b"c1")
    old = await backend.list(prefix, revision=before)
    assert old.revision == before
    assert [(kv.key, kv.value) for kv in old.items] == [(prefix + "a", b"a1"),
                                                         (prefix + "b", b"b1")]
    now = await backend.list(prefix)
    assert [(kv.key, kv.value) for kv in now.items] == [(prefix + "a", b"a2"),
                                                         (prefix + "c", b"c1")]


async def test_watch_from_now_skips_history(backend: Backend, prefix: str) -> None:
    await backend.create(prefix + "old", b"history")
    before = await backend.current_revision()
    async with contextlib.aclosing(backend.watch(prefix, 0)) as events:
        first = asyncio.ensure_future(anext(events))
        for i in range(100):                      # the watch starts when first iterated
            await backend.create(f"{prefix}new-{i:03d}", b"x")
            done, _ = await asyncio.wait({first}, timeout=0.05)
            if done:
                break
        ev = await asyncio.wait_for(first, TIMEOUT)
        assert ev.kv.mod_revision > before and ev.kv.key != prefix + "old"
        last = await backend.create(prefix + "zz-live", b"y")
        rest = await take(events, i - int(ev.kv.key[-3:]) + 1)
        assert [e.kv.mod_revision for e in rest] == list(range(ev.kv.mod_revision + 1,
                                                              last.mod_revision + 1))


async def test_watch_replays_history_then_goes_live(backend: Backend, prefix: str) -> None:
    a = await backend.create(prefix + "a", b"1")
    await backend.create(prefix + "b", b"1")
    a2 = await backend.update(prefix + "a", b"2", a.mod_revision)
    await backend.create("/elsewhere/" + prefix, b"not ours")
    await backend.delete(prefix + "b")
    async with contextlib.aclosing(backend.watch(prefix, a.mod_revision + 1)) as events:
        replayed = await take(events, 3)
        assert summary(replayed) == [
            ("PUT", prefix + "b", b"1", a.mod_revision + 1),
            ("PUT", prefix + "a", b"2", a2.mod_revision),
            ("DELETE", prefix + "b", b"1", a2.mod_revision + 2),
        ]
        assert replayed[0].created and not replayed[1].created
        assert replayed[1].prev_kv is not None and replayed[1].prev_kv.value == b"1"
        c = await backend.create(prefix + "c", b"live")
        d = await backend.update(prefix + "a", b"3", a2.mod_revision)
        live = await take(events, 2)
        assert summary(live) == [("PUT", prefix + "c", b"live", c.mod_revision),
                                 ("PUT", prefix + "a", b"3", d.mod_revision)]


async def test_delete_event_carries_old_value(backend: Backend, prefix: str) -> None:
    kv = await backend.create(prefix + "k", b"precious")
    kv = await backend.update(prefix + "k", b"more precious", kv.mod_revision)
    async with contextlib.aclosing(backend.watch(prefix, kv.mod_revision + 1)) as events:
        gone = await backend.delete(prefix + "k", kv.mod_revision)
        [ev] = await take(events, 1)
    assert ev.type == "DELETE"
    assert (ev.kv.key, ev.kv.value, ev.kv.mod_revision) == (prefix + "k", b"more precious",
                                                            gone.mod_revision)
    assert ev.kv.create_revision == kv.create_revision
    assert ev.prev_kv is not None and ev.prev_kv.mod_revision == kv.mod_revision


async def test_watch_after_compaction_raises(backend: Backend, prefix: str) -> None:
    first = await backend.create(prefix + "a", b"1")
    kv = first
    for i in range(5):
        kv = await backend.update(prefix + "a", str(i).encode(), kv.mod_revision)
    await backend.create(prefix + "b", b"kept")
    now = await backend.current_revision()
    await backend.compact(now)
    assert backend.compacted_revision == now
    with pytest.raises(CompactedError) as err:
        async with contextlib.aclosing(backend.watch(prefix, first.mod_revision)) as events:
            await anext(events)
    assert err.value.requested == first.mod_revision and err.value.compacted == now
    assert "compacted" in str(err.value) and str(now) in str(err.value)
    with pytest.raises(CompactedError):
        await backend.list(prefix, revision=first.mod_revision)
    await backend.compact(now - 1)                       # older than compacted: a no-op
    assert backend.compacted_revision == now
    # Live data and the newest history survive compaction.
    assert [(x.key, x.value) for x in (await backend.list(prefix)).items] == [
        (prefix + "a", b"4"), (prefix + "b", b"kept")]
    assert len((await backend.list(prefix, revision=now)).items) == 2
    async with contextlib.aclosing(backend.watch(prefix, now)) as events:
        [ev] = await take(events, 1)
        assert ev.kv.key == prefix + "b" and ev.kv.mod_revision == now


async def test_concurrent_read_modify_write_loses_nothing(backend: Backend, prefix: str) -> None:
    key = prefix + "counter"
    await backend.create(key, b"0")
    writers, increments = 20, 5
    conflicts = 0

    async def writer() -> None:
        nonlocal conflicts
        for _ in range(increments):
            while True:
                kv = await backend.get(key)
                assert kv is not None
                try:
                    await backend.update(key, str(int(kv.value) + 1).encode(), kv.mod_revision)
                    break
                except ConflictError:
                    conflicts += 1
                    await asyncio.sleep(0)

    await asyncio.wait_for(asyncio.gather(*(writer() for _ in range(writers))), 20)
    final = await backend.get(key)
    assert final is not None and int(final.value) == writers * increments


async def test_revisions_are_global_and_dense(backend: Backend, prefix: str) -> None:
    start = await backend.current_revision()
    kvs = await asyncio.gather(*(backend.create(f"{prefix}k{i}", b"v") for i in range(30)))
    assert sorted(kv.mod_revision for kv in kvs) == list(range(start + 1, start + 31))
    assert await backend.current_revision() == start + 30


async def test_long_replay_to_several_watchers(backend: Backend, prefix: str) -> None:
    start = await backend.current_revision() + 1
    await asyncio.gather(*(backend.create(f"{prefix}k{i:04d}", b"v") for i in range(1100)))
    async with contextlib.aclosing(backend.watch(prefix, start)) as one, \
            contextlib.aclosing(backend.watch(prefix + "k000", start)) as two:
        all_events, few = await asyncio.gather(take(one, 1100), take(two, 10))
    assert [e.kv.mod_revision for e in all_events] == list(range(start, start + 1100))
    assert sorted(e.kv.key for e in few) == [f"{prefix}k{i:04d}" for i in range(10)]


async def test_closing_the_backend_ends_watches_quietly(backend: Backend, prefix: str) -> None:
    kv = await backend.create(prefix + "a", b"1")
    events = backend.watch(prefix, kv.mod_revision)
    assert (await anext(events)).kv == kv
    pending = asyncio.ensure_future(anext(events))
    await asyncio.sleep(0.05)
    await backend.close()
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(pending, TIMEOUT)
    await events.aclose()
