"""Test support: `kopf run --standalone` as a subprocess against the test's apiserver.

`KopfOperator(operator_file, kubeconfig, home)` starts kopf on one operator file, reads its
output as it comes, and lets a test wait for a line matching a pattern (`await
op.wait_for(r"...")`), with a deadline instead of fixed sleeps. `stop()` sends SIGINT, as
a user's Ctrl-C, and waits for kopf to exit; the whole output is `op.output`.
"""
from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from pathlib import Path

OPERATORS = Path(__file__).parent / "operators"


class KopfOperator:
    def __init__(self, operator: str, kubeconfig: Path, home: Path) -> None:
        self.operator = OPERATORS / operator
        self.kubeconfig, self.home = kubeconfig, home
        self.lines: list[str] = []
        self.proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    async def start(self) -> KopfOperator:
        kopf = Path(sys.executable).parent / "kopf"
        env = dict(os.environ, KUBECONFIG=str(self.kubeconfig), HOME=str(self.home),
                   PYTHONPATH=str(OPERATORS), PYTHONUNBUFFERED="1")
        self.proc = await asyncio.create_subprocess_exec(
            str(kopf), "run", "--standalone", "--all-namespaces", "--verbose", str(self.operator),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, env=env,
            cwd=str(self.home))
        self._reader = asyncio.create_task(self._read())
        return self

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        async for raw in self.proc.stdout:
            self.lines.append(raw.decode(errors="replace").rstrip("\n"))
            self._changed.set()
        self._changed.set()

    async def wait_for(self, pattern: str, timeout: float = 30.0, count: int = 1) -> str:
        """The first line matching `pattern` once `count` lines match; fails at the deadline
        with the output so far."""
        rx = re.compile(pattern)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            found = [line for line in self.lines if rx.search(line)]
            if len(found) >= count:
                return found[0]
            if self.proc is not None and self.proc.returncode is not None and self._reader and self._reader.done():
                raise AssertionError(f"kopf exited ({self.proc.returncode}) before {pattern!r}:\n{self.output}")
            left = deadline - loop.time()
            if left <= 0:
                raise AssertionError(f"no {pattern!r} from kopf in {timeout}s:\n{self.output}")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), left)
            except asyncio.TimeoutError:
                pass

    async def stop(self, timeout: float = 30.0) -> int:
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(self.proc.wait(), timeout)
            except asyncio.TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        if self._reader is not None:
            await self._reader
        return self.proc.returncode or 0
