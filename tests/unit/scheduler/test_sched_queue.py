"""SchedulingQueue: priority order, backoff, parking, moves on cluster events, flushes."""
from __future__ import annotations

import asyncio

from sched_fixtures import pinfo, pod

from scheduler.podinfo import pod_info
from scheduler.queue import ACTIVE, BACKOFF, UNSCHEDULABLE, SchedulingQueue


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_priority_then_fifo() -> None:
    clock = Clock()
    q = SchedulingQueue(clock=clock)
    q.add(pinfo("low1"))
    clock.now += 1
    q.add(pinfo("high", priority=100))
    clock.now += 1
    q.add(pinfo("low2"))
    order = [(await q.pop()).pod.name for _ in range(3)]  # type: ignore[union-attr]
    assert order == ["high", "low1", "low2"]


async def test_unschedulable_parks_until_a_move_then_backoff() -> None:
    clock = Clock()
    q = SchedulingQueue(clock=clock)
    q.add(pinfo("a"))
    qp = await q.pop()
    assert qp is not None
    cycle = q.scheduling_cycle
    qp.unschedulable_plugins = {"NodeResourcesFit"}
    q.add_unschedulable_if_not_present(qp, cycle)
    assert q.pool_of("default/a") == UNSCHEDULABLE
    assert q.move_all_to_active_or_backoff({"TaintToleration"}) == 0     # not its problem
    assert q.move_all_to_active_or_backoff({"NodeResourcesFit"}) == 1
    assert q.pool_of("default/a") == BACKOFF                             # 1 s not over yet
    clock.now += 1.01
    assert q.flush_backoff_completed() == 1
    assert q.pool_of("default/a") == ACTIVE


async def test_backoff_doubles_to_the_cap() -> None:
    q = SchedulingQueue(clock=Clock())
    q.add(pinfo("a"))
    qp = await q.pop()
    assert qp is not None
    durations = []
    for attempts in range(1, 7):
        qp.attempts = attempts
        durations.append(q.backoff_duration(qp))
    assert durations == [1, 2, 4, 8, 10, 10]


async def test_move_during_cycle_sends_failure_to_backoff() -> None:
    clock = Clock()
    q = SchedulingQueue(clock=clock)
    q.add(pinfo("a"))
    qp = await q.pop()
    assert qp is not None
    cycle = q.scheduling_cycle
    q.move_all_to_active_or_backoff(None)          # a node joined while we filtered
    qp.unschedulable_plugins = {"NodeResourcesFit"}
    q.add_unschedulable_if_not_present(qp, cycle)
    assert q.pool_of("default/a") == BACKOFF


async def test_errors_back_off_and_leftovers_flush() -> None:
    clock = Clock()
    q = SchedulingQueue(clock=clock, max_in_unschedulable=60)
    q.add(pinfo("err"))
    q.add(pinfo("parked"))
    e = await q.pop()
    p = await q.pop()
    assert e is not None and p is not None
    q.add_unschedulable_if_not_present(e, q.scheduling_cycle)       # no plugins: an error
    p.unschedulable_plugins = {"NodeAffinity"}
    q.add_unschedulable_if_not_present(p, q.scheduling_cycle + 1)
    assert q.pool_of("default/err") == BACKOFF and q.pool_of("default/parked") == UNSCHEDULABLE
    clock.now += 61
    assert q.flush_unschedulable_leftover() == 1
    assert q.pool_of("default/parked") == ACTIVE


async def test_update_and_delete() -> None:
    q = SchedulingQueue(clock=Clock())
    q.add(pinfo("a"))
    qp = await q.pop()
    assert qp is not None
    qp.unschedulable_plugins = {"NodeAffinity"}
    q.add_unschedulable_if_not_present(qp, q.scheduling_cycle + 1)
    status_only = pod("a")
    status_only["status"] = {"phase": "Pending", "conditions": [{"type": "PodScheduled"}]}
    q.update(pod_info(status_only))
    assert q.pool_of("default/a") == UNSCHEDULABLE
    q.update(pinfo("a", node_selector={"x": "y"}))
    assert q.pool_of("default/a") in (ACTIVE, BACKOFF)
    q.delete("default/a")
    assert q.pool_of("default/a") is None and len(q) == 0


async def test_pop_waits_for_an_add_and_close_ends_it() -> None:
    q = SchedulingQueue()
    waiter = asyncio.create_task(q.pop())
    await asyncio.sleep(0.01)
    assert not waiter.done()
    q.add(pinfo("a"))
    got = await asyncio.wait_for(waiter, 1)
    assert got is not None and got.pod.name == "a"
    closed = asyncio.create_task(q.pop())
    q.close()
    assert await asyncio.wait_for(closed, 1) is None
