"""Test support: an in-process apiserver on a free loopback port.

`running_apiserver(tmp_path, store="memory://")` is an async context manager giving the
started `APIServer` (`.url`, `.token`, `.kubeconfig_path`, `.ca_path`). The fixtures in
tests/conftest.py wrap it.
"""
from __future__ import annotations

import contextlib
from pathlib import Path
from typing import AsyncIterator

from apiserver.server import APIServer, APIServerConfig


@contextlib.asynccontextmanager
async def running_apiserver(data_dir: Path, store: str | None = "memory://",
                            **kw: object) -> AsyncIterator[APIServer]:
    cfg = APIServerConfig(data_dir=data_dir, secure_port=0, datastore_endpoint=store, **kw)  # type: ignore[arg-type]
    srv = APIServer(cfg)
    await srv.start()
    try:
        yield srv
    finally:
        await srv.stop()
