"""DaemonSet rollout and `kubectl drain` against a PodDisruptionBudget on three real nodes,
as root.

Three network-namespace nodes (tests/support/netns_node.py), each with its own containerd
and CNI, each run by a real kubelet (in this process, speaking CRI to its node's
containerd); an in-process apiserver, the scheduler and the DaemonSet, Deployment,
ReplicaSet, disruption and garbage-collector controllers as the controller-manager runs
them. The issue's "Must show":
- a DaemonSet puts one pod on each of the 3 nodes and rolls them to a new image one node
  at a time (maxUnavailable 1: never fewer than 2 available), `kubectl rollout status`
  reporting success;
- `kubectl drain` (the real one, then pykubectl) refuses to evict a pod whose eviction
  would break a PodDisruptionBudget, retries until its timeout and fails, leaving the pod
  running; once the budget allows it, the drain evicts and succeeds.
The lab removes every namespace, bridge, process, mount and cgroup afterwards.
"""
from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from api.models import DaemonSet, Deployment, Node, Pod, PodDisruptionBudget
from client import kubeconfig
from client.events import EventRecorder
from client.rest import Client
from controllers.base import SharedInformers
from controllers.manager import FACTORIES, ControllerManagerOptions
from kubelet.config import KubeletConfig
from kubelet.kubelet import Kubelet
from scheduler.scheduler import Scheduler
from tests.support.cluster import running_apiserver
from tests.support.netns_node import netns_lab
from tests.support.runtime_node import build_images, missing_node_tools

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.root]
BIN = Path(sys.executable).parent
BUSYBOX, NGINX = "local/busybox:1", "local/nginx:1.22"
CONTROLLERS = ("daemonset", "deployment", "replicaset", "disruption", "garbagecollector")


class Cluster:
    def __init__(self, client: Client, kubeconfig_path: Path, nodes: list[str]) -> None:
        self.client, self.kubeconfig_path, self.nodes = client, kubeconfig_path, nodes

    async def run(self, binary: str, *args: str, timeout: float = 120) -> tuple[int, str, str]:
        proc = await asyncio.create_subprocess_exec(
            str(BIN / binary), "--kubeconfig", str(self.kubeconfig_path), *args,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
        return proc.returncode or 0, out.decode(), err.decode()


async def wait_for(check: Callable[[], Awaitable[Any]], timeout: float, what: str, seen: Any = None) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r}; seen: {seen!r})")


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if os.geteuid() != 0:
        pytest.skip("needs root (containerd, CNI, network namespaces)")
    missing = missing_node_tools() + [t for t in ("nsenter", "unshare") if shutil.which(t) is None]
    if missing:
        pytest.skip(f"missing: {', '.join(missing)}")
    if not Path("/usr/sbin/nginx").exists():
        pytest.skip("nginx-light is not installed (the nginx image is built from it)")
    return build_images(tmp_path_factory.mktemp("workload-images"), ("pause", "busybox", "nginx"))


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def cluster(tmp_path_factory: pytest.TempPathFactory, images: Path) -> AsyncIterator[Cluster]:
    base = tmp_path_factory.mktemp("workloads-e2e")
    async with running_apiserver(base / "apiserver") as srv:
        client = Client(kubeconfig.load(srv.kubeconfig_path), component="e2e")
        kubelets: list[Kubelet] = []
        tasks: list[asyncio.Task[Any]] = []
        informers = SharedInformers(client)
        recorder = EventRecorder(client, "controller-manager")
        try:
            async with netns_lab(base / "lab") as lab:
                try:
                    for i in (1, 2, 3):
                        node = await lab.add_node(f"10.244.{i}.0/24", images)
                        assert node.containerd is not None
                        k = Kubelet(KubeletConfig(
                            node_name=node.name, data_dir=node.base / "kubelet", runtime="cri",
                            runtime_endpoint=f"unix://{node.containerd.socket}", pod_cidr=node.pod_cidr,
                            node_ip=node.ip, cgroup_parent=f"/{lab.cg_root}/{node.name}",
                            cni_conf_dir=node.base / "cni" / "net.d", serve_api=False, import_images=False,
                            eviction_hard="", relist_period=0.2, lease_interval=2.0), client=client)
                        await k.start()
                        kubelets.append(k)
                    options = ControllerManagerOptions()
                    controllers = [FACTORIES[n][0](client, informers, recorder, options) for n in CONTROLLERS]
                    tasks = [asyncio.create_task(c.run(2)) for c in controllers if c is not None]
                    tasks.append(asyncio.create_task(Scheduler(client).run()))
                    await informers.start_all()
                    names = [n.name for n in lab.nodes]

                    async def all_ready() -> bool:
                        nodes = (await client.list(Node)).items
                        return sorted(n.name for n in nodes if any(
                            c.type == "Ready" and c.status == "True"
                            for c in (n.status.conditions if n.status else None) or [])) == names
                    await wait_for(all_ready, 90, "three Ready nodes")
                    yield Cluster(client, srv.kubeconfig_path, names)
                finally:
                    for t in tasks:
                        t.cancel()
                    await asyncio.gather(*tasks, return_exceptions=True)
                    await informers.stop_all()
                    await recorder.close(1.0)
                    for k in kubelets:
                        await k.stop()
        finally:
            await client.close()


def daemon_set() -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent", "namespace": "default"},
            "spec": {"selector": {"matchLabels": {"app": "agent"}},
                     "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}},
                     "template": {"metadata": {"labels": {"app": "agent"}}, "spec": {
                         "terminationGracePeriodSeconds": 1,
                         "containers": [{"name": "agent", "image": BUSYBOX, "command": ["sleep", "3600"]}]}}}}


async def agent_pods(c: Client) -> list[Pod]:
    return [p for p in (await c.list(Pod, "default", label_selector="app=agent")).items
            if not p.metadata.deletion_timestamp]


def running_image(p: Pod) -> str | None:
    """The image of the pod's container once it runs Ready."""
    st = (p.status.container_statuses if p.status else None) or []
    return p.spec.containers[0].image if st and st[0].ready and p.spec else None


def summary(pods: list[Pod]) -> list[tuple[Any, ...]]:
    return [(p.name, p.spec.node_name if p.spec else None, p.spec.containers[0].image if p.spec else None,
             p.status.phase if p.status else None,
             [(s.ready, s.state) for s in (p.status.container_statuses if p.status else None) or []])
            for p in pods]


async def test_daemon_set_runs_on_every_node_and_rolls_to_a_new_image(cluster: Cluster) -> None:
    c = cluster.client
    await c.create(daemon_set())

    async def one_per_node(image: str) -> Any:
        pods = await agent_pods(c)
        placed = sorted((p.spec.node_name or "") for p in pods if running_image(p) == image)  # type: ignore[union-attr]
        seen[:] = summary(pods)
        return placed == cluster.nodes and pods
    seen: list[Any] = []
    first = await wait_for(lambda: one_per_node(BUSYBOX), 120, "a busybox agent Ready on each node", seen)
    assert len(first) == 3
    lowest = [3]
    done = asyncio.Event()

    async def watch_available() -> None:       # the rollout never takes more than one node away
        while not done.is_set():
            ds = await c.get(DaemonSet, "agent", "default")
            if ds.status and ds.status.observed_generation == ds.metadata.generation:
                lowest[0] = min(lowest[0], ds.status.number_available or 0)
            await asyncio.sleep(0.05)
    watcher = asyncio.create_task(watch_available())
    try:
        # the new image, with its own entrypoint
        code, out, err = await cluster.run("kubectl", "patch", "ds/agent", "--type=json", "-p", json.dumps(
            [{"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": NGINX},
             {"op": "remove", "path": "/spec/template/spec/containers/0/command"}]))
        assert code == 0, err
        code, out, err = await cluster.run("kubectl", "rollout", "status", "ds/agent", "--timeout=180s", timeout=200)
        assert code == 0, (out, err)
        assert out.splitlines()[-1] == 'daemon set "agent" successfully rolled out'
        rolled = await wait_for(lambda: one_per_node(NGINX), 60, "an nginx agent Ready on each node", seen)
    finally:
        done.set()
        await watcher
    assert not {p.metadata.uid for p in first} & {p.metadata.uid for p in rolled}   # every pod replaced
    assert lowest[0] >= 2, f"the rollout left only {lowest[0]} agents available"
    code, out, _ = await cluster.run("kubectl", "rollout", "history", "ds/agent")
    assert code == 0 and [ln.split()[0] for ln in out.splitlines()[2:] if ln.strip()] == ["1", "2"]
    await c.delete(DaemonSet, "agent", "default")
    await wait_for(lambda: _none(agent_pods(c)), 60, "the agents gone")


async def _none(pods: Awaitable[list[Pod]]) -> bool:
    return not await pods


async def test_drain_refuses_to_break_a_disruption_budget(cluster: Cluster) -> None:
    c = cluster.client
    await c.create(Deployment.from_dict({"metadata": {"name": "web", "namespace": "default"}, "spec": {
        "replicas": 2, "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}}, "spec": {
            "terminationGracePeriodSeconds": 1,
            "containers": [{"name": "web", "image": BUSYBOX, "command": ["sleep", "3600"]}]}}}}))
    await c.create(PodDisruptionBudget.from_dict({"metadata": {"name": "web", "namespace": "default"},
                                                 "spec": {"minAvailable": 2, "selector": {"matchLabels": {"app": "web"}}}}))

    async def web_ready() -> Any:
        pods = [p for p in (await c.list(Pod, "default", label_selector="app=web")).items
                if not p.metadata.deletion_timestamp and running_image(p)]
        pdb = await c.get(PodDisruptionBudget, "web", "default")
        return len(pods) == 2 and pdb.status and pdb.status.current_healthy == 2 and pods
    pods = await wait_for(web_ready, 120, "two web pods Ready and counted by the budget")
    node = pods[0].spec.node_name
    try:
        for binary, cordoned in (("kubectl", "cordoned"), ("pykubectl", "already cordoned")):
            code, out, err = await cluster.run(binary, "drain", node, "--ignore-daemonsets", "--timeout=8s")
            assert code == 1, (binary, out, err)
            assert out.splitlines()[0] == f"node/{node} {cordoned}", (binary, out)
            assert f"evicting pod default/{pods[0].name}" in out, (binary, out)
            assert "Cannot evict pod as it would violate the pod's disruption budget." in err, (binary, err)
            assert f'error: unable to drain node "{node}"' in err and "global timeout reached: 8s" in err, (binary, err)
            assert (await c.get(Pod, pods[0].name, "default")).metadata.deletion_timestamp is None
        assert (await c.get(Node, node)).spec.unschedulable is True  # type: ignore[union-attr]
        # the budget now allows one: the drain evicts it, and its replacement lands elsewhere
        pdb = await c.get(PodDisruptionBudget, "web", "default")
        pdb.spec.min_available = 1  # type: ignore[union-attr]
        await c.update(pdb)
        code, out, err = await cluster.run("kubectl", "drain", node, "--ignore-daemonsets", "--timeout=90s",
                                           timeout=120)
        assert code == 0, (out, err)
        assert out.splitlines()[-1] == f"node/{node} drained"
        moved = await wait_for(web_ready, 120, "the web pods Ready again")
        assert node not in {p.spec.node_name for p in moved}  # type: ignore[union-attr]
    finally:
        await cluster.run("kubectl", "uncordon", node)
        await c.delete(Deployment, "web", "default")
        await c.delete(PodDisruptionBudget, "web", "default")
