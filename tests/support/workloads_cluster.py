"""Test support: a small cluster for the DaemonSet, StatefulSet, storage and disruption
controllers against the in-process apiserver - hollow kubelets (the fake runtime, as
kubemark's), the real scheduler and garbage collector, and the controllers a test names,
each on one SharedInformers as the controller-manager runs them.

`WorkloadsCluster(client, tmp_path, nodes=3, controllers=("daemonset",))` is an async
context manager; `add_nodes(n, prefix)` joins more hollow nodes later. With
`local_path=True` each node also runs its local-path provisioner (volumes under
`<data_dir>/storage/<node>`), as `pykube agent` does.
"""
from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from client.events import EventRecorder
from client.rest import Client
from controllers.base import Controller, SharedInformers
from controllers.garbagecollector import GarbageCollector
from controllers.manager import FACTORIES, ControllerManagerOptions
from kubelet.hollow import HollowNodes
from scheduler.scheduler import Scheduler


class WorkloadsCluster:
    def __init__(self, client: Client, data_dir: Path, *, nodes: int = 3,
                 controllers: Sequence[str] = (), node_prefix: str = "hollow-",
                 start_delay: float = 0.0, local_path: bool = False,
                 volume_bind_timeout: float = 30.0) -> None:
        self.client = client
        self.data_dir = data_dir
        self.node_count, self.node_prefix, self.start_delay = nodes, node_prefix, start_delay
        self.names = list(controllers)
        self.controllers: dict[str, Controller] = {}
        self.node_groups: list[HollowNodes] = []
        self._tasks: list[asyncio.Task[Any]] = []
        self._cidr = 0
        self.local_path = local_path
        self.volume_bind_timeout = volume_bind_timeout
        self.provisioners: dict[str, Any] = {}

    async def add_nodes(self, count: int, prefix: str) -> HollowNodes:
        self._cidr += 1
        nodes = HollowNodes(self.client.config, count, self.data_dir / prefix.strip("-"), prefix=prefix,
                            cidr_base=f"10.{200 + self._cidr}.0.0/16", serve_api=False,
                            relist_period=0.1, lease_interval=1.0, housekeeping_period=0.5,
                            start_delay=self.start_delay)
        await nodes.start()
        self.node_groups.append(nodes)
        if self.local_path:
            from kubelet.localpath.provisioner import LocalPathProvisioner
            for kubelet, client in zip(nodes.kubelets, nodes.clients):
                name = kubelet.config.node_name
                first = not self.provisioners
                prov = LocalPathProvisioner(client, name, self.storage_root(name), ensure_class=False)
                if first:       # the default class exists before the test makes a claim
                    await prov.ensure_default_class()
                self.provisioners[name] = prov
                self._tasks.append(asyncio.create_task(prov.run(), name=f"local-path-{name}"))
        return nodes

    def storage_root(self, node: str) -> Path:
        return self.data_dir / "storage" / node

    async def __aenter__(self) -> WorkloadsCluster:
        if self.node_count:
            await self.add_nodes(self.node_count, self.node_prefix)
        self.informers = SharedInformers(self.client)
        self.recorder = EventRecorder(self.client, "controller-manager")
        self.controllers["garbagecollector"] = GarbageCollector(self.client, self.informers, self.recorder)
        options = ControllerManagerOptions()
        for name in self.names:
            controller = FACTORIES[name][0](self.client, self.informers, self.recorder, options)
            if controller is not None:
                self.controllers[name] = controller
        self.scheduler = Scheduler(self.client, volume_bind_timeout=self.volume_bind_timeout)
        self._tasks += [asyncio.create_task(c.run(2), name=f"controller-{n}")
                        for n, c in self.controllers.items()]
        self._tasks.append(asyncio.create_task(self.scheduler.run(), name="scheduler"))
        await self.informers.start_all()
        return self

    def __getitem__(self, name: str) -> Any:
        return self.controllers[name]

    async def __aexit__(self, *exc: object) -> None:
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.informers.stop_all()
        await self.recorder.close(1.0)
        for nodes in self.node_groups:
            await nodes.stop()
