"""Fixtures for kubelet integration tests: the in-process apiserver, a client, hollow kubelets.

`kubelets` starts fake-runtime kubelets with short periods (PLEG 0.1 s, lease 0.5 s) and
stops them after the test. `kubelet_proxy` is the apiserver's proxy of pods/log and
pods/exec to the kubelets.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from api.models import Pod
from apiserver.kubeletproxy import KubeletProxy
from client import kubeconfig
from client.rest import Client
from kubelet.config import KubeletConfig
from kubelet.kubelet import Kubelet

KubeletFactory = Callable[..., Awaitable[Kubelet]]


@pytest.fixture
async def client(apiserver: Any) -> AsyncIterator[Client]:
    c = Client(kubeconfig.load(apiserver.kubeconfig_path), component="test")
    yield c
    await c.close()


@pytest.fixture
async def kubelets(client: Client, tmp_path: Path) -> AsyncIterator[KubeletFactory]:
    started: list[Kubelet] = []

    async def make(name: str = "node-1", pod_cidr: str | None = "10.250.1.0/24", start: bool = True,
                   **kw: Any) -> Kubelet:
        opts: dict[str, Any] = dict(runtime="fake", port=0, relist_period=0.1, lease_interval=0.5,
                                    housekeeping_period=0.5, resync_period=2.0, crashloop_backoff_base=0.5)
        opts.update(kw)
        runtime = opts.pop("runtime_instance", None)
        k = Kubelet(KubeletConfig(node_name=name, data_dir=tmp_path / name, pod_cidr=pod_cidr, **opts),
                    client=client, runtime=runtime)
        if start:
            await k.start()
            started.append(k)
        return k
    yield make
    for k in started:
        await k.stop()


@pytest.fixture
async def kubelet_proxy(apiserver: Any) -> AsyncIterator[KubeletProxy]:
    """The apiserver's proxy to kubelets (wired by `APIServer.start`)."""
    yield apiserver.kubelet_proxy


def pod_body(name: str, node: str = "node-1", command: list[str] | None = None, **spec: Any) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "c", "image": "local/busybox:1",
                                 "command": command or ["sleep", "3600"]}
    container.update(spec.pop("container", {}))
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"},
            "spec": {"nodeName": node, "containers": [container], **spec}}


async def wait_pod(client: Client, name: str, check: Callable[[Pod], bool], timeout: float = 10.0) -> Pod:
    deadline = time.monotonic() + timeout
    last: Pod | None = None
    while time.monotonic() < deadline:
        last = await client.get(Pod, name, namespace="default")
        if check(last):
            return last
        await asyncio.sleep(0.05)
    raise AssertionError(f"pod {name} never got there: {last.status.to_dict() if last and last.status else None}")


def ready(p: Pod) -> bool:
    return any(c.type == "Ready" and c.status == "True" for c in (p.status.conditions if p.status else None) or [])
