"""Fixtures for pykubectl against the in-process apiserver (memory store).

`kubectl(*args, stdin="", stdout=None)` runs `kubectl.main.run` in a worker thread (the apiserver
serves from this test's event loop, which must stay free) with the fixture's kubeconfig,
and returns a `Result(code, out, err)` (pass `stdout` to watch output as it comes). `api` is a `client.rest.Client` for arranging
what a controller would have done (ReplicaSets, status updates). `manifest(name, text)`
writes a file under the test's tmp dir.
"""
from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from client import kubeconfig
from client.rest import Client
from kubectl.main import run


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        return self.out.splitlines()


KubectlFn = Callable[..., Awaitable[Result]]


@pytest.fixture
def kubeconfig_path(apiserver: Any) -> str:
    return str(apiserver.kubeconfig_path)


@pytest.fixture
def kubectl(kubeconfig_path: str, monkeypatch: pytest.MonkeyPatch) -> KubectlFn:
    monkeypatch.setenv("PYKUBECTL_DEBUG", "1")     # a bug fails the test with its traceback
    async def call(*args: str, stdin: str = "", kubeconfig: str | None = None,
                   stdout: io.StringIO | None = None) -> Result:
        out, err = stdout or io.StringIO(), io.StringIO()
        argv = ["--kubeconfig", kubeconfig or kubeconfig_path, *args]
        code = await asyncio.to_thread(run, argv, io.StringIO(stdin), out, err)
        return Result(code, out.getvalue(), err.getvalue())
    return call


@pytest.fixture
async def api(kubeconfig_path: str) -> AsyncIterator[Client]:
    c = Client(kubeconfig.load(kubeconfig_path), component="test")
    try:
        yield c
    finally:
        await c.close()


@pytest.fixture
def manifest(tmp_path: Path) -> Callable[[str, str], str]:
    def write(name: str, text: str) -> str:
        p = tmp_path / "manifests" / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
        return str(p)
    return write
