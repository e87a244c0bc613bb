"""Builders for kubelet unit tests: pods, and what a runtime would report for them."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from api.models import Pod
from kubelet.runtime.interface import ContainerState, ContainerStatus, SandboxState, SandboxStatus
from kubelet.runtime_pod import ANN_HASH, ANN_RESTART_COUNT, RuntimePod, container_hash

T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def pod(name: str = "web", containers: list[dict[str, Any]] | None = None, restart_policy: str = "Always",
        status: dict[str, Any] | None = None, **spec: Any) -> Pod:
    body: dict[str, Any] = {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "uid": f"uid-{name}", "labels": {"app": name}},
        "spec": {"nodeName": "n1", "restartPolicy": restart_policy, "terminationGracePeriodSeconds": 30,
                 "containers": containers or [{"name": "c", "image": "busybox:1"}], **spec},
    }
    if status is not None:
        body["status"] = status
    return Pod.from_dict(body)


def sandbox(state: SandboxState = SandboxState.READY, ip: str = "10.244.0.5", attempt: int = 0,
            uid: str = "uid-web") -> SandboxStatus:
    return SandboxStatus(id=f"sb{attempt}", name="web", namespace="default", uid=uid, attempt=attempt,
                         state=state, created_at=T0, labels={}, annotations={}, ip=ip)


def cstatus(p: Pod, name: str = "c", state: ContainerState = ContainerState.RUNNING, exit_code: int = 0,
            restarts: int = 0, started: datetime | None = T0, finished: datetime | None = None,
            hash_of: Any = None, cid: str | None = None, spec_list: str = "app") -> ContainerStatus:
    assert p.spec is not None
    lists = {"init": p.spec.init_containers or [], "ephemeral": p.spec.ephemeral_containers or []}
    spec_c = next(c for c in lists.get(spec_list, p.spec.containers) if c.name == name)
    if state == ContainerState.EXITED and finished is None:
        finished = (started or T0) + timedelta(seconds=5)
    return ContainerStatus(
        id=cid or f"{name}-{restarts}-{uuid.uuid4().hex[:6]}", name=name, attempt=restarts, state=state,
        created_at=T0 + timedelta(seconds=restarts), started_at=started if state != ContainerState.CREATED else None,
        finished_at=finished, exit_code=exit_code, image="docker.io/library/busybox:1",
        image_ref="docker.io/library/busybox@sha256:abc",
        reason=("Completed" if exit_code == 0 else "Error") if state == ContainerState.EXITED else "",
        message="", log_path="", labels={},
        annotations={ANN_HASH: container_hash(hash_of or spec_c), ANN_RESTART_COUNT: str(restarts)})


def runtime_pod(p: Pod, sb: SandboxStatus | None = None, containers: list[ContainerStatus] | None = None) -> RuntimePod:
    cs = sorted(containers or [], key=lambda c: (c.attempt, c.created_at), reverse=True)
    return RuntimePod(p.metadata.uid or "", sb, [], cs)
