"""client.leaderelection against the in-memory fake apiserver (1 s leases)."""
from __future__ import annotations

import asyncio

import pytest
from client_fakeapi import FakeAPI, status

from api.models import Lease
from client.leaderelection import LeaderElector
from client.rest import Client

FAST = dict(lease_duration=1, renew_deadline=0.6, retry_period=0.1)


class LeaderLog:
    """Who led when; `overlaps()` finds two leaders at once."""

    def __init__(self) -> None:
        self.spans: dict[str, list[list[float]]] = {}

    def elector(self, client: Client, identity: str, **kw: object) -> LeaderElector:
        loop = asyncio.get_running_loop()
        spans = self.spans.setdefault(identity, [])
        return LeaderElector(client, "kube-system", "ctrl", identity,
                             on_started_leading=lambda: spans.append([loop.time(), float("inf")]),
                             on_stopped_leading=lambda: spans[-1].__setitem__(1, loop.time()),
                             **{**FAST, **kw})  # type: ignore[arg-type]

    def leaders(self) -> list[str]:
        return [i for i, s in self.spans.items() if s and s[-1][1] == float("inf")]

    def overlaps(self) -> list[tuple[str, str]]:
        flat = [(a, b, who) for who, spans in self.spans.items() for a, b in spans]
        flat.sort()
        return [(w1, w2) for (a1, b1, w1), (a2, b2, w2) in zip(flat, flat[1:]) if a2 < b1]


async def until(cond, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not cond():
        assert loop.time() < end, "condition not met in time"
        await asyncio.sleep(0.01)


async def stop(task: asyncio.Task) -> None:  # type: ignore[type-arg]
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


def test_durations_validated(fake_api: FakeAPI) -> None:
    with pytest.raises(ValueError):
        LeaderElector(None, "ns", "n", "me", lease_duration=2, renew_deadline=3)  # type: ignore


async def test_acquire_renew_and_takeover_after_kill(fake_api: FakeAPI) -> None:
    log = LeaderLog()
    async with fake_api.client() as c:
        a = log.elector(c, "a")
        ta = asyncio.create_task(a.run())
        await until(lambda: log.leaders() == ["a"])
        lease = await c.get(Lease, "ctrl", namespace="kube-system")
        assert lease.spec.holder_identity == "a" and lease.spec.lease_transitions == 0
        assert lease.spec.lease_duration_seconds == 1
        b = log.elector(c, "b")
        tb = asyncio.create_task(b.run())
        await asyncio.sleep(0.5)
        renewed = await c.get(Lease, "ctrl", namespace="kube-system")
        assert renewed.spec.renew_time != lease.spec.renew_time       # a keeps renewing
        assert log.leaders() == ["a"] and b.leader == "a" and not b.is_leader
        loop = asyncio.get_running_loop()
        killed = loop.time()
        await stop(ta)                                    # crash: no release
        await until(lambda: log.leaders() == ["b"])
        assert loop.time() - killed < 2 * 1       # one lease after the last renewal, not two
        lease = await c.get(Lease, "ctrl", namespace="kube-system")
        assert lease.spec.holder_identity == "b" and lease.spec.lease_transitions == 1
        assert lease.spec.acquire_time != renewed.spec.acquire_time
        await stop(tb)
    assert log.overlaps() == []


async def test_release_on_cancel_hands_over_fast(fake_api: FakeAPI) -> None:
    log = LeaderLog()
    async with fake_api.client() as c:
        ta = asyncio.create_task(log.elector(c, "a", release_on_cancel=True).run())
        await until(lambda: log.leaders() == ["a"])
        tb = asyncio.create_task(log.elector(c, "b").run())
        await asyncio.sleep(0.2)
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        await stop(ta)
        lease = await c.get(Lease, "ctrl", namespace="kube-system")
        assert lease.spec.holder_identity == ""
        await until(lambda: log.leaders() == ["b"])
        assert loop.time() - t0 < 1               # sooner than the 1 s lease would expire
        await stop(tb)
    assert log.overlaps() == []


async def test_release_after_a_renewal_cancelled_in_flight(fake_api: FakeAPI) -> None:
    """A renewal cancelled after it reached the apiserver leaves the elector's copy stale:
    the release must still clear the holder (re-read on conflict), not leave the lease
    for its successor to wait out."""
    log = LeaderLog()
    async with fake_api.client() as c:
        a = log.elector(c, "a", release_on_cancel=True, retry_period=0.5, renew_deadline=0.8)
        ta = asyncio.create_task(a.run())
        await until(lambda: log.leaders() == ["a"])
        lease = await c.get(Lease, "ctrl", namespace="kube-system")
        assert lease.spec is not None
        lease.spec.renew_time = "2030-01-01T00:00:00.000000Z"     # the renewal a never heard back from
        await c.update(lease)
        await stop(ta)
        lease = await c.get(Lease, "ctrl", namespace="kube-system")
        assert lease.spec is not None and lease.spec.holder_identity == ""


async def test_steps_down_when_renewal_keeps_failing(fake_api: FakeAPI) -> None:
    log = LeaderLog()
    async with fake_api.client() as c:
        a = log.elector(c, "a")
        ta = asyncio.create_task(a.run())
        await until(lambda: log.leaders() == ["a"])
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        for _ in range(200):
            fake_api.inject("GET", 503, status(503, "ServiceUnavailable"))
        await asyncio.wait_for(ta, 3)                     # run() returns after stepping down
        assert log.leaders() == [] and not a.is_leader
        assert loop.time() - t0 < 1               # before the 1 s lease can expire for others
        fake_api.injected.clear()


async def test_lost_race_is_a_conflict_not_two_leaders(fake_api: FakeAPI) -> None:
    log = LeaderLog()
    async with fake_api.client() as c:
        tasks = [asyncio.create_task(log.elector(c, f"e{i}").run()) for i in range(5)]
        await until(lambda: len(log.leaders()) == 1)
        await asyncio.sleep(0.5)
        assert len(log.leaders()) == 1
        for t in tasks:
            await stop(t)
    assert log.overlaps() == []


async def test_async_leading_task_is_cancelled_on_step_down(fake_api: FakeAPI) -> None:
    started = asyncio.Event()
    cancelled = asyncio.Event()

    async def lead() -> None:
        started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    async with fake_api.client() as c:
        e = LeaderElector(c, "kube-system", "ctrl", "a", on_started_leading=lead, **FAST)
        t = asyncio.create_task(e.run())
        await asyncio.wait_for(started.wait(), 2)
        await stop(t)
        assert cancelled.is_set()
