"""SIGTERM to `pykube apiserver` is a graceful shutdown: the listener stops accepting, a
request in flight is answered, every watch ends cleanly with a last bookmark, and the
process exits 0. On the next apiserver (same data dir and port) an informer and a
`pykubectl get -w` pick up where they were: the informer does not list again, both see
what is created afterwards."""
from __future__ import annotations

import asyncio
import json
import signal
import ssl
import sys
from pathlib import Path

from api.models import ConfigMap, ObjectMeta
from apiserver.storage.etcd_server import free_port
from client import kubeconfig
from client.informer import Informer
from client.rest import Client
from tests.support import apiserver_process as apiserver
from tests.support.waits import until


async def refused(port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return True
    writer.close()
    return False


async def test_sigterm_is_graceful_and_clients_resume(tmp_path: Path) -> None:
    data_dir, port = tmp_path / "data", free_port()
    proc = apiserver.start(data_dir, port)
    watcher: asyncio.subprocess.Process | None = None
    try:
        await apiserver.wait_ready(proc, data_dir)
        kc = str(data_dir / "admin.kubeconfig")
        async with Client(kubeconfig.load(kc), component="test") as kube:
            await kube.create(ConfigMap(metadata=ObjectMeta(name="before", namespace="default")))
            inf = Informer(kube, ConfigMap, "default", backoff_base=0.1, backoff_cap=0.5)
            await inf.start()
            assert await inf.wait_synced(10)
            watcher = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "kubectl.main", "--kubeconfig", kc, "get", "configmaps", "-w",
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
            assert watcher.stdout is not None
            assert (await asyncio.wait_for(watcher.stdout.readline(), 20)).split() == [b"NAME", b"DATA", b"AGE"]
            assert (await asyncio.wait_for(watcher.stdout.readline(), 20)).split()[0] == b"before"

            # a request in flight: the headers are in, the apiserver is reading the body
            ctx = ssl.create_default_context(cafile=str(apiserver.ca_path(data_dir)))
            reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=ctx)
            body = json.dumps({"apiVersion": "v1", "kind": "ConfigMap",
                               "metadata": {"name": "in-flight"}, "data": {"a": "b"}}).encode()
            writer.write(b"POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: x\r\n"
                         + f"Authorization: Bearer {apiserver_token(data_dir)}\r\n".encode()
                         + b"Content-Type: application/json\r\nExpect: 100-continue\r\n"
                         + f"Content-Length: {len(body)}\r\n\r\n".encode())
            await writer.drain()
            assert (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)).startswith(b"HTTP/1.1 100")

            proc.send_signal(signal.SIGTERM)
            await until(lambda: refused(port), what="the listener closed")
            writer.write(body)
            await writer.drain()
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            assert head.startswith(b"HTTP/1.1 201"), head
            writer.close()
            assert await asyncio.to_thread(proc.wait, 20) == 0
            log = apiserver.log_of(data_dir)
            assert "ended 2 watch(es) for shutdown" in log, log[-2000:]

            proc = apiserver.start(data_dir, port)
            await apiserver.wait_ready(proc, data_dir)
            await kube.create(ConfigMap(metadata=ObjectMeta(name="after", namespace="default")))
            await until(lambda: inf.store.get("default/after"), timeout=15, what="the informer saw it")
            assert inf.store.get("default/in-flight") is not None
            assert inf.relists == 1, "the informer listed again after the restart"
            seen = b""
            while b"after" not in seen:
                seen += await asyncio.wait_for(watcher.stdout.readline(), 20)
            assert b"in-flight" in seen
            await inf.stop()
    finally:
        if watcher is not None and watcher.returncode is None:
            watcher.kill()
            await watcher.wait()
        apiserver.stop(proc)


def apiserver_token(data_dir: Path) -> str:
    import yaml
    cfg = yaml.safe_load((data_dir / "admin.kubeconfig").read_text())
    return str(cfg["users"][0]["user"]["token"])
