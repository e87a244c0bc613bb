"""Fixtures for the storage contract suite: one `backend` per driver (memory, sqlite, etcd).

etcd is a real private `etcd` started once per session on free loopback ports; each test
gets a fresh client and a unique key `prefix`, so tests never see each other's keys. Every
temp dir and the etcd process are removed even when tests fail.
"""
from __future__ import annotations

import shutil
import tempfile
import uuid
from pathlib import Path
from typing import AsyncIterator, Iterator

import pytest

from apiserver.storage import Backend, open_backend
from apiserver.storage.etcd_server import EtcdServer


@pytest.fixture
def scratch_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="pykube-storage-test-") as d:
        yield Path(d)


@pytest.fixture(scope="session")
def etcd_server() -> Iterator[EtcdServer]:
    if shutil.which("etcd") is None:
        pytest.skip("etcd binary not installed (Debian package etcd-server)")
    with tempfile.TemporaryDirectory(prefix="pykube-etcd-test-") as d:
        with EtcdServer(Path(d) / "etcd") as server:
            yield server


@pytest.fixture(params=["memory", "sqlite", pytest.param("etcd", marks=pytest.mark.etcd)])
def backend_url(request: pytest.FixtureRequest, scratch_dir: Path) -> str:
    if request.param == "memory":
        return "memory://"
    if request.param == "sqlite":
        return f"sqlite://{scratch_dir / 'state.db'}"
    server: EtcdServer = request.getfixturevalue("etcd_server")
    return server.url


@pytest.fixture
async def backend(backend_url: str) -> AsyncIterator[Backend]:
    store = open_backend(backend_url)
    await store.start()
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture
def prefix() -> str:
    return f"/registry/test-{uuid.uuid4().hex[:12]}/"
