"""sync_pod and kill_pod: the kubelet's actions on the runtime for one pod.

Owns `PodSyncer`, the thin I/O that applies `actions.compute_pod_actions` (kuberuntime's
SyncPod): kill the pod when its sandbox must be replaced, create the sandbox (volumes
and log directory first), kill containers that must go, then start containers in spec
order: crash-loop backoff, the image (images/manager.py: pull policy, pull backoff, offline
images built on the node; the sandbox image before any sandbox), environment (configMap /
secret refs fetched here), mounts, CRI create and start. Errors never escape: each
container's failure becomes a waiting reason (CrashLoopBackOff, ErrImagePull,
ImagePullBackOff, ErrImageNeverPull, CreateContainerConfigError, CreateContainerError,
RunContainerError) in `SyncResult`, with the time after which the pod worker should sync
again, and an Event as the kubelet records it (events.py: Created, Started, Failed,
BackOff, Killing, FailedMount, SandboxChanged, FailedCreatePodSandBox).

Also `kill_pod` (graceful: every container stopped concurrently with the grace period,
SIGTERM then SIGKILL, then the sandbox), `remove_pod` (containers, sandboxes, log files,
volumes, the pod's cgroups), and garbage collection of dead containers (the newest dead
instance of each container is kept, for `logs --previous`).
"""
from __future__ import annotations

import asyncio
import base64
import logging
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from api.models import ConfigMap, Pod, Secret, Service
from client.errors import APIError, NotFound
from client.rest import Client
from kubelet import events as ev
from kubelet.actions import compute_pod_actions
from kubelet.backoff import Backoff, backoff_key
from kubelet.env import EnvError, PodContext, expand_command, referenced_objects, resolve_env, service_env
from kubelet.events import KubeletEvents
from kubelet.images.manager import ImageManager
from kubelet.podconfig import NodeContext, container_config, pod_cgroup, pod_log_dir, sandbox_config
from kubelet.runtime.interface import ContainerState, Mount, Runtime, RuntimeServiceError
from kubelet.runtime_pod import RuntimePod, restart_count
from kubelet import etchosts
from kubelet.volumes import VolumeError, VolumeManager, mounts_for

log = logging.getLogger("kubelet.sync")


@dataclass
class SyncResult:
    waiting: dict[str, tuple[str, str]] = field(default_factory=dict)
    requeue_after: float | None = None

    def retry(self, seconds: float) -> None:
        self.requeue_after = seconds if self.requeue_after is None else min(self.requeue_after, seconds)


class PodSyncer:
    def __init__(self, runtime: Runtime, client: Client, node: NodeContext, volumes: VolumeManager,
                 node_name: str, host_ip: str, backoff: Backoff | None = None,
                 images: ImageManager | None = None, events: KubeletEvents | None = None) -> None:
        self.runtime, self.client, self.node, self.volumes = runtime, client, node, volumes
        self.node_name, self.host_ip = node_name, host_ip
        self.backoff = backoff or Backoff()
        self._master_env: tuple[float, dict[str, str]] = (0.0, {})
        self.events = events or KubeletEvents(None)
        self.images = images or ImageManager(runtime, self.events)

    # ------------------------------------------------------------------ sync
    async def sync_pod(self, pod: Pod, rp: RuntimePod, network_ready: bool,
                       unhealthy: dict[str, str] | None = None) -> SyncResult:
        assert pod.spec is not None
        result = SyncResult()
        actions = compute_pod_actions(pod, rp, unhealthy)
        grace = pod.spec.termination_grace_period_seconds or 30
        for sid in actions.stop_sandboxes:
            await self.runtime.stop_pod_sandbox(sid)
        if actions.kill_pod:
            if actions.create_sandbox and rp.sandbox is not None:
                self.events.pod(pod, ev.NORMAL, ev.SANDBOX_CHANGED,
                                "Pod sandbox changed, it will be killed and re-created.")
            await self.kill_pod(rp, grace, pod)
        sid, ip = actions.sandbox_id, rp.sandbox.ip if rp.sandbox else ""
        attempt = actions.attempt
        if actions.create_sandbox:
            if not network_ready and not pod.spec.host_network:
                for name in actions.start:
                    result.waiting[name] = ("ContainerCreating", "network is not ready")
                result.retry(1.0)
                return result
            try:
                await self.volumes.setup(pod)
            except VolumeError as e:
                self.events.pod(pod, ev.WARNING, ev.FAILED_MOUNT, ev.msg_failed_mount(e.volume, str(e)))
                return self._sandbox_failed(pod, actions.start, result, e)
            except (APIError, OSError) as e:
                return self._sandbox_failed(pod, actions.start, result, e)
            try:
                log_dir = pod_log_dir(self.node.log_root, pod)
                await asyncio.to_thread(log_dir.mkdir, parents=True, exist_ok=True)
                await self.images.ensure_sandbox_image()
                sid = await self.runtime.run_pod_sandbox(sandbox_config(pod, self.node, attempt))
                ip = (await self.runtime.pod_sandbox_status(sid)).ip
            except (RuntimeServiceError, OSError) as e:
                self.images.sandbox_failed()
                self.events.pod(pod, ev.WARNING, ev.FAILED_CREATE_SANDBOX, f"Failed to create pod sandbox: {e}")
                return self._sandbox_failed(pod, actions.start, result, e)
        for cid, why in actions.kill.items():
            log.info("pod %s: killing container %s: %s", pod.key, cid[:12], why)
            st = next((c for c in rp.containers if c.id == cid), None)
            if st is not None and st.state == ContainerState.RUNNING:
                msg = why if "probe" in why else f"{why}, will be restarted" if "definition changed" in why \
                    else f"Stopping container {st.name}"
                self.events.container(pod, st.name, ev.NORMAL, ev.KILLING, msg)
            await self._stop(cid, grace)
        for name in actions.start_ephemeral + actions.start:
            await self._start(pod, name, sid, attempt, ip, rp, result)
        await self._gc_containers(rp)
        return result

    @staticmethod
    def _sandbox_failed(pod: Pod, names: list[str], result: SyncResult, e: Exception) -> SyncResult:
        log.warning("pod %s: creating the sandbox failed: %s", pod.key, e)
        for name in names:
            result.waiting[name] = ("ContainerCreating", f"failed to create pod sandbox: {e}")
        result.retry(2.0)
        return result

    def _fail(self, pod: Pod, name: str, result: SyncResult, reason: str, message: str,
              retry: float = 2.0) -> None:
        """A container that could not start: its waiting reason and a Failed event."""
        result.waiting[name] = (reason, message)
        result.retry(retry)
        image_error = reason in ("ErrImagePull", "ImagePullBackOff", "ErrImageNeverPull")
        self.events.container(pod, name, ev.WARNING, ev.FAILED, f"Error: {reason if image_error else message}")

    async def _start(self, pod: Pod, name: str, sid: str, attempt: int, ip: str, rp: RuntimePod,
                     result: SyncResult) -> None:
        assert pod.spec is not None
        c = next(c for c in [*(pod.spec.init_containers or []), *pod.spec.containers,
                             *(pod.spec.ephemeral_containers or [])] if c.name == name)
        prev = rp.latest(name)
        key = backoff_key(pod.metadata.uid or "", name)
        if prev is not None and prev.state == ContainerState.EXITED and prev.finished_at is not None:
            fin, now = prev.finished_at.timestamp(), time.time()
            if self.backoff.in_backoff(key, fin, now):
                delay = self.backoff.delay(key)
                result.waiting[name] = ("CrashLoopBackOff", f"back-off {delay:g}s restarting failed container={name} "
                                        f"pod={pod.metadata.name}_{pod.metadata.namespace}({pod.metadata.uid})")
                result.retry(self.backoff.remaining(key, fin, now) + 0.05)
                self.events.container(pod, name, ev.WARNING, ev.BACKOFF, ev.msg_backoff_restart(pod, name))
                return
            self.backoff.next(key, fin)
        failure = await self.images.ensure_image_exists(pod, c)
        if failure is not None:
            self._fail(pod, name, result, *failure, retry=self.images.retry_after(pod, c))
            return
        try:
            cms, secrets = await self._env_objects(pod, c)
            env = resolve_env(pod, c, PodContext(ip, [ip] if ip else [], self.host_ip, self.node_name), cms, secrets,
                              await self._master_service_env())
            paths, read_only = await self.volumes.setup(pod)
            mounts = mounts_for(c, paths, read_only)
            mounts += self._hosts_mount(pod, ip, mounts)
        except (EnvError, VolumeError) as e:
            self._fail(pod, name, result, "CreateContainerConfigError", str(e))
            return
        count = restart_count(prev) + 1 if prev is not None else 0
        cfg = container_config(pod, c, count, expand_command(c.command, env), expand_command(c.args, env), env, mounts)
        target = getattr(c, "target_container_name", None)
        if target:   # an ephemeral container sharing a container's process namespace
            running = rp.latest(target)
            cfg.pid_target_id = running.id if running is not None and running.state == ContainerState.RUNNING else ""
        try:
            cid = await self.runtime.create_container(sid, cfg, sandbox_config(pod, self.node, attempt))
        except RuntimeServiceError as e:
            self._fail(pod, name, result, "CreateContainerError", str(e))
            return
        self.events.container(pod, name, ev.NORMAL, ev.CREATED, f"Created container: {name}")
        try:
            await self.runtime.start_container(cid)
        except RuntimeServiceError as e:
            self._fail(pod, name, result, "RunContainerError", str(e))
            return
        self.events.container(pod, name, ev.NORMAL, ev.STARTED, f"Started container {name}")

    def _hosts_mount(self, pod: Pod, ip: str, mounts: list[Mount]) -> list[Mount]:
        """/etc/hosts from the pod's directory, unless the container mounts its own."""
        if any(m.container_path == "/etc/hosts" for m in mounts):
            return []
        node_hosts = Path("/etc/hosts").read_text() if pod.spec and pod.spec.host_network else ""
        content = etchosts.render(pod, [ip] if ip else [], self.node.cluster_domain, node_hosts)
        if content is None:
            return []
        path = self.volumes.pod_dir(pod.metadata.uid or "") / "etc-hosts"
        etchosts.ensure(path, content)
        return [Mount(container_path="/etc/hosts", host_path=str(path))]

    async def _master_service_env(self) -> dict[str, str]:
        """KUBERNETES_SERVICE_HOST/PORT and friends, from the `kubernetes` Service (re-read at
        most once a minute). Other Services' link variables are not set (say so: pykube does
        not watch every Service from each kubelet)."""
        at, env = self._master_env
        if time.monotonic() - at < 60 and at:
            return env
        try:
            svc = await self.client.get(Service, "kubernetes", namespace="default")
            spec = svc.spec.to_dict() if svc.spec is not None else {}
            env = service_env("kubernetes", spec.get("clusterIP") or "", spec.get("ports") or [])
        except NotFound:
            env = {}
        self._master_env = (time.monotonic(), env)
        return env

    async def _env_objects(self, pod: Pod, c: object) -> tuple[dict[str, dict[str, str]], dict[str, dict[str, str]]]:
        ns = pod.metadata.namespace or "default"
        cm_names, secret_names = referenced_objects(c)  # type: ignore[arg-type]
        cms: dict[str, dict[str, str]] = {}
        secrets: dict[str, dict[str, str]] = {}
        for n in cm_names:
            try:
                cm = await self.client.get(ConfigMap, n, namespace=ns)
                cms[n] = dict(cm.data or {})
            except NotFound:
                pass
        for n in secret_names:
            try:
                s = await self.client.get(Secret, n, namespace=ns)
                secrets[n] = {k: base64.b64decode(v).decode(errors="replace") for k, v in (s.data or {}).items()}
            except NotFound:
                pass
        return cms, secrets

    # ------------------------------------------------------------------ kill / remove
    async def _stop(self, cid: str, grace: int) -> None:
        try:
            await self.runtime.stop_container(cid, timeout=grace)
        except RuntimeServiceError as e:  # includes NotFoundError: already gone
            log.debug("stopping %s: %s", cid[:12], e)

    async def kill_pod(self, rp: RuntimePod, grace: int, pod: Pod | None = None) -> None:
        """Stop every running container (SIGTERM, SIGKILL after `grace`), then the sandboxes;
        a Killing event for each when the pod is known."""
        if pod is not None:
            for c in rp.running:
                self.events.container(pod, c.name, ev.NORMAL, ev.KILLING, f"Stopping container {c.name}")
        await asyncio.gather(*(self._stop(c.id, grace) for c in rp.running))
        for sid in rp.ready_sandbox_ids:
            try:
                await self.runtime.stop_pod_sandbox(sid)
            except RuntimeServiceError as e:
                log.warning("stopping sandbox %s: %s", sid[:12], e)

    async def remove_pod(self, rp: RuntimePod, log_dir: Path | None) -> None:
        """Remove everything left of a killed pod: containers, sandboxes, logs, volumes, cgroups."""
        for c in rp.containers:
            await self._remove_container(c.id, c.log_path)
        for sid in rp.sandbox_ids:
            try:
                await self.runtime.remove_pod_sandbox(sid)
            except RuntimeServiceError as e:
                log.warning("removing sandbox %s: %s", sid[:12], e)
        if log_dir is not None:
            await asyncio.to_thread(shutil.rmtree, log_dir, True)
        await self.volumes.cleanup(rp.uid)
        await asyncio.to_thread(remove_cgroups, pod_cgroup(self.node.cgroup_parent, rp.uid))

    async def _remove_container(self, cid: str, log_path: str) -> None:
        try:
            await self.runtime.remove_container(cid)
        except RuntimeServiceError as e:
            log.warning("removing container %s: %s", cid[:12], e)
        if log_path:
            Path(log_path).unlink(missing_ok=True)

    async def _gc_containers(self, rp: RuntimePod) -> None:
        """Keep the newest dead instance of each container; remove older dead ones."""
        seen_dead: set[str] = set()
        for c in rp.containers:  # newest first
            if c.state != ContainerState.EXITED:
                continue
            if c.name in seen_dead:
                await self._remove_container(c.id, c.log_path)
            seen_dead.add(c.name)


def remove_cgroups(cgroup: str, root: Path = Path("/sys/fs/cgroup")) -> None:
    """Remove a pod's cgroup directory (and empty children) in every hierarchy."""
    if not cgroup or not root.is_dir():
        return
    rel = cgroup.strip("/")
    for base in [root, *(p for p in root.iterdir() if p.is_dir() and not p.is_symlink())]:
        d = base / rel
        if not d.is_dir():
            continue
        for sub in sorted((p for p in d.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
            try:
                sub.rmdir()
            except OSError:
                pass
        try:
            d.rmdir()
        except OSError:
            pass
