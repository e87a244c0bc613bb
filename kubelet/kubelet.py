"""The Kubelet: wires the node agent together and runs one pod worker per pod.

Owns start-up and shutdown order and the per-pod sync that the workers run:
1. the runtime: the fake one (hollow node), or CRI at `--container-runtime-endpoint`, or
   the private containerd under the data dir, started when none answers and we are
   root (k3s' way), with every archive in `<data dir>/agent/images/` imported; the
   sandbox image (`--pod-infra-container-image`) is made sure of in the background (built
   on the node when it is the offline one, else pulled; images/manager.py);
2. the Node registered, its status and Lease kept by `NodeStatusManager`; the CNI
   config written once the pod CIDR is known;
3. the kubelet API server (logs, exec, stats from cgroups: kubelet/stats/) on `--port`;
4. an informer on the pods bound to this node (fieldSelector spec.nodeName, served
   from the apiserver's watch cache) feeding `PodWorkers`, a relisting PLEG that wakes
   the worker of a pod whose containers changed state, and housekeeping that finds
   pods the runtime holds but the apiserver no longer has (e.g. deleted while the
   kubelet was down) and removes them.

`_sync(uid)` is the whole life of a pod on the node: run it (`PodSyncer.sync_pod`),
report its status, keep its probes; when it is being deleted, kill it with its grace
period, write the final status, clean up and delete the object with grace 0; when it is
gone from the apiserver, kill and remove whatever is left.
"""
from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

from api.meta import now_rfc3339
from api.models import Pod
from client import kubeconfig
from client.errors import APIError
from client.informer import Informer, drop_managed_fields
from client.rest import Client
from kubelet.backoff import Backoff
from kubelet.config import KubeletConfig
from kubelet import eviction
from kubelet.events import WARNING, KubeletEvents
from kubelet.images.manager import ImageManager
from kubelet.images.offline import OfflineImages
from kubelet.network import write_cni_config
from kubelet.node_status import NodeInfo, NodeStatusManager, default_node_ip, host_capacity
from kubelet.pod_workers import DONE, PodWorkers, cancel_and_wait
from kubelet.podconfig import NodeContext, pod_log_dir
from kubelet.probes import LIVENESS, STARTUP, FakeProber, ProbeManager, Prober, ProbeTarget
from kubelet.runtime.containerd import Containerd, ContainerdOptions
from kubelet.runtime.cri import CRIRuntime
from kubelet.runtime.fake import FakeRuntime, IPPool
from kubelet.runtime.interface import LABEL_POD_UID, ContainerState, Runtime, RuntimeServiceError
from kubelet.runtime_pod import RuntimePod, get_runtime_pod
from kubelet.auth import KubeletAuth
from kubelet.server import KubeletServer, ensure_serving_cert
from kubelet.stats.provider import StatsProvider
from kubelet.stats.routes import stats_routes
from kubelet.status import StatusContext, StatusManager, generate_pod_status
from kubelet.sync import PodSyncer
from kubelet.volumes import VolumeManager

log = logging.getLogger("kubelet")


class Kubelet:
    def __init__(self, config: KubeletConfig, client: Client | None = None,
                 runtime: Runtime | None = None, kubeconfig_path: str | None = None) -> None:
        self.config = config
        self._own_client = client is None
        self.client = client or Client(kubeconfig.load(kubeconfig_path), component="kubelet")
        self.runtime: Runtime = runtime  # type: ignore[assignment]
        self.containerd: Containerd | None = None
        self.pods: dict[str, Pod] = {}
        self.node_ip = config.node_ip or default_node_ip()
        self.pod_cidr: str | None = None
        self.network_ready = False
        self.runtime_scheme = "containerd"
        self._terminated: set[str] = set()
        self._evicted: dict[str, str] = {}   # pod uid -> the eviction message
        self._tasks: list[asyncio.Task[Any]] = []
        self.informer: Informer | None = None
        self.server: KubeletServer | None = None
        self.workers = PodWorkers(self._sync, resync_period=config.resync_period)
        self.events = KubeletEvents.for_node(self.client, config.node_name, config.record_events)
        self.offline_images: OfflineImages | None = None
        self.eviction: eviction.EvictionManager | None = None

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        cfg = self.config
        if self.runtime is None:
            self.runtime = await self._open_runtime()
        version = await self.runtime.version()
        self.runtime_scheme = "containerd" if version.runtime_name == "containerd" else version.runtime_name
        node = NodeContext(cfg.log_dir, cfg.cgroup_parent, cfg.cluster_dns or None, cfg.cluster_domain)
        self.volumes = VolumeManager(cfg.pods_dir, self.client)
        sandbox_image = "" if cfg.runtime == "fake" else cfg.pod_infra_container_image
        self.images = ImageManager(self.runtime, self.events, self.offline_images, sandbox_image,
                                   pull_secrets=self._pull_secret)
        self.syncer = PodSyncer(self.runtime, self.client, node, self.volumes, cfg.node_name, self.node_ip,
                                Backoff(cfg.crashloop_backoff_base, cfg.crashloop_backoff_cap),
                                self.images, self.events)
        self.status = StatusManager(self.client)
        prober = FakeProber(self.runtime) if cfg.runtime == "fake" else Prober(self.runtime)
        self.probes = ProbeManager(prober, self.workers.update, self._probe_failed)
        port = cfg.port
        self.stats = StatsProvider(self.runtime, cfg.node_name, cfg.cgroup_parent, self._pod_start_time)
        if cfg.serve_api:
            cert, key = ensure_serving_cert(cfg.pki_dir, cfg.node_name, [self.node_ip])
            auth = KubeletAuth(self.client, self.client.config.token, cfg.node_name)
            self.server = KubeletServer(self, auth, cert, key, cfg.bind_address, cfg.port,
                                        stats_routes(self.stats))
            await self.server.start()
            port = self.server.port
        info = NodeInfo(cfg.node_name, self.node_ip, port,
                        host_capacity(cfg.max_pods, cfg.data_dir, cfg.capacity_cpu, cfg.capacity_memory),
                        f"{self.runtime_scheme}://{version.runtime_version}")
        self.node_status = NodeStatusManager(
            self.client, info, self._problems, pod_cidr=cfg.pod_cidr, labels=cfg.labels,
            lease_interval=cfg.lease_interval, report_interval=cfg.status_report_interval,
            on_pod_cidr=self._on_pod_cidr, on_ready=self.events.node_ready,
            pressure=lambda: self.eviction.pressure if self.eviction is not None else set())
        self.events.node("Normal", "Starting", "Starting kubelet.")
        await self.node_status.register()
        await self.node_status.renew_lease()
        self.informer = Informer(self.client, Pod, field_selector=f"spec.nodeName={cfg.node_name}",
                                 transform=drop_managed_fields)
        self.informer.add_handlers(self._on_pod, lambda old, new: self._on_pod(new), self._on_pod_deleted)
        await self.informer.start()
        self._spawn(self.node_status.run(), "node-status")
        self._spawn(self._pleg(), "pleg")
        self._spawn(self._housekeeping(), "housekeeping")
        if sandbox_image:
            self._spawn(self._ensure_sandbox_image(), "sandbox-image")
        hard = cfg.eviction_hard if cfg.eviction_hard is not None else \
            ("" if cfg.runtime == "fake" else eviction.DEFAULT_HARD)
        if thresholds := eviction.parse_thresholds(hard):
            self.eviction = eviction.EvictionManager(thresholds, cfg.data_dir)
            self._spawn(self.eviction.run(cfg.eviction_interval, self.stats.sample, self._active_pods, self._evict,
                                          self.events.node, self.node_status.trigger), "eviction")
        log.info("kubelet %s started (runtime %s, port %d)", cfg.node_name, self.runtime_scheme, port)

    def _spawn(self, coro: Any, name: str) -> None:
        self._tasks.append(asyncio.create_task(coro, name=f"kubelet-{self.config.node_name}-{name}"))

    async def stop(self) -> None:
        """Stop the agent; pods keep running (a restarted kubelet adopts them)."""
        await cancel_and_wait(self._tasks)
        self._tasks.clear()
        if self.informer is not None:
            await self.informer.stop()
        await self.workers.close()
        if hasattr(self, "probes"):
            await self.probes.close()
        if self.server is not None:
            await self.server.stop()
        if self.runtime is not None:
            await self.runtime.close()
        await self.events.close()
        if self.containerd is not None:
            await self.containerd.stop(keep_pods=True)
        if self._own_client:
            await self.client.close()

    async def run(self) -> None:
        await self.start()
        try:
            await asyncio.Event().wait()
        finally:
            await self.stop()

    async def _open_runtime(self) -> Runtime:
        cfg = self.config
        if cfg.runtime == "fake":
            self.network_ready = False
            return FakeRuntime(pod_cidr=cfg.pod_cidr or "192.0.2.0/30", start_delay=cfg.fake_start_delay)
        if cfg.runtime != "cri":
            raise ValueError(f"unknown runtime {cfg.runtime!r} (cri or fake)")
        if cfg.runtime_endpoint:
            socket = cfg.runtime_endpoint.split("://", 1)[-1]
            self.offline_images = OfflineImages(cfg.images_dir, socket)
            return CRIRuntime(cfg.runtime_endpoint)
        opts = ContainerdOptions(data_dir=cfg.containerd_dir, cni_conf_dir=cfg.effective_cni_conf_dir,
                                 sandbox_image=cfg.pod_infra_container_image)
        self._registries(opts)
        self.offline_images = OfflineImages(cfg.images_dir, opts.socket)
        rt = CRIRuntime(f"unix://{opts.socket}")
        try:
            async with asyncio.timeout(3):
                await rt.version()
        except (RuntimeServiceError, TimeoutError):
            if os.geteuid() != 0:
                raise RuntimeServiceError(f"no containerd answers on {opts.socket} and only root may start one") from None
            log.info("starting containerd under %s", opts.data_dir)
            self.containerd = Containerd(opts)
            await self.containerd.start()
        if cfg.import_images and cfg.images_dir.is_dir():
            importer = self.containerd or Containerd(opts)
            for tar in await importer.import_images_dir(cfg.images_dir):
                log.info("imported %s", tar.name)
        return rt

    def _registries(self, opts: ContainerdOptions) -> None:
        """registries.yaml into containerd's options and its certs.d (read live by containerd);
        the cluster CA, the one this node joined with, is trusted for every registry in it."""
        from kubelet.images import registries
        from kubelet.runtime.containerd import write_registry_hosts
        path = self.config.registries_file
        if path is None:
            return
        try:
            cfg = registries.parse(path.read_text()) if path.exists() else registries.Registries()
        except (OSError, registries.RegistriesError) as e:
            raise RuntimeServiceError(f"registries file {path}: {e}") from e
        ca = ""
        if ca_pem := self.client.config.ca_data:
            ca_path = self.config.agent_dir / "server-ca.crt"
            ca_path.parent.mkdir(parents=True, exist_ok=True)
            ca_path.write_bytes(ca_pem)
            ca = str(ca_path)
        elif self.client.config.ca_file:
            ca = str(self.client.config.ca_file)
        opts.registry_hosts, opts.registry_auths = registries.hosts_files(cfg, ca), registries.cri_auths(cfg)
        write_registry_hosts(opts)
        log.info("registries from %s: %s", path, ", ".join(opts.registry_hosts) or "none")

    async def _pull_secret(self, namespace: str, name: str) -> dict[str, Any] | None:
        """A pod's image pull Secret as {type, data}, or None when it cannot be read."""
        from api.models.core import Secret
        try:
            s = await self.client.get(Secret, name, namespace=namespace)
        except APIError as e:
            log.warning("image pull secret %s/%s: %s", namespace, name, e)
            return None
        return {"type": s.type, "data": dict(s.data or {})}

    async def _ensure_sandbox_image(self) -> None:
        """The sandbox image, made sure of at start (pods would wait for it otherwise)."""
        try:
            await self.images.ensure_sandbox_image()
        except RuntimeServiceError as e:
            log.error("the sandbox image %s is missing and could not be provided: %s",
                      self.config.pod_infra_container_image, e)

    # ------------------------------------------------------------------ node
    async def _on_pod_cidr(self, cidr: str) -> None:
        self.pod_cidr = cidr
        if isinstance(self.runtime, FakeRuntime):
            if str(self.runtime.ips.network) != cidr:
                self.runtime.ips = IPPool(cidr)
            self.network_ready = True
            return
        conf_dir = self.config.effective_cni_conf_dir
        await asyncio.to_thread(write_cni_config, conf_dir, cidr, self.config.cni_bridge,
                                self.config.cni_network, self.config.ipam_dir)
        log.info("CNI config for %s written to %s", cidr, conf_dir)
        self._spawn(self._await_network(), "network")

    async def _await_network(self, timeout: float = 20.0) -> None:
        """containerd reloads the CNI config on its own; report Ready as soon as it has."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            await self._problems()
            if self.network_ready:
                self.node_status.trigger()
                self.workers_wake_all()
                return
            await asyncio.sleep(0.2)

    def workers_wake_all(self) -> None:
        for uid in list(self.pods):
            self.workers.update(uid)

    async def _problems(self) -> list[str]:
        problems: list[str] = []
        try:
            conds = await self.runtime.status()
        except RuntimeServiceError as e:
            return [f"container runtime is down: {e}"]
        for c in conds:
            if not c.status:
                what = "network " if c.type == "NetworkReady" else ""
                problems.append(f"container runtime {what}not ready: {c.type}=false reason:{c.reason} message:{c.message}")
        if self.pod_cidr is None:
            problems.append("network not ready: the node has no pod CIDR yet")
        self.network_ready = not any("network" in p for p in problems)
        return problems

    # ------------------------------------------------------------------ pods
    def find_pod(self, namespace: str, name: str) -> Pod | None:
        if self.informer is None:
            return None
        pod: Pod | None = self.informer.store.get(f"{namespace}/{name}")
        return pod

    def _on_pod(self, pod: Pod) -> None:
        uid = pod.metadata.uid or ""
        if pod.spec is None or pod.spec.node_name != self.config.node_name:
            return
        self.pods[uid] = pod
        self.workers.update(uid)

    def _on_pod_deleted(self, pod: Pod) -> None:
        uid = pod.metadata.uid or ""
        self.pods.pop(uid, None)
        self.workers.update(uid)

    def _unhealthy(self, rp: RuntimePod) -> dict[str, str]:
        out = {}
        for c in rp.running:
            if self.probes.result(c.id, STARTUP) is False:
                out[c.id] = f"Container {c.name} failed startup probe, will be restarted"
            elif self.probes.result(c.id, LIVENESS) is False:
                out[c.id] = f"Container {c.name} failed liveness probe, will be restarted"
        return out

    def _pod_start_time(self, uid: str) -> str | None:
        pod = self.pods.get(uid)
        return pod.status.start_time if pod is not None and pod.status is not None else None

    def _probe_failed(self, uid: str, container: Any, kind: str, output: str) -> None:
        pod = self.pods.get(uid)
        if pod is not None:
            self.events.container(pod, container.name, WARNING, "Unhealthy",
                                  f"{kind.capitalize()} probe failed: {output}")

    def _status_context(self, waiting: dict[str, tuple[str, str]] | None = None) -> StatusContext:
        return StatusContext(host_ip=self.node_ip, runtime_scheme=self.runtime_scheme,
                             waiting=waiting or {}, probe=self.probes)

    async def _sync(self, uid: str) -> float | None | object:
        pod = self.pods.get(uid)
        rp = await get_runtime_pod(self.runtime, uid)
        if pod is None:
            return await self._remove_gone(uid, rp)
        if pod.metadata.deletion_timestamp or uid in self._terminated:
            return await self._terminate(pod, rp)
        if uid in self._evicted or eviction.is_evicted(pod):
            return await self._sync_evicted(pod, rp)
        if not self.network_ready:
            await self._problems()
        result = await self.syncer.sync_pod(pod, rp, self.network_ready, self._unhealthy(rp))
        rp = await get_runtime_pod(self.runtime, uid)
        await self.status.set(pod, generate_pod_status(pod, rp, self._status_context(result.waiting)))
        self.probes.sync_pod(uid, [ProbeTarget(c, st.id, st.started_at, rp.sandbox.ip if rp.sandbox else "")
                                   for c in [*(i for i in pod.spec.init_containers or []
                                               if i.restart_policy == "Always"), *pod.spec.containers]
                                   for st in [rp.latest(c.name)] if st and st.state == ContainerState.RUNNING])
        return result.requeue_after

    def _active_pods(self) -> list[Pod]:
        """Pods eviction may choose from: running here, not deleted, not finished or evicted."""
        return [p for uid, p in self.pods.items() if uid not in self._evicted and not p.metadata.deletion_timestamp
                and not (p.status and p.status.phase in ("Succeeded", "Failed"))]

    def _evict(self, pod: Pod, message: str) -> None:
        uid = pod.metadata.uid or ""
        self._evicted[uid] = message
        self.events.pod(pod, WARNING, eviction.EVICTED, message)
        self.workers.update(uid)

    async def _sync_evicted(self, pod: Pod, rp: RuntimePod) -> object:
        """An evicted pod: killed at once, never restarted, reported Failed/Evicted."""
        uid = pod.metadata.uid or ""
        message = self._evicted.get(uid) or (pod.status.message if pod.status else None) or ""
        self.probes.remove_pod(uid)
        if rp.running or rp.ready_sandbox_ids:
            await self.syncer.kill_pod(rp, 0, pod)
            rp = await get_runtime_pod(self.runtime, uid)
        status = generate_pod_status(pod, rp, self._status_context())
        await self.status.set(pod, eviction.evicted_status(status, message, now_rfc3339()))
        return DONE

    async def _terminate(self, pod: Pod, rp: RuntimePod) -> object:
        """Graceful deletion: stop within the grace period, report, clean up, delete."""
        uid = pod.metadata.uid or ""
        if uid not in self._terminated:
            grace = pod.metadata.deletion_grace_period_seconds
            if grace is None:
                grace = (pod.spec.termination_grace_period_seconds if pod.spec else None) or 30
            self.probes.remove_pod(uid)
            await self.syncer.kill_pod(rp, grace, pod)
            rp = await get_runtime_pod(self.runtime, uid)
            await self.status.set(pod, generate_pod_status(pod, rp, self._status_context()))
            await self.syncer.remove_pod(rp, pod_log_dir(self.config.log_dir, pod))
            self._terminated.add(uid)
        try:
            await self.client.delete(Pod, pod.metadata.name or "", namespace=pod.metadata.namespace,
                                     grace_period_seconds=0, preconditions={"uid": uid})
        except APIError as e:
            if e.code not in (404, 409):
                raise
        self.status.forget(uid)
        self.syncer.backoff.forget(uid)
        self.images.forget(uid)
        return DONE

    async def _remove_gone(self, uid: str, rp: RuntimePod) -> object:
        if rp.sandbox is not None or rp.containers:
            await self.syncer.kill_pod(rp, 2)
            rp = await get_runtime_pod(self.runtime, uid)
            log_dirs = list(self.config.log_dir.glob(f"*_{uid}")) if self.config.log_dir.is_dir() else []
            await self.syncer.remove_pod(rp, log_dirs[0] if log_dirs else None)
            log.info("removed pod %s, gone from the apiserver", uid)
        self.probes.remove_pod(uid)
        self.status.forget(uid)
        self.syncer.backoff.forget(uid)
        self.images.forget(uid)
        self._terminated.discard(uid)
        self._evicted.pop(uid, None)
        return DONE

    async def _pleg(self) -> None:
        """Relist containers; wake the worker of every pod whose containers changed."""
        prev: dict[str, tuple[str, ContainerState]] = {}
        while True:
            await asyncio.sleep(self.config.relist_period)
            try:
                containers = await self.runtime.list_containers()
            except RuntimeServiceError as e:
                log.warning("relist failed: %s", e)
                continue
            cur = {c.id: (c.labels.get(LABEL_POD_UID, ""), c.state) for c in containers}
            changed = {v[0] for k, v in cur.items() if prev.get(k) != v}
            changed |= {v[0] for k, v in prev.items() if k not in cur}
            prev = cur
            for uid in changed:
                if uid and (uid in self.pods or uid in self.workers):
                    self.workers.update(uid)

    async def _housekeeping(self) -> None:
        """Remove pods the runtime runs but the apiserver no longer has."""
        assert self.informer is not None
        await self.informer.wait_synced()
        while True:
            try:
                for sb in await self.runtime.list_pod_sandboxes():
                    uid = sb.labels.get(LABEL_POD_UID, sb.uid)
                    if uid and uid not in self.pods and uid not in self.workers:
                        self.workers.update(uid)
            except RuntimeServiceError as e:
                log.warning("housekeeping failed: %s", e)
            await asyncio.sleep(self.config.housekeeping_period)
