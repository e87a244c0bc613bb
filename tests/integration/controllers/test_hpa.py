"""The HorizontalPodAutoscaler controller on hollow nodes, end to end in one process.

How the metrics are fed: hollow kubelets run the fake runtime (as kubemark's), whose
containers have no cgroups, so each kubelet's stats provider reads a cgroup v2 tree on disk
that this test writes (`cpu.stat` counting up at a chosen rate per container: a burner or an
idle one). Everything above that is the product: the kubelets serve /metrics/resource, the
apiserver scrapes them every second (metrics.k8s.io), the HPA controller reads the metrics
API through client/, and the Deployment and ReplicaSet controllers and the scheduler act on
the scale it writes.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from api.models import Deployment, Event, HorizontalPodAutoscaler, Pod
from client import kubeconfig
from client.events import EventRecorder
from client.rest import Client
from controllers.base import SharedInformers
from controllers.manager import FACTORIES, ControllerManagerOptions
from kubelet.config import KubeletConfig
from kubelet.kubelet import Kubelet
from kubelet.stats.cgroups import CgroupReader
from scheduler.scheduler import Scheduler
from tests.integration.apiserver.test_metrics_api import write_cgroup
from tests.integration.kubectl.test_kubectl_batch import real
from tests.support.apps_cluster import eventually
from tests.support.cluster import running_apiserver

CGROUP_PARENT = "/kp"
BURN, IDLE = 0.2, 0.004          # cores: 200% and 4% of a 100m request


class Load:
    """The burner's pods use `cores` each, as long as they run: their cgroups count up."""

    def __init__(self, client: Client, root: Path) -> None:
        self.client, self.root, self.cores = client, root, BURN
        self.usage: dict[str, float] = {}      # cgroup -> cpu seconds so far

    async def run(self) -> None:
        last = time.monotonic()
        while True:
            await asyncio.sleep(0.05)
            now = time.monotonic()
            pods = (await self.client.list(Pod, "default", label_selector="app=burner")).items
            for p in pods:
                statuses = (p.status.container_statuses if p.status else None) or []
                if not statuses or not statuses[0].container_id:
                    continue
                cid = statuses[0].container_id.split("://", 1)[1]
                pod_cg = f"{CGROUP_PARENT}/pod{p.metadata.uid}"
                cg = f"{pod_cg}/{cid}"
                self.usage[cg] = self.usage.get(cg, 0.0) + self.cores * (now - last)
                write_cgroup(self.root, pod_cg, int(self.usage[cg] * 1e6), 8 << 20)
                write_cgroup(self.root, cg, int(self.usage[cg] * 1e6), 8 << 20)
            last = now


class Env:
    def __init__(self, client: Client, kubeconfig_path: Path, load: Load) -> None:
        self.client, self.kubeconfig_path, self.load = client, kubeconfig_path, load


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    cg = tmp_path / "cgroup"
    cg.mkdir()
    (cg / "cgroup.controllers").write_text("cpu memory\n")
    async with running_apiserver(tmp_path / "data", metric_resolution=1) as srv:
        client = Client(kubeconfig.load(srv.kubeconfig_path), component="test")
        kubelets = [Kubelet(KubeletConfig(node_name=f"hollow-{i}", data_dir=tmp_path / f"hollow-{i}",
                                          runtime="fake", port=0, pod_cidr=f"10.250.{i}.0/24",
                                          relist_period=0.1, lease_interval=0.5, cgroup_parent=CGROUP_PARENT,
                                          capacity_cpu="4", capacity_memory="16Gi"), client=client)
                    for i in range(2)]
        for k in kubelets:
            await k.start()
            k.stats.reader = CgroupReader(cg)
        informers = SharedInformers(client)
        recorder = EventRecorder(client, "controller-manager")
        options = ControllerManagerOptions(hpa_sync_period=0.5)
        controllers = [FACTORIES[n][0](client, informers, recorder, options)
                       for n in ("replicaset", "deployment", "horizontalpodautoscaling")]
        load = Load(client, cg)
        tasks = [asyncio.create_task(c.run(2)) for c in controllers if c is not None]
        tasks += [asyncio.create_task(Scheduler(client).run()), asyncio.create_task(load.run())]
        await informers.start_all()
        try:
            yield Env(client, srv.kubeconfig_path, load)
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await informers.stop_all()
            await recorder.close(1.0)
            for k in kubelets:
                await k.stop()
            await client.close()


def burner() -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "burner", "namespace": "default"},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "burner"}},
                     "template": {"metadata": {"labels": {"app": "burner"}}, "spec": {"containers": [{
                         "name": "burn", "image": "busybox", "command": ["sh", "-c", "while :; do :; done"],
                         "resources": {"requests": {"cpu": "100m"}}}]}}}}


def autoscaler(**behavior: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "burner"},
        "minReplicas": 1, "maxReplicas": 4,
        "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {
            "type": "Utilization", "averageUtilization": 50}}}]}
    if behavior:
        spec["behavior"] = behavior
    return {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "burner", "namespace": "default"}, "spec": spec}


def condition(hpa: HorizontalPodAutoscaler, type_: str) -> tuple[str, str] | None:
    for c in (hpa.status.conditions if hpa.status else None) or []:
        if c.type == type_:
            return c.status, c.reason or ""
    return None


async def test_scales_a_cpu_burner_up_and_back_down(env: Env) -> None:
    c = env.client
    await c.create(burner())
    await c.create(autoscaler(scaleDown={"stabilizationWindowSeconds": 3}))

    async def replicas(n: int) -> Any:
        d = await c.get(Deployment, "burner", "default")
        h = await c.get(HorizontalPodAutoscaler, "burner", "default")
        return (d.spec.replicas == n and h.status and h.status.current_replicas == n and  # type: ignore[union-attr]
                h.status.desired_replicas == n and h)
    # one pod at 200% of its request against 50%: four replicas (the default rate allows 1 + 4)
    hpa = await eventually(lambda: replicas(4), timeout=40, what="scale up to 4")
    assert hpa.status.last_scale_time
    assert condition(hpa, "ScalingActive") == ("True", "ValidMetricFound")
    assert condition(hpa, "AbleToScale")[0] == "True"  # type: ignore[index]
    assert hpa.status.current_metrics[0].resource.current.average_utilization >= 150
    events = (await c.list(Event, "default")).items
    rescales = [e.message for e in events if e.reason == "SuccessfulRescale"]
    assert "New size: 4; reason: cpu resource utilization (percentage of request) above target" in rescales
    r = await real(str(env.kubeconfig_path), "get", "hpa", "burner", "--no-headers")
    name, ref, resource, targets, *rest = r.out.split()
    assert (name, ref, resource, targets.split("/")[1], rest[:3]) == ("burner", "Deployment/burner", "cpu:", "50%",
                                                                      ["1", "4", "4"])
    # the load stops: back to one once the 3 s stabilization window has passed
    env.load.cores = IDLE
    hpa = await eventually(lambda: replicas(1), timeout=40, what="scale down to 1")
    assert hpa.status.current_metrics[0].resource.current.average_utilization < 50
    rescales = [e.message for e in (await c.list(Event, "default")).items if e.reason == "SuccessfulRescale"]
    assert "New size: 1; reason: All metrics below target" in rescales


async def test_reports_what_it_cannot_do(env: Env) -> None:
    c = env.client
    body = autoscaler()
    body["spec"]["scaleTargetRef"]["name"] = "nothing"
    await c.create(body)

    async def failed_get_scale() -> Any:
        h = await c.get(HorizontalPodAutoscaler, "burner", "default")
        return condition(h, "AbleToScale") == ("False", "FailedGetScale") and h
    await eventually(failed_get_scale, timeout=10, what="AbleToScale=False")
    # a pod without a CPU request cannot be measured against one
    dep = burner()
    del dep["spec"]["template"]["spec"]["containers"][0]["resources"]
    dep["metadata"]["name"] = "nothing"
    await c.create(dep)

    async def no_request() -> Any:
        h = await c.get(HorizontalPodAutoscaler, "burner", "default")
        active = [x for x in (h.status.conditions if h.status else None) or [] if x.type == "ScalingActive"]
        return active and (active[0].status, active[0].reason) == ("False", "FailedGetResourceMetric") and \
            "missing request for cpu in container burn of Pod nothing-" in (active[0].message or "") and h
    await eventually(no_request, timeout=20, what="ScalingActive=False for the missing request")
    warnings = [e.message for e in (await c.list(Event, "default")).items if e.reason == "FailedGetResourceMetric"]
    assert any("failed to get cpu utilization: missing request for cpu" in (m or "") for m in warnings)
    assert (await c.get(Deployment, "nothing", "default")).spec.replicas == 1  # type: ignore[union-attr]
