"""EtcdBackend and EtcdServer beyond the shared contract: restarts on the same data dir,
endpoint failover, and learning a compaction another client made."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from apiserver.storage import CompactedError, StorageError, open_backend
from apiserver.storage.etcd import EtcdBackend, parse_endpoints
from apiserver.storage.etcd_server import EtcdServer, free_port

pytestmark = pytest.mark.etcd


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_restart_on_same_data_dir_keeps_data(scratch_dir: Path) -> None:
    server = EtcdServer(scratch_dir / "etcd")
    async with server:
        pid = server.pid
        store = open_backend(server.url)
        await store.start()
        try:
            kv = await store.create("/restart/a", b"1")
        finally:
            await store.close()
    assert pid is not None and not alive(pid) and not server.running
    async with server:
        store = open_backend(server.url)
        await store.start()
        try:
            assert await store.get("/restart/a") == kv
            assert (await store.create("/restart/b", b"2")).mod_revision == kv.mod_revision + 1
        finally:
            await store.close()


async def test_fails_over_to_the_next_endpoint(etcd_server: EtcdServer, prefix: str) -> None:
    dead = ("127.0.0.1", free_port())
    live = parse_endpoints(etcd_server.endpoint)[0]
    store = EtcdBackend([dead, live], timeout=5)
    await store.start()
    try:
        assert store.endpoint == etcd_server.endpoint
        kv = await store.create(prefix + "k", b"v")
        assert await store.get(prefix + "k") == kv
    finally:
        await store.close()
    with pytest.raises(StorageError, match="no etcd endpoint answered"):
        await EtcdBackend([dead], timeout=2).start()


async def test_learns_compaction_made_by_another_client(etcd_server: EtcdServer,
                                                        prefix: str) -> None:
    one, two = open_backend(etcd_server.url), open_backend(etcd_server.url)
    await one.start()
    await two.start()
    try:
        first = await one.create(prefix + "a", b"1")
        await one.update(prefix + "a", b"2", first.mod_revision)
        now = await one.current_revision()
        await two.compact(now)
        with pytest.raises(CompactedError) as err:
            await one.list(prefix, revision=first.mod_revision)
        assert err.value.compacted == now and one.compacted_revision == now
    finally:
        await one.close()
        await two.close()


def test_sync_server_variant(scratch_dir: Path) -> None:
    with EtcdServer(scratch_dir / "etcd") as server:
        assert server.running and server.url.startswith("etcd://127.0.0.1:")
        pid = server.pid
    assert pid is not None and not alive(pid)
