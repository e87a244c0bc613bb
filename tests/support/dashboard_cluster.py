"""Test support: the dashboard against an in-process apiserver with hollow nodes, the real
scheduler and the Deployment, ReplicaSet, EndpointSlice controllers and garbage collector,
each component with its own client (so its own field manager, as in a real cluster).

`DashboardCluster(apiserver, tmp_path)` is an async context manager: `.kube` (admin
client), `.dashboard` (the running `DashboardServer`, `.url`), `.ca` (the cluster CA
file, which also signs the dashboard's certificate), `kubectl(*args)` (the real kubectl
binary with the admin kubeconfig), `service_account_token(ns, name)`. `SSE` reads a
Server-Sent Events stream into `events` as `(event, data)` pairs.
"""
from __future__ import annotations

import asyncio
import json
import shutil
import ssl
import sys
from pathlib import Path
from typing import Any

import httpx

from client import kubeconfig
from client.rest import Client
from dashboard.server import DashboardConfig, DashboardServer
from pykube.dashboard import dashboard_cert
from client.events import EventRecorder
from controllers.base import SharedInformers
from controllers.garbagecollector import GarbageCollector
from controllers.manager import FACTORIES, ControllerManagerOptions
from kubelet.hollow import HollowNodes
from scheduler.scheduler import Scheduler

KUBECTL = str(Path(sys.executable).parent / "kubectl") if (Path(sys.executable).parent / "kubectl").exists() \
    else (shutil.which("kubectl") or "kubectl")


class DashboardCluster:
    def __init__(self, apiserver: Any, tmp_path: Path, nodes: int = 2) -> None:
        self.srv = apiserver
        self.tmp = tmp_path
        self.nodes = nodes
        self.ca = Path(apiserver.ca_path)
        self.kubeconfig = str(apiserver.kubeconfig_path)

    async def __aenter__(self) -> DashboardCluster:
        cfg = kubeconfig.load(self.kubeconfig)
        self.kube = Client(cfg, component="test")
        # each component with its own client, so managedFields name it as in a real cluster
        self.cm_client = Client(cfg, component="controller-manager")
        self.sched_client = Client(cfg, component="scheduler")
        self.nodes_group = HollowNodes(cfg, self.nodes, self.tmp / "nodes", prefix="hollow-",
                                       cidr_base="10.201.0.0/16", serve_api=False, relist_period=0.1,
                                       lease_interval=1.0, housekeeping_period=0.5)
        await self.nodes_group.start()
        self.informers = SharedInformers(self.cm_client)
        self.recorder = EventRecorder(self.cm_client, "controller-manager")
        options = ControllerManagerOptions()
        controllers = [GarbageCollector(self.cm_client, self.informers, self.recorder)] + [
            FACTORIES[n][0](self.cm_client, self.informers, self.recorder, options)
            for n in ("replicaset", "deployment", "endpointslice")]
        self._tasks = [asyncio.create_task(c.run(2)) for c in controllers]
        self._tasks.append(asyncio.create_task(Scheduler(self.sched_client).run()))
        await self.informers.start_all()
        data_dir = Path(self.srv.config.data_dir)
        cert, key = dashboard_cert(data_dir, [])
        api = kubeconfig.ClientConfig(server=self.srv.url, ca_file=str(self.ca))
        self.dashboard = DashboardServer(DashboardConfig(api, cert, key, "127.0.0.1", 0))
        await self.dashboard.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.dashboard.stop()
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.informers.stop_all()
        await self.recorder.close(1.0)
        await self.nodes_group.stop()
        for c in (self.kube, self.cm_client, self.sched_client):
            await c.close()

    def browser_http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.dashboard.url, timeout=20,
                                 verify=ssl.create_default_context(cafile=str(self.ca)))

    async def kubectl(self, *args: str) -> str:
        proc = await asyncio.create_subprocess_exec(KUBECTL, "--kubeconfig", self.kubeconfig, *args,
                                                    stdout=asyncio.subprocess.PIPE,
                                                    stderr=asyncio.subprocess.PIPE)
        out, err = await proc.communicate()
        assert proc.returncode == 0, f"kubectl {' '.join(args)}: {err.decode()}"
        return out.decode()

    async def service_account_token(self, namespace: str, name: str) -> str:
        resp = await self.kube.request("POST", f"/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token",
                                       json={"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                                             "spec": {"expirationSeconds": 3600}})
        return str(resp.json()["status"]["token"])


class SSE:
    """Reads one SSE stream in a task; `events` fills as they come."""

    def __init__(self, http: httpx.AsyncClient, path: str) -> None:
        self.http, self.path = http, path
        self.events: list[tuple[str, Any]] = []
        self.changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> SSE:
        self._task = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)

    async def _read(self) -> None:
        async with self.http.stream("GET", self.path, timeout=httpx.Timeout(20, read=None)) as resp:
            assert resp.status_code == 200, resp.status_code
            event, data = "message", ""
            async for line in resp.aiter_lines():
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: "):
                    data += line[6:]
                elif line == "" and data:
                    self.events.append((event, json.loads(data)))
                    self.changed.set()
                    event, data = "message", ""

    async def wait_for(self, check: Any, timeout: float = 30.0, what: str = "") -> Any:
        """Until `check(events)` answers something truthy (re-checked on each event)."""
        async with asyncio.timeout(timeout):
            while True:
                self.changed.clear()
                found = check(self.events)
                if found:
                    return found
                if self._task is not None and self._task.done():
                    self._task.result()
                    raise AssertionError(f"the stream ended before {what}")
                await self.changed.wait()

    def latest_topology(self) -> dict[str, Any] | None:
        return self.latest_topology_of(self.events)

    @staticmethod
    def latest_topology_of(events: list[tuple[str, Any]]) -> dict[str, Any] | None:
        for event, data in reversed(events):
            if event == "topology":
                return data  # type: ignore[no-any-return]
            if event == "snapshot":
                return data["topology"]  # type: ignore[no-any-return]
        return None

    def timeline(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for event, data in self.events:
            if event == "snapshot":
                out = list(data["timeline"])
            elif event == "timeline":
                out.append(data)
        return out
