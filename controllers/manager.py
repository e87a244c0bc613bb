"""The controller-manager: builds the shared informers, the event recorders and every
enabled controller, and runs them, under leader election so that of several replicas only
one acts (Lease `kube-controller-manager` in kube-system).

Invariants:
- Controllers run only while this process leads. Each term builds everything afresh
  (informers, queues, controllers) and tears it down when leadership is lost; the process
  then campaigns again. Nothing is carried from one term to the next.
- `--controllers` takes Kubernetes' syntax: `*` (every default controller), `name` to
  enable one, `-name` to disable one.
"""
from __future__ import annotations

import asyncio
import logging
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from client import kubeconfig
from client.events import EventRecorder
from client.leaderelection import LeaderElector
from client.rest import Client
from controllers.base import Controller, SharedInformers

log = logging.getLogger(__name__)

LEASE_NAMESPACE, LEASE_NAME = "kube-system", "kube-controller-manager"
ALL_CONTROLLERS = ("endpoint", "namespace", "garbagecollector", "nodelifecycle", "nodeipam",
                   "replicaset", "deployment", "servicelb")


@dataclass
class ControllerManagerOptions:
    leader_elect: bool = True
    cluster_cidr: str = "10.244.0.0/16"
    node_cidr_mask_size: int = 24
    allocate_node_cidrs: bool = True
    node_monitor_grace_period: float = 40.0
    node_monitor_period: float = 5.0
    pod_eviction_timeout: float | None = None
    controllers: list[str] = field(default_factory=lambda: ["*"])
    workers: int = 5
    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0
    identity: str = field(default_factory=lambda: f"{socket.gethostname()}_{uuid.uuid4()}")


def enabled_controllers(spec: list[str], known: tuple[str, ...] = ALL_CONTROLLERS) -> list[str]:
    """Resolve `--controllers` (`*`, `name`, `-name`) to the names to run, in `known` order."""
    words = [w.strip() for item in spec for w in item.split(",") if w.strip()]
    unknown = [w.lstrip("-") for w in words if w != "*" and w.lstrip("-") not in known]
    if unknown:
        raise ValueError(f"unknown controller(s): {', '.join(unknown)}; known: {', '.join(known)}")
    star = "*" in words
    on = {w for w in words if w != "*" and not w.startswith("-")}
    off = {w[1:] for w in words if w.startswith("-")}
    return [n for n in known if (star or n in on) and n not in off]


Factory = Callable[[Client, SharedInformers, EventRecorder, ControllerManagerOptions], Controller]


def _endpoint(c: Client, i: SharedInformers, r: EventRecorder,
              o: ControllerManagerOptions) -> Controller:
    from controllers.endpoints import EndpointsController
    return EndpointsController(c, i, r)


def _namespace(c: Client, i: SharedInformers, r: EventRecorder,
               o: ControllerManagerOptions) -> Controller:
    from controllers.namespace import NamespaceController
    return NamespaceController(c, i, r)


def _gc(c: Client, i: SharedInformers, r: EventRecorder,
        o: ControllerManagerOptions) -> Controller:
    from controllers.garbagecollector import GarbageCollector
    return GarbageCollector(c, i, r)


def _nodelifecycle(c: Client, i: SharedInformers, r: EventRecorder,
                   o: ControllerManagerOptions) -> Controller:
    from controllers.nodelifecycle import NodeLifecycleController
    return NodeLifecycleController(c, i, r, grace_period=o.node_monitor_grace_period,
                                   monitor_period=o.node_monitor_period,
                                   pod_eviction_timeout=o.pod_eviction_timeout)


def _nodeipam(c: Client, i: SharedInformers, r: EventRecorder,
              o: ControllerManagerOptions) -> Controller:
    from controllers.nodeipam import NodeIpamController
    return NodeIpamController(c, i, r, cluster_cidr=o.cluster_cidr,
                              node_cidr_mask_size=o.node_cidr_mask_size)


def _replicaset(c: Client, i: SharedInformers, r: EventRecorder,
                o: ControllerManagerOptions) -> Controller:
    from controllers.replicaset import ReplicaSetController
    return ReplicaSetController(c, i, r)


def _deployment(c: Client, i: SharedInformers, r: EventRecorder,
                o: ControllerManagerOptions) -> Controller:
    from controllers.deployment import DeploymentController
    return DeploymentController(c, i, r)


def _servicelb(c: Client, i: SharedInformers, r: EventRecorder,
               o: ControllerManagerOptions) -> Controller:
    from controllers.servicelb import ServiceLBController
    return ServiceLBController(c, i, r)


# name -> (factory, event source component, as Kubernetes names them)
FACTORIES: dict[str, tuple[Factory, str]] = {
    "endpoint": (_endpoint, "endpoint-controller"),
    "namespace": (_namespace, "namespace-controller"),
    "garbagecollector": (_gc, "garbage-collector-controller"),
    "nodelifecycle": (_nodelifecycle, "node-controller"),
    "nodeipam": (_nodeipam, "node-ipam-controller"),
    "replicaset": (_replicaset, "replicaset-controller"),
    "deployment": (_deployment, "deployment-controller"),
    "servicelb": (_servicelb, "service-lb-controller"),
}


class ControllerManager:
    def __init__(self, client: Client, options: ControllerManagerOptions | None = None) -> None:
        self.client = client
        self.options = options or ControllerManagerOptions()
        if not self.options.allocate_node_cidrs:
            self.options.controllers = [*self.options.controllers, "-nodeipam"]
        self.names = enabled_controllers(self.options.controllers)
        self.controllers: dict[str, Controller] = {}
        self.informers: SharedInformers | None = None
        self.elector: LeaderElector | None = None
        self.leading = asyncio.Event()

    @classmethod
    def from_kubeconfig(cls, path: str | Path | None,
                        options: ControllerManagerOptions | None = None) -> ControllerManager:
        cfg = kubeconfig.load(str(path) if path else None)
        return cls(Client(cfg, component="controller-manager"), options)

    async def run(self) -> None:
        """Run until cancelled: lead (or wait to lead) and run the controllers."""
        if not self.options.leader_elect:
            await self.run_controllers()
            return
        o = self.options
        while True:
            self.elector = LeaderElector(
                self.client, LEASE_NAMESPACE, LEASE_NAME, o.identity,
                lease_duration=o.lease_duration, renew_deadline=o.renew_deadline,
                retry_period=o.retry_period, on_started_leading=self.run_controllers,
                release_on_cancel=True)
            await self.elector.run()
            log.warning("controller-manager %s lost leadership; campaigning again", o.identity)

    def build(self) -> tuple[SharedInformers, list[EventRecorder]]:
        """Create the informers, recorders and controllers of one term."""
        informers = SharedInformers(self.client)
        recorders: list[EventRecorder] = []
        self.controllers = {}
        for name in self.names:
            factory, component = FACTORIES[name]
            recorder = EventRecorder(self.client, component)
            try:
                self.controllers[name] = factory(self.client, informers, recorder,
                                                 self.options)
            except ImportError as e:
                log.error("controller %s is not available: %s", name, e)
                continue
            recorders.append(recorder)
        self.informers = informers
        return informers, recorders

    async def run_controllers(self) -> None:
        """Run one term's controllers until cancelled. Should one of them die of a bug,
        everything is rebuilt (after a second) rather than leading with a dead controller."""
        while True:
            try:
                await self._run_term()
                return
            except asyncio.CancelledError:
                raise
            except Exception:  # restart the term, keep leading
                log.exception("controller-manager: a controller failed; restarting all in 1s")
                await asyncio.sleep(1.0)

    async def _run_term(self) -> None:
        informers, recorders = self.build()
        tasks = [asyncio.create_task(c.run(self.options.workers), name=f"controller-{n}")
                 for n, c in self.controllers.items()]
        try:
            await informers.start_all()
            self.leading.set()
            log.info("controller-manager: running %s", ", ".join(self.controllers))
            await asyncio.gather(*tasks)
        finally:
            self.leading.clear()
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await informers.stop_all()
            for r in recorders:
                await r.close(timeout=1.0)

    async def close(self) -> None:
        await self.client.close()


async def run_controller_manager(kubeconfig_path: str | Path | None,
                                 options: ControllerManagerOptions) -> None:
    """The `pykube controller-manager` entry: run until cancelled, then close the client."""
    cm = ControllerManager.from_kubeconfig(kubeconfig_path, options)
    try:
        await cm.run()
    finally:
        await cm.close()

