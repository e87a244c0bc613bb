"""The supervisor: ordered start, restart with backoff after a crash, one log line each."""
from __future__ import annotations

import asyncio
import logging

import pytest

from pykube.supervisor import COMPONENT, Component, Ready, StartError, Supervisor, backoff_delays
from tests.support.waits import until


def test_backoff_doubles_up_to_the_cap() -> None:
    d = backoff_delays(0.5, 3.0)
    assert [d(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]


async def test_crashed_component_is_restarted_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    runs: list[str] = []

    async def flaky(ready: Ready) -> None:
        runs.append(COMPONENT.get())
        ready()
        if len(runs) < 3:
            await asyncio.sleep(0.01)
            raise ValueError(f"boom {len(runs)}")
        await asyncio.Event().wait()

    sup = Supervisor(backoff_base=0.01, backoff_cap=0.02)
    with caplog.at_level(logging.INFO, logger="supervisor"):
        await sup.start(Component("flaky", flaky))
        await until(lambda: "flaky is running again (restart 2)" in [r.getMessage() for r in caplog.records],
                    what="the second restart")
        await sup.stop()
    assert runs == ["flaky"] * 3               # the component's context names it
    assert sup.restarts["flaky"] == 2
    lines = [r.getMessage() for r in caplog.records]
    assert "flaky crashed: ValueError: boom 1; restarting in 0.0s (restart 1)" in lines
    assert any(line.startswith("flaky crashed: ValueError: boom 2") for line in lines)
    assert "flaky is running again (restart 2)" in lines
    assert "flaky stopped" in lines


async def test_a_component_that_never_starts_is_fatal() -> None:
    async def broken(ready: Ready) -> None:
        raise OSError("address already in use")

    sup = Supervisor()
    with pytest.raises(StartError, match="broken failed to start: OSError: address already in use"):
        await sup.start(Component("broken", broken))
    await sup.stop()


async def test_start_timeout() -> None:
    async def slow(ready: Ready) -> None:
        await asyncio.sleep(10)

    with pytest.raises(StartError, match="not ready within"):
        await Supervisor().start(Component("slow", slow, start_timeout=0.05))


async def test_stop_runs_cleanup_in_reverse_order() -> None:
    order: list[str] = []

    def comp(name: str) -> Component:
        async def run(ready: Ready) -> None:
            ready()
            try:
                await asyncio.Event().wait()
            finally:
                order.append(name)
        return Component(name, run)

    sup = Supervisor()
    for n in ("apiserver", "scheduler", "kubelet"):
        await sup.start(comp(n))
    await sup.stop()
    assert order == ["kubelet", "scheduler", "apiserver"]


async def test_a_returning_component_is_restarted(caplog: pytest.LogCaptureFixture) -> None:
    count = 0

    async def quits(ready: Ready) -> None:
        nonlocal count
        count += 1
        ready()
        if count > 1:
            await asyncio.Event().wait()

    sup = Supervisor(backoff_base=0.01)
    with caplog.at_level(logging.ERROR, logger="supervisor"):
        await sup.start(Component("quits", quits))
        await until(lambda: count > 1, what="the restart")
        await sup.stop()
    assert count == 2
    assert any("quits exited; restarting" in r.getMessage() for r in caplog.records)
