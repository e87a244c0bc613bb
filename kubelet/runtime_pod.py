"""What the runtime holds for one pod: its sandboxes and containers, read through CRI.

Owns `RuntimePod` (the newest sandbox with its network status, the older sandboxes, and
every container of the pod with its full status, newest first) and `get_runtime_pod`,
which reads it with the kubelet's identity labels, so a restarted kubelet finds the pods
a previous one started. Also the kubelet's container annotations: the spec hash (a
changed container is restarted) and the restart count (kept on the container, so it
survives a kubelet restart, as Kubernetes keeps it).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from api.models.core import Container
from kubelet.runtime.interface import (LABEL_POD_UID, ContainerState, ContainerStatus, NotFoundError,
                                       PodSandbox, Runtime, SandboxState, SandboxStatus)

ANN_HASH = "io.kubernetes.container.hash"
ANN_RESTART_COUNT = "io.kubernetes.container.restartCount"
ANN_GRACE = "io.kubernetes.pod.terminationGracePeriod"


@dataclass
class RuntimePod:
    uid: str
    sandbox: SandboxStatus | None = None            # the newest sandbox
    old_sandboxes: list[PodSandbox] = field(default_factory=list)
    containers: list[ContainerStatus] = field(default_factory=list)  # newest first

    def by_name(self, name: str) -> list[ContainerStatus]:
        return [c for c in self.containers if c.name == name]

    def latest(self, name: str) -> ContainerStatus | None:
        for c in self.containers:
            if c.name == name:
                return c
        return None

    @property
    def running(self) -> list[ContainerStatus]:
        return [c for c in self.containers if c.state == ContainerState.RUNNING]

    @property
    def ready_sandbox_ids(self) -> list[str]:
        sbs = ([self.sandbox] if self.sandbox else []) + list(self.old_sandboxes)
        return [s.id for s in sbs if s.state == SandboxState.READY]

    @property
    def sandbox_ids(self) -> list[str]:
        return ([self.sandbox.id] if self.sandbox else []) + [s.id for s in self.old_sandboxes]


def _container_order(c: ContainerStatus) -> tuple[int, float]:
    return (restart_count(c), c.created_at.timestamp())


async def get_runtime_pod(runtime: Runtime, uid: str) -> RuntimePod:
    rp = RuntimePod(uid)
    sandboxes = sorted(await runtime.list_pod_sandboxes(labels={LABEL_POD_UID: uid}),
                       key=lambda s: (s.state == SandboxState.READY, s.attempt, s.created_at.timestamp()),
                       reverse=True)
    if sandboxes:
        try:
            rp.sandbox = await runtime.pod_sandbox_status(sandboxes[0].id)
        except NotFoundError:
            pass
        rp.old_sandboxes = sandboxes[1:]
    statuses = []
    for c in await runtime.list_containers(labels={LABEL_POD_UID: uid}):
        try:
            statuses.append(await runtime.container_status(c.id))
        except NotFoundError:
            continue
    rp.containers = sorted(statuses, key=_container_order, reverse=True)
    return rp


def restart_count(c: ContainerStatus) -> int:
    try:
        return int(c.annotations.get(ANN_RESTART_COUNT, c.attempt))
    except ValueError:
        return c.attempt


def container_hash(c: Container) -> str:
    """A stable hash of the container spec; a different one means "restart it"."""
    data = c.model_dump(by_alias=True, exclude_none=True, mode="json", exclude={"resources"})
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]
