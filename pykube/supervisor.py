"""Supervised components: several long-running coroutines in one process, each restarted
with backoff when it crashes, and a log line saying so.

Owns `Component` (a name and an async `run(ready)` that calls `ready()` once it serves
and then runs until cancelled) and `Supervisor`:
- `await start(component)` launches it and waits for its first `ready()`: a component
  that cannot start at all is a fatal error for the caller (`StartError`), so ordering
  (apiserver before its clients) is plain sequential code;
- afterwards a crash (an exception, or `run` returning) is logged as one line and the
  component is started again after a delay that doubles up to `backoff_cap`, reset once
  it has stayed up for `stable_after` seconds;
- `await stop()` cancels the components in reverse start order, so each one's cleanup
  (`finally:` blocks) runs while what it depends on is still there.

Every component runs with `COMPONENT` (a contextvar) set to its name; tasks it creates
inherit it, so the log formatter can prefix every line with the component it came from.
"""
from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from component_base.logs import COMPONENT

log = logging.getLogger("supervisor")


Ready = Callable[[], None]


class StartError(RuntimeError):
    """A component failed before it was ever ready."""


@dataclass
class Component:
    name: str
    run: Callable[[Ready], Awaitable[None]]
    start_timeout: float = 120.0


def backoff_delays(base: float, cap: float) -> Callable[[int], float]:
    """Delay before restart number n (1-based): base, 2*base, 4*base, ... up to cap."""
    def delay(n: int) -> float:
        return float(min(cap, base * (2 ** max(0, n - 1))))
    return delay


class Supervisor:
    def __init__(self, backoff_base: float = 1.0, backoff_cap: float = 30.0,
                 stable_after: float = 60.0) -> None:
        self._delay = backoff_delays(backoff_base, backoff_cap)
        self.stable_after = stable_after
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self.restarts: dict[str, int] = {}
        self._failed = asyncio.Event()
        self.failure: BaseException | None = None

    async def start(self, component: Component) -> None:
        """Launch `component` and wait until it is ready (or raise StartError)."""
        first_ready = asyncio.get_running_loop().create_future()
        self.restarts.setdefault(component.name, 0)
        ctx = contextvars.copy_context()
        ctx.run(COMPONENT.set, component.name)
        task = asyncio.create_task(self._supervise(component, first_ready),
                                   name=f"component-{component.name}", context=ctx)
        self.tasks[component.name] = task
        try:
            await asyncio.wait_for(asyncio.shield(first_ready), component.start_timeout)
        except asyncio.TimeoutError:
            task.cancel()
            raise StartError(f"{component.name} was not ready within {component.start_timeout:.0f}s") from None
        except BaseException:
            task.cancel()
            raise

    async def _supervise(self, c: Component, first_ready: asyncio.Future[None]) -> None:
        loop = asyncio.get_running_loop()
        consecutive = 0
        while True:
            started = loop.time()
            ready_now = False

            def ready() -> None:
                nonlocal ready_now
                if ready_now:
                    return
                ready_now = True
                if not first_ready.done():
                    first_ready.set_result(None)
                if self.restarts[c.name]:
                    log.info("%s is running again (restart %d)", c.name, self.restarts[c.name])
            try:
                await c.run(ready)
                problem = "exited"
            except asyncio.CancelledError:
                raise
            except Exception as e:  # any crash is restarted
                if not first_ready.done():
                    first_ready.set_exception(StartError(f"{c.name} failed to start: {_one_line(e)}"))
                    return
                problem = f"crashed: {_one_line(e)}"
                log.debug("%s traceback", c.name, exc_info=e)
            if not first_ready.done():
                first_ready.set_exception(StartError(f"{c.name} exited before it was ready"))
                return
            if loop.time() - started >= self.stable_after:
                consecutive = 0
            consecutive += 1
            self.restarts[c.name] += 1
            delay = self._delay(consecutive)
            log.error("%s %s; restarting in %.1fs (restart %d)", c.name, problem, delay,
                      self.restarts[c.name])
            await asyncio.sleep(delay)

    async def wait(self) -> None:
        """Block until cancelled (the components run on their own)."""
        await asyncio.Event().wait()

    async def stop(self, timeout: float = 20.0) -> None:
        """Cancel the components, last started first, each given `timeout` to clean up."""
        for name in reversed(list(self.tasks)):
            task = self.tasks[name]
            if task.done():
                continue
            task.cancel()
            try:
                await asyncio.wait_for(asyncio.shield(task), timeout)
            except (asyncio.CancelledError, asyncio.TimeoutError):
                pass
            except Exception as e:  # noqa: BLE001 - stopping anyway
                log.warning("%s: error while stopping: %s", name, _one_line(e))
            log.info("%s stopped", name)
        self.tasks.clear()


def _one_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0]}" if text else type(e).__name__
