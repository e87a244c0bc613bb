"""Running a component's main coroutine until SIGINT or SIGTERM.

Owns `run_until_signal`: the signal cancels the coroutine, so its `finally` blocks (a
graceful apiserver shutdown, a kubelet leaving its pods running, a released Lease) run
before the process exits 0.
"""
from __future__ import annotations

import asyncio
import signal
from typing import Any, Awaitable, Callable


def run_until_signal(main: Callable[[], Awaitable[Any]]) -> int:
    """Run a component's coroutine; SIGINT/SIGTERM cancel it so its cleanup runs."""
    async def runner() -> int:
        loop = asyncio.get_running_loop()
        task = asyncio.ensure_future(main())
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, task.cancel)
        try:
            await task
        except asyncio.CancelledError:
            pass
        return 0
    return asyncio.run(runner())
