"""Volumes as the docs' examples write them, on a hollow kubelet: a downwardAPI volume of
container resources (resourceFieldRef with divisors) and a memory-backed emptyDir with a
`sizeLimit` in Kubernetes units (a tmpfs sized in bytes)."""
from __future__ import annotations

import asyncio
import os
import subprocess
import time
from pathlib import Path

from client.rest import Client
from kubelet.runtime.fake import FakeRuntime
from tests.integration.kubelet.conftest import KubeletFactory, pod_body, ready, wait_pod


async def test_downward_api_volume_of_container_resources(client: Client, kubelets: KubeletFactory) -> None:
    k = await kubelets("node-1")
    items = [{"path": "cpu_limit", "resourceFieldRef": {"containerName": "c", "resource": "limits.cpu", "divisor": "1m"}},
             {"path": "mem_request", "resourceFieldRef": {"containerName": "c", "resource": "requests.memory",
                                                          "divisor": "1Mi"}},
             {"path": "name", "fieldRef": {"fieldPath": "metadata.name"}}]
    resources = {"requests": {"cpu": "125m", "memory": "32Mi"}, "limits": {"cpu": "250m", "memory": "64Mi"}}
    await client.create(pod_body("podinfo", container={"resources": resources},
                                 volumes=[{"name": "podinfo", "downwardAPI": {"items": items}}]))
    p = await wait_pod(client, "podinfo", ready)
    files = k.config.pods_dir / (p.metadata.uid or "") / "volumes" / "kubernetes.io~downward-api" / "podinfo"
    assert {f: (files / f).read_text() for f in ("cpu_limit", "mem_request", "name")} == {
        "cpu_limit": "250", "mem_request": "32", "name": "podinfo"}


async def test_memory_empty_dir_with_a_size_limit(client: Client, kubelets: KubeletFactory) -> None:
    assert os.geteuid() == 0, "tmpfs mounts need root"
    k = await kubelets("node-1")
    await client.create(pod_body("cache", volumes=[{"name": "cache", "emptyDir": {"medium": "Memory",
                                                                                   "sizeLimit": "5Mi"}}]))
    p = await wait_pod(client, "cache", ready)
    path = k.config.pods_dir / (p.metadata.uid or "") / "volumes" / "kubernetes.io~empty-dir" / "cache"
    try:
        entry = next(m for m in _mounts() if m[1] == str(path))
        assert entry[2] == "tmpfs" and "size=5120k" in entry[3]
        await client.delete(type(p), "cache", namespace="default", grace_period_seconds=0)
        deadline = time.monotonic() + 10
        while any(m[1] == str(path) for m in _mounts()) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)     # the kubelet unmounts it when the pod is gone
        assert not any(m[1] == str(path) for m in _mounts())
    finally:
        if any(m[1] == str(path) for m in _mounts()):
            subprocess.run(["umount", str(path)], check=False)


def _mounts() -> list[list[str]]:
    return [line.split() for line in Path("/proc/self/mounts").read_text().splitlines()]


async def test_pod_gets_a_managed_etc_hosts_with_its_aliases(client: Client, kubelets: KubeletFactory) -> None:
    k = await kubelets("node-1")
    aliases = [{"ip": "127.0.0.1", "hostnames": ["foo.local", "bar.local"]}]
    own = {"name": "own", "hostPath": {"path": "/etc/hosts"}}
    await client.create(pod_body("aliased", hostAliases=aliases, volumes=[own],
                                 initContainers=[{"name": "mine", "image": "local/busybox:1", "command": ["true"],
                                                  "volumeMounts": [{"name": "own", "mountPath": "/etc/hosts"}]}]))
    p = await wait_pod(client, "aliased", ready)
    assert p.status is not None and p.status.pod_ip
    rt = k.runtime
    assert isinstance(rt, FakeRuntime)
    mounts = {c.config.name: {m.container_path: m.host_path for m in c.config.mounts} for c in rt._containers.values()}
    assert mounts["mine"]["/etc/hosts"] == "/etc/hosts"        # a container's own mount wins
    hosts = Path(mounts["c"]["/etc/hosts"]).read_text()
    assert f"{p.status.pod_ip}\taliased\n" in hosts and hosts.endswith("127.0.0.1\tfoo.local\tbar.local\n")


async def test_optional_cluster_trust_bundle_projection_is_skipped(client: Client, kubelets: KubeletFactory) -> None:
    k = await kubelets("node-1")
    sources = [{"downwardAPI": {"items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]}},
               {"clusterTrustBundle": {"signerName": "example.com/mysigner", "path": "ca.pem", "optional": True,
                                       "labelSelector": {"matchLabels": {"version": "live"}}}}]
    await client.create(pod_body("all-in-one", volumes=[{"name": "all", "projected": {"sources": sources}}]))
    p = await wait_pod(client, "all-in-one", ready)
    files = k.config.pods_dir / (p.metadata.uid or "") / "volumes" / "kubernetes.io~projected" / "all"
    assert sorted(f.name for f in files.iterdir()) == ["labels"]
