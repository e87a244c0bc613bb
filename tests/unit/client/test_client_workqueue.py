"""client.workqueue: client-go queue semantics, delays, rate limiting, run_workers."""
from __future__ import annotations

import asyncio

import pytest

from client.workqueue import ItemExponentialRateLimiter, ShutDown, WorkQueue, run_workers


async def test_adds_collapse_and_fifo() -> None:
    q = WorkQueue()
    for k in ["a", "b", "a", "c", "b", "a"]:
        q.add(k)
    assert len(q) == 3 and q.len() == 3
    assert [await q.get() for _ in range(3)] == ["a", "b", "c"]


async def test_readd_while_processing_is_deferred_to_done() -> None:
    q = WorkQueue()
    q.add("a")
    key = await q.get()
    q.add("a")
    q.add("a")
    assert len(q) == 0                      # not handed to another worker
    getter = asyncio.create_task(q.get())
    await asyncio.sleep(0.01)
    assert not getter.done()
    q.done(key)
    assert await asyncio.wait_for(getter, 1) == "a"
    q.done("a")
    assert len(q) == 0                      # the two re-adds collapsed into one


async def test_no_concurrent_processing_of_a_key() -> None:
    q = WorkQueue()
    active: set[str] = set()
    overlaps: list[str] = []
    counts: dict[str, int] = {}

    async def reconcile(key: str) -> None:
        if key in active:
            overlaps.append(key)
        active.add(key)
        counts[key] = counts.get(key, 0) + 1
        await asyncio.sleep(0.002)
        active.discard(key)

    runner = asyncio.create_task(run_workers(q, reconcile, workers=8))
    for _ in range(20):
        for k in ("x", "y", "z"):
            q.add(k)
        await asyncio.sleep(0.001)
    await asyncio.sleep(0.05)
    q.shutdown()
    await asyncio.wait_for(runner, 2)
    assert overlaps == []
    assert set(counts) == {"x", "y", "z"}
    assert all(1 <= n <= 20 for n in counts.values())


async def test_add_after_and_earliest_wins() -> None:
    q = WorkQueue()
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    q.add_after("k", 0.2)
    q.add_after("k", 0.05)                  # earlier: replaces
    q.add_after("k", 0.3)                   # later: ignored
    assert len(q) == 0
    assert await asyncio.wait_for(q.get(), 1) == "k"
    assert 0.04 <= loop.time() - t0 < 0.2    # before the replaced 0.2 s delay
    q.done("k")
    await asyncio.sleep(0.3)
    assert len(q) == 0                      # the 0.2 and 0.3 delays were dropped
    q.add_after("now", 0)
    assert len(q) == 1


def test_rate_limiter_backoff_growth_and_forget() -> None:
    rl = ItemExponentialRateLimiter()
    assert [rl.when("k") for _ in range(4)] == [0.005, 0.01, 0.02, 0.04]
    assert rl.num_requeues("k") == 4 and rl.when("other") == 0.005
    for _ in range(100):
        last = rl.when("k")
    assert last == 1000.0
    rl.forget("k")
    assert rl.when("k") == 0.005 and rl.num_requeues("k") == 1
    small = ItemExponentialRateLimiter(base=1, max_delay=3)
    assert [small.when("k") for _ in range(4)] == [1, 2, 3, 3]


async def test_add_rate_limited_delays_grow() -> None:
    q = WorkQueue(base_delay=0.02, max_delay=1)
    loop = asyncio.get_running_loop()
    delays = []
    for _ in range(3):
        t0 = loop.time()
        q.add_rate_limited("k")
        k = await asyncio.wait_for(q.get(), 2)
        delays.append(loop.time() - t0)
        q.done(k)
    assert delays[0] >= 0.015 and delays[1] >= 0.035 and delays[2] >= 0.075
    assert q.num_requeues("k") == 3
    q.forget("k")
    assert q.num_requeues("k") == 0


async def test_shutdown_drains_then_raises() -> None:
    q = WorkQueue()
    waiter = asyncio.create_task(q.get())
    await asyncio.sleep(0)
    q.shutdown()
    with pytest.raises(ShutDown):
        await asyncio.wait_for(waiter, 1)
    q2 = WorkQueue()
    q2.add("a")
    q2.add_after("later", 0.01)
    q2.shutdown()
    q2.add("b")                              # ignored
    assert await q2.get() == "a"
    with pytest.raises(ShutDown):
        await q2.get()


async def test_cancelled_getter_does_not_swallow_a_wakeup() -> None:
    q = WorkQueue()
    g1 = asyncio.create_task(q.get())
    g2 = asyncio.create_task(q.get())
    await asyncio.sleep(0)
    q.add("a")                              # wakes g1 ...
    g1.cancel()                             # ... which is cancelled before it runs
    assert await asyncio.wait_for(g2, 1) == "a"
    assert g1.cancelled()


async def test_run_workers_retries_with_backoff_then_forgets() -> None:
    q = WorkQueue(base_delay=0.005, max_delay=0.05)
    attempts: list[str] = []

    async def reconcile(key: str) -> None:
        attempts.append(key)
        if len(attempts) < 4:
            raise RuntimeError("not yet")

    runner = asyncio.create_task(run_workers(q, reconcile, workers=2))
    q.add("k")
    for _ in range(100):
        if len(attempts) >= 4:
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.01)
    assert attempts == ["k"] * 4
    assert q.num_requeues("k") == 0          # success forgot the failures
    runner.cancel()
    with pytest.raises(asyncio.CancelledError):
        await runner
