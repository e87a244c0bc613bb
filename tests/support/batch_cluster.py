"""Test support: a small cluster for the batch controllers against the in-process
apiserver - hollow kubelets (the fake runtime, as kubemark's), the real scheduler and
garbage collector, and whichever of the Job, CronJob, TTL-after-finished,
ReplicationController and PodGC controllers a test asks for, each on the controller-manager's SharedInformers.

`BatchCluster(client, tmp_path, nodes=2, cronjob_clock=clock, ...)` is an async context
manager; `eventually(fn)` (from apps_cluster) polls for a condition.
"""
from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from client.events import EventRecorder
from client.rest import Client
from controllers.base import Controller, SharedInformers
from controllers.garbagecollector import GarbageCollector
from kubelet.hollow import HollowNodes
from scheduler.scheduler import Scheduler


class BatchCluster:
    def __init__(self, client: Client, data_dir: Path, *, nodes: int = 2, jobs: bool = True,
                 cronjob_clock: Callable[[], datetime] | None = None,
                 replication: bool = False, podgc: dict[str, Any] | None = None,
                 job_options: dict[str, Any] | None = None, node_prefix: str = "hollow-",
                 ttl: bool = False) -> None:
        self.client = client
        self.data_dir = data_dir
        self.node_count, self.node_prefix = nodes, node_prefix
        self.want_jobs, self.cronjob_clock = jobs, cronjob_clock
        self.want_rc, self.podgc_options, self.want_ttl = replication, podgc, ttl
        self.job_options = {"sync_batch_period": 0.05, "backoff_base": 0.2, **(job_options or {})}
        self.controllers: dict[str, Controller] = {}
        self._tasks: list[asyncio.Task[Any]] = []

    async def __aenter__(self) -> BatchCluster:
        self.nodes = HollowNodes(self.client.config, self.node_count, self.data_dir,
                                 prefix=self.node_prefix, cidr_base="10.252.0.0/16",
                                 serve_api=False, relist_period=0.1, lease_interval=1.0,
                                 housekeeping_period=0.5)
        await self.nodes.start()
        self.informers = SharedInformers(self.client)
        self.recorder = EventRecorder(self.client, "controller-manager")
        self._build()
        self.scheduler = Scheduler(self.client)
        self._tasks = [asyncio.create_task(c.run(2), name=f"controller-{n}")
                       for n, c in self.controllers.items()]
        self._tasks.append(asyncio.create_task(self.scheduler.run(), name="scheduler"))
        await self.informers.start_all()
        return self

    def _build(self) -> None:
        c, i, r = self.client, self.informers, self.recorder
        self.controllers["garbagecollector"] = GarbageCollector(c, i, r)
        if self.want_jobs:
            from controllers.job import JobController
            self.controllers["job"] = JobController(c, i, r, **self.job_options)
        if self.cronjob_clock is not None:
            from controllers.cronjob import CronJobController
            self.controllers["cronjob"] = CronJobController(c, i, r, clock=self.cronjob_clock,
                                                            local_zone=UTC)
        if self.want_ttl:
            from controllers.ttlafterfinished import TTLAfterFinishedController
            self.controllers["ttl-after-finished"] = TTLAfterFinishedController(c, i, r)
        if self.want_rc:
            from controllers.replication import ReplicationManager
            self.controllers["replicationcontroller"] = ReplicationManager(c, i, r)
        if self.podgc_options is not None:
            from controllers.podgc import PodGCController
            self.controllers["podgc"] = PodGCController(c, i, r, **self.podgc_options)

    def __getitem__(self, name: str) -> Any:
        return self.controllers[name]

    async def __aexit__(self, *exc: object) -> None:
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.informers.stop_all()
        await self.recorder.close(1.0)
        await self.nodes.stop()
