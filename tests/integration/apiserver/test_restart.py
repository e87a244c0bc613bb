"""Killing the apiserver with SIGKILL loses no acknowledged write (sqlite and etcd)."""
from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from apiserver.storage.etcd_server import EtcdServer, free_port
from tests.support.apiserver_process import http_client as _client
from tests.support.apiserver_process import start as _start
from tests.support.apiserver_process import stop, wait_ready


async def _kill_and_check(tmp_path: Path, store: str | None) -> None:
    data_dir = tmp_path / "data"
    port = free_port()
    proc = _start(data_dir, port, store)
    try:
        await wait_ready(proc, data_dir)
        async with _client(data_dir) as c:
            acked = []

            async def write(i: int) -> None:
                r = await c.post("/api/v1/namespaces/default/configmaps",
                                 json={"metadata": {"name": f"cm-{i}"}, "data": {"i": str(i)}})
                if r.status_code == 201:
                    acked.append(i)
            await asyncio.gather(*(write(i) for i in range(60)))
            r = await c.post("/api/v1/namespaces/default/services", json={
                "metadata": {"name": "fixed"},
                "spec": {"type": "NodePort", "clusterIP": "10.96.200.200",
                         "ports": [{"port": 80, "nodePort": 30555}]}})
            assert r.status_code == 201, r.text
            # an update acknowledged just before the kill
            r = await c.patch("/api/v1/namespaces/default/configmaps/cm-0", json={"data": {"i": "changed"}},
                              headers={"Content-Type": "application/merge-patch+json"})
            assert r.status_code == 200
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert len(acked) == 60
        proc = _start(data_dir, port, store)
        await wait_ready(proc, data_dir)
        async with _client(data_dir) as c:
            items = (await c.get("/api/v1/namespaces/default/configmaps")).json()["items"]
            names = {i["metadata"]["name"] for i in items}
            assert {f"cm-{i}" for i in acked} <= names
            cm0 = (await c.get("/api/v1/namespaces/default/configmaps/cm-0")).json()
            assert cm0["data"]["i"] == "changed"
            # the allocators were rebuilt from the store: what was taken stays taken
            for spec in ({"clusterIP": "10.96.200.200", "ports": [{"port": 80}]},
                         {"type": "NodePort", "ports": [{"port": 80, "nodePort": 30555}]}):
                r = await c.post("/api/v1/namespaces/default/services",
                                 json={"metadata": {"name": "again"}, "spec": spec})
                assert r.status_code == 422 and "already allocated" in r.json()["message"], r.text
            r = await c.post("/api/v1/namespaces/default/services",
                             json={"metadata": {"name": "s"}, "spec": {"ports": [{"port": 80}]}})
            assert r.status_code == 201
            assert r.json()["spec"]["clusterIP"] not in ("10.96.0.1", "10.96.200.200")
    finally:
        stop(proc)


async def test_sigkill_loses_no_acknowledged_write_sqlite(tmp_path: Path) -> None:
    await _kill_and_check(tmp_path, None)


async def test_sigkill_loses_no_acknowledged_write_etcd(tmp_path: Path) -> None:
    async with EtcdServer(tmp_path / "etcd") as etcd:
        await _kill_and_check(tmp_path, etcd.url)
