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
                   "replicaset", "deployment", "servicelb", "csrsigning", "serviceaccount",
                   "root-ca-cert-publisher", "clusterrole-aggregation", "resourcequota",
                   "replicationcontroller", "job", "cronjob", "ttl-after-finished", "podgc",
                   "daemonset", "statefulset", "persistentvolume-binder", "pvc-protection",
                   "pv-protection", "disruption", "endpointslice", "endpointslicemirroring",
                   "horizontalpodautoscaling")


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
    terminated_pod_gc_threshold: int = 12500
    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0
    identity: str = field(default_factory=lambda: f"{socket.gethostname()}_{uuid.uuid4()}")
    cluster_signing_cert_file: str | None = None   # the CA that signs approved CSRs
    cluster_signing_key_file: str | None = None
    root_ca_file: str | None = None   # published to every namespace as kube-root-ca.crt
    hpa_sync_period: float = 15.0                 # --horizontal-pod-autoscaler-sync-period
    hpa_downscale_stabilization: float = 300.0    # --horizontal-pod-autoscaler-downscale-stabilization
    hpa_tolerance: float = 0.1                    # --horizontal-pod-autoscaler-tolerance


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


Factory = Callable[[Client, SharedInformers, EventRecorder, ControllerManagerOptions], "Controller | None"]


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


def _csrsigning(c: Client, i: SharedInformers, r: EventRecorder,
                o: ControllerManagerOptions) -> Controller | None:
    from controllers.csrsigning import CSRSigningController
    if not (o.cluster_signing_cert_file and o.cluster_signing_key_file):
        log.info("csrsigning: no --cluster-signing-cert-file/--cluster-signing-key-file; not signing")
        return None
    return CSRSigningController(c, i, r, ca_cert=Path(o.cluster_signing_cert_file),
                                ca_key=Path(o.cluster_signing_key_file))


def _serviceaccount(c: Client, i: SharedInformers, r: EventRecorder,
                    o: ControllerManagerOptions) -> Controller | None:
    from controllers.serviceaccounts import ServiceAccountsController
    return ServiceAccountsController(c, i, r)


def _root_ca(c: Client, i: SharedInformers, r: EventRecorder,
             o: ControllerManagerOptions) -> Controller | None:
    from controllers.serviceaccounts import RootCACertPublisher
    if not o.root_ca_file:
        log.info("root-ca-cert-publisher: no --root-ca-file; not publishing kube-root-ca.crt")
        return None
    return RootCACertPublisher(c, i, r, ca_file=Path(o.root_ca_file))


def _aggregation(c: Client, i: SharedInformers, r: EventRecorder,
                 o: ControllerManagerOptions) -> Controller | None:
    from controllers.clusterroleaggregation import ClusterRoleAggregationController
    return ClusterRoleAggregationController(c, i, r)


def _resourcequota(c: Client, i: SharedInformers, r: EventRecorder,
                   o: ControllerManagerOptions) -> Controller | None:
    from controllers.resourcequota import ResourceQuotaController
    return ResourceQuotaController(c, i, r)


def _replicationcontroller(c: Client, i: SharedInformers, r: EventRecorder,
                           o: ControllerManagerOptions) -> Controller:
    from controllers.replication import ReplicationManager
    return ReplicationManager(c, i, r)


def _job(c: Client, i: SharedInformers, r: EventRecorder,
         o: ControllerManagerOptions) -> Controller:
    from controllers.job import JobController
    return JobController(c, i, r)


def _cronjob(c: Client, i: SharedInformers, r: EventRecorder,
             o: ControllerManagerOptions) -> Controller:
    from controllers.cronjob import CronJobController
    return CronJobController(c, i, r)


def _ttl_after_finished(c: Client, i: SharedInformers, r: EventRecorder,
                        o: ControllerManagerOptions) -> Controller:
    from controllers.ttlafterfinished import TTLAfterFinishedController
    return TTLAfterFinishedController(c, i, r)


def _podgc(c: Client, i: SharedInformers, r: EventRecorder,
           o: ControllerManagerOptions) -> Controller:
    from controllers.podgc import PodGCController
    return PodGCController(c, i, r, terminated_pod_threshold=o.terminated_pod_gc_threshold)


def _daemonset(c: Client, i: SharedInformers, r: EventRecorder,
               o: ControllerManagerOptions) -> Controller:
    from controllers.daemonset import DaemonSetsController
    return DaemonSetsController(c, i, r)


def _statefulset(c: Client, i: SharedInformers, r: EventRecorder,
                 o: ControllerManagerOptions) -> Controller:
    from controllers.statefulset import StatefulSetController
    return StatefulSetController(c, i, r)


def _pv_binder(c: Client, i: SharedInformers, r: EventRecorder,
               o: ControllerManagerOptions) -> Controller:
    from controllers.persistentvolume import PersistentVolumeController
    return PersistentVolumeController(c, i, r)


def _pvc_protection(c: Client, i: SharedInformers, r: EventRecorder,
                    o: ControllerManagerOptions) -> Controller:
    from controllers.storageprotection import PVCProtectionController
    return PVCProtectionController(c, i, r)


def _pv_protection(c: Client, i: SharedInformers, r: EventRecorder,
                   o: ControllerManagerOptions) -> Controller:
    from controllers.storageprotection import PVProtectionController
    return PVProtectionController(c, i, r)


def _disruption(c: Client, i: SharedInformers, r: EventRecorder,
                o: ControllerManagerOptions) -> Controller:
    from controllers.disruption import DisruptionController
    return DisruptionController(c, i, r)


def _endpointslice(c: Client, i: SharedInformers, r: EventRecorder,
                   o: ControllerManagerOptions) -> Controller:
    from controllers.endpointslice import EndpointSliceController
    return EndpointSliceController(c, i, r)


def _endpointslicemirroring(c: Client, i: SharedInformers, r: EventRecorder,
                            o: ControllerManagerOptions) -> Controller:
    from controllers.endpointslicemirroring import EndpointSliceMirroringController
    return EndpointSliceMirroringController(c, i, r)


def _hpa(c: Client, i: SharedInformers, r: EventRecorder,
         o: ControllerManagerOptions) -> Controller:
    from controllers.hpa import HorizontalController
    return HorizontalController(c, i, r, sync_period=o.hpa_sync_period,
                                downscale_stabilization=o.hpa_downscale_stabilization, tolerance=o.hpa_tolerance)


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
    "csrsigning": (_csrsigning, "certificatesigningrequest-signing-controller"),
    "serviceaccount": (_serviceaccount, "serviceaccount-controller"),
    "root-ca-cert-publisher": (_root_ca, "root-ca-cert-publisher"),
    "clusterrole-aggregation": (_aggregation, "clusterrole-aggregation-controller"),
    "resourcequota": (_resourcequota, "resourcequota-controller"),
    "replicationcontroller": (_replicationcontroller, "replication-controller"),
    "job": (_job, "job-controller"),
    "cronjob": (_cronjob, "cronjob-controller"),
    "ttl-after-finished": (_ttl_after_finished, "ttlafterfinished-controller"),
    "podgc": (_podgc, "pod-garbage-collector"),
    "daemonset": (_daemonset, "daemonset-controller"),
    "statefulset": (_statefulset, "statefulset-controller"),
    "persistentvolume-binder": (_pv_binder, "persistentvolume-controller"),
    "pvc-protection": (_pvc_protection, "pvc-protection-controller"),
    "pv-protection": (_pv_protection, "pv-protection-controller"),
    "disruption": (_disruption, "controllermanager"),
    "endpointslice": (_endpointslice, "endpoint-slice-controller"),
    "endpointslicemirroring": (_endpointslicemirroring, "endpointslice-mirroring-controller"),
    "horizontalpodautoscaling": (_hpa, "horizontal-pod-autoscaler"),
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
                controller = factory(self.client, informers, recorder, self.options)
            except ImportError as e:
                log.error("controller %s is not available: %s", name, e)
                continue
            if controller is None:   # not configured (e.g. no signing CA)
                continue
            self.controllers[name] = controller
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

