"""The metrics API end to end in one process: a hollow kubelet whose stats come from a cgroup
tree on disk, the apiserver's scraper, `metrics.k8s.io/v1beta1` read by the real kubectl,
pykubectl and the official Python client; selectors, errors, discovery, and the API off."""
from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from api.quantity import parse_quantity

from api.models import Pod
from client import kubeconfig
from client.errors import ApiError
from client.rest import Client
from kubelet.config import KubeletConfig
from kubelet.kubelet import Kubelet
from kubelet.stats.cgroups import CgroupReader
from tests.integration.kubelet.conftest import pod_body, ready, wait_pod
from tests.support.cluster import running_apiserver

BIN = Path(sys.executable).parent
CGROUP_PARENT = "/kp"


def write_cgroup(root: Path, cgroup: str, cpu_usec: int, memory: int) -> None:
    """The cgroup's files, each replaced whole (the kubelet reads them in a thread, and a
    kernel cgroup file never reads half-written)."""
    d = root / cgroup.strip("/")
    d.mkdir(parents=True, exist_ok=True)
    for name, text in (("cpu.stat", f"usage_usec {cpu_usec}\n"), ("memory.current", f"{memory}\n"),
                       ("memory.stat", "inactive_file 0\nanon 0\n")):
        tmp = d / f".{name}.tmp"
        tmp.write_text(text)
        os.replace(tmp, d / name)


async def run(binary: str, kubeconfig_path: Path, *args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        str(BIN / binary), "--kubeconfig", str(kubeconfig_path), *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode or 0, out.decode(), err.decode()


class Env:
    def __init__(self, srv: Any, client: Client, kubelet: Kubelet, cg: Path) -> None:
        self.srv, self.client, self.kubelet, self.cg = srv, client, kubelet, cg

    def container_cgroup(self, pod: Pod) -> str:
        cid = pod.status.container_statuses[0].container_id.split("://", 1)[1]  # type: ignore[union-attr,index]
        return f"{CGROUP_PARENT}/pod{pod.metadata.uid}/{cid}"


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    cg = tmp_path / "cgroup"
    cg.mkdir()
    (cg / "cgroup.controllers").write_text("cpu memory\n")          # a cgroup v2 tree
    async with running_apiserver(tmp_path / "data", metric_resolution=1) as srv:
        client = Client(kubeconfig.load(srv.kubeconfig_path), component="test")
        k = Kubelet(KubeletConfig(node_name="node-1", data_dir=tmp_path / "node-1", runtime="fake", port=0,
                                  pod_cidr="10.250.1.0/24", relist_period=0.1, lease_interval=0.5,
                                  cgroup_parent=CGROUP_PARENT), client=client)
        await k.start()
        k.stats.reader = CgroupReader(cg)      # the fake runtime's containers get these cgroups
        try:
            yield Env(srv, client, k, cg)
        finally:
            await k.stop()
            await client.close()


class BusyCgroups:
    """Containers that burn CPU at a steady rate: their cpu.stat counts up with the clock."""

    def __init__(self, root: Path) -> None:
        self.root, self.rates = root, {}   # type: dict[str, tuple[float, int]]
        self.t0 = time.monotonic()

    def add(self, cgroup: str, cores: float, memory: int) -> None:
        self.rates[cgroup] = (cores, memory)
        self.write()

    def write(self) -> None:
        elapsed = time.monotonic() - self.t0
        for cgroup, (cores, memory) in self.rates.items():
            write_cgroup(self.root, cgroup, int(elapsed * cores * 1e6), memory)

    async def run(self) -> None:
        while True:
            self.write()
            await asyncio.sleep(0.02)


async def test_top_and_the_python_client_read_scraped_usage(env: Env) -> None:
    body = pod_body("web")
    body["metadata"]["labels"] = {"app": "web"}
    await env.client.create(body)
    await env.client.create(pod_body("db"))
    web = await wait_pod(env.client, "web", ready)
    db = await wait_pod(env.client, "db", ready)
    busy = BusyCgroups(env.cg)
    for p in (web, db):
        write_cgroup(env.cg, f"{CGROUP_PARENT}/pod{p.metadata.uid}", 0, 0)
    busy.add(env.container_cgroup(web), 0.25, 64 * 1024 * 1024)
    busy.add(env.container_cgroup(db), 0.05, 32 * 1024 * 1024)
    writer = asyncio.create_task(busy.run())
    try:
        assert not env.srv.metrics_scraper.running             # nobody asked yet: nothing scraped
        r = await env.client.request("GET", "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/web")
        assert env.srv.metrics_scraper.running                 # the first request started it, and waited
        m = r.json()
        assert m["window"].endswith("s") and float(m["window"].rstrip("s")) > 0.5
        cpu_n = int(parse_quantity(m["containers"][0]["usage"]["cpu"]) * 1_000_000_000)   # "247278u" or "..n"
        assert abs(cpu_n - 250_000_000) <= 25_000_000, m       # a quarter of a core
        assert m["containers"][0]["usage"]["memory"] == "64Mi" and m["metadata"]["labels"] == {"app": "web"}
        # the real kubectl and pykubectl print the same table
        for args in (["top", "pod"], ["top", "pod", "--containers"], ["top", "pod", "-A"],
                     ["top", "pod", "-l", "app=web"], ["top", "pod", "--sort-by", "memory", "--no-headers"],
                     ["top", "pod", "nope"], ["top", "node", "nope"], ["top", "pod", "-n", "kube-system"]):
            real = await run("kubectl", env.srv.kubeconfig_path, *args)
            ours = await run("pykubectl", env.srv.kubeconfig_path, *args)
            assert (ours[0], ours[2]) == (real[0], real[2]), (args, real, ours)
            shape = [(line.split()[0], len(line.split())) for line in real[1].splitlines()]
            assert [(line.split()[0], len(line.split())) for line in ours[1].splitlines()] == shape, (args, real, ours)
            if "--no-headers" not in args:
                assert ours[1].split("\n", 1)[0] == real[1].split("\n", 1)[0]   # the same header; numbers move
        code, out, _ = await run("kubectl", env.srv.kubeconfig_path, "top", "pod", "-l", "app=web")
        assert code == 0 and len(out.splitlines()) == 2 and out.splitlines()[1].split()[0] == "web"
        assert 220 <= int(out.splitlines()[1].split()[1].rstrip("m")) <= 280 and out.splitlines()[1].split()[2] == "64Mi"
        code, out, _ = await run("pykubectl", env.srv.kubeconfig_path, "top", "node")
        row = out.splitlines()[1].split()
        assert code == 0 and row[0] == "node-1" and row[2].endswith("%") and row[4].endswith("%"), out
    finally:
        writer.cancel()
    # the official Python client
    from kubernetes import client as k8s
    from kubernetes import config as k8s_config
    api = k8s.CustomObjectsApi(k8s_config.new_client_from_config(config_file=str(env.srv.kubeconfig_path)))
    pods = await asyncio.to_thread(api.list_namespaced_custom_object, "metrics.k8s.io", "v1beta1", "default", "pods")
    assert pods["kind"] == "PodMetricsList" and [p["metadata"]["name"] for p in pods["items"]] == ["db", "web"]
    nodes = await asyncio.to_thread(api.list_cluster_custom_object, "metrics.k8s.io", "v1beta1", "nodes")
    assert [n["metadata"]["name"] for n in nodes["items"]] == ["node-1"]
    assert nodes["items"][0]["usage"]["cpu"] and nodes["items"][0]["window"].endswith("s")


async def test_errors_and_discovery(env: Env) -> None:
    for path, code in (("/apis/metrics.k8s.io/v1beta1/nodes/nope", 404),
                       ("/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/nope", 404),
                       ("/apis/metrics.k8s.io/v1beta1/namespaces/default/widgets", 404),
                       ("/apis/metrics.k8s.io/v1beta1/pods?labelSelector=a%3D%3D%3Db", 400),
                       ("/apis/metrics.k8s.io/v1beta1/pods?watch=true", 405)):
        with pytest.raises(ApiError) as e:
            await env.client.request("GET", path)
        assert e.value.code == code, path
    with pytest.raises(ApiError) as e:
        await env.client.request("DELETE", "/apis/metrics.k8s.io/v1beta1/nodes/node-1")
    assert e.value.code == 405
    groups = (await env.client.request("GET", "/apis")).json()["groups"]
    assert {"name": "metrics.k8s.io", "versions": [{"groupVersion": "metrics.k8s.io/v1beta1", "version": "v1beta1"}],
            "preferredVersion": {"groupVersion": "metrics.k8s.io/v1beta1", "version": "v1beta1"}} in groups
    code, out, err = await run("kubectl", env.srv.kubeconfig_path, "api-resources", "--api-group", "metrics.k8s.io")
    assert code == 0 and "NodeMetrics" in out and "PodMetrics" in out, err
    # a pod whose containers cannot be measured (no cgroup): kubectl's own words
    await env.client.create(pod_body("unmeasured"))
    await wait_pod(env.client, "unmeasured", ready)
    for binary in ("kubectl", "pykubectl"):
        code, out, err = await run(binary, env.srv.kubeconfig_path, "top", "pod")
        assert (code, err.strip()) == (1, "error: metrics not available yet"), (binary, out, err)


async def test_metrics_api_off(tmp_path: Path) -> None:
    async with running_apiserver(tmp_path / "data", metric_resolution=0) as srv:
        assert srv.metrics_scraper is None
        async with Client(kubeconfig.load(srv.kubeconfig_path), component="test") as c:
            with pytest.raises(ApiError) as e:
                await c.request("GET", "/apis/metrics.k8s.io/v1beta1/nodes")
            assert e.value.code == 503 and "--metric-resolution 0" in str(e.value)
        assert os.path.exists(srv.kubeconfig_path)
