"""The StatefulSet controller on hollow nodes (fake runtime) with the real scheduler and
garbage collector against the in-process apiserver: ordered start (each pod only once its
predecessor is Ready), a deleted pod comes back under its own name, scale down from the
highest ordinal, a rolling update that stops at the partition, and the revisions in the
status."""
from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from api.meta import is_pod_ready
from api.models import Pod, StatefulSet
from api.models.apps_sets import CONTROLLER_REVISION_HASH
from client.rest import Client
from tests.support.apps_cluster import PodWatch, eventually
from tests.support.workloads_cluster import WorkloadsCluster

LABELS = {"app": "nginx"}


def sts_body(replicas: int = 3, *, image: str = "nginx:1", policy: str = "OrderedReady",
             partition: int = 0) -> StatefulSet:
    return StatefulSet.from_dict({
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"replicas": replicas, "serviceName": "nginx", "podManagementPolicy": policy,
                 "selector": {"matchLabels": LABELS},
                 "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": partition}},
                 "template": {"metadata": {"labels": LABELS},
                              "spec": {"containers": [{"name": "nginx", "image": image}]}}}})


@pytest.fixture
async def cluster(kube: Client, tmp_path: Path) -> AsyncIterator[WorkloadsCluster]:
    async with WorkloadsCluster(kube, tmp_path / "nodes", nodes=2, controllers=("statefulset",),
                                start_delay=0.2) as c:
        yield c


async def live_pods(kube: Client) -> dict[str, Pod]:
    return {p.name: p for p in (await kube.list(Pod, "default", label_selector="app=nginx")).items
            if not p.metadata.deletion_timestamp}


async def sts_status(kube: Client) -> dict[str, Any]:
    sts = await kube.get(StatefulSet, "web", "default")
    return sts.status.to_dict() if sts.status else {}


async def all_ready(kube: Client, n: int) -> bool:
    st = await sts_status(kube)
    return st.get("readyReplicas") == n and st.get("replicas") == n


def ordinal(name: str) -> int:
    return int(name.rsplit("-", 1)[1])


async def test_ordered_start_and_a_deleted_pod_returns_under_its_name(kube: Client,
                                                                      cluster: WorkloadsCluster) -> None:
    watch = PodWatch(kube, "app=nginx")

    def predecessors_ready(pods: list[Pod]) -> str | None:
        by_ord = {ordinal(p.name): p for p in pods}
        for k in by_ord:
            for j in range(k):
                if j not in by_ord or not is_pod_ready(by_ord[j]):
                    return f"web-{k} exists while web-{j} is not ready"
        return None
    async with watch:
        watch.checks.append(predecessors_ready)
        await kube.create(sts_body(3))
        await eventually(lambda: all_ready(kube, 3), timeout=30, what="3 ready replicas")
    assert watch.violations == []
    pods = await live_pods(kube)
    assert sorted(pods) == ["web-0", "web-1", "web-2"]
    assert pods["web-1"].spec.hostname == "web-1" and pods["web-1"].spec.subdomain == "nginx"  # type: ignore[union-attr]
    old_uid = pods["web-1"].metadata.uid
    await kube.delete(Pod, "web-1", "default")

    async def back() -> bool:
        p = (await live_pods(kube)).get("web-1")
        return p is not None and p.metadata.uid != old_uid and is_pod_ready(p)
    await eventually(back, timeout=30, what="web-1 recreated")


async def test_scale_down_goes_from_the_highest_ordinal(kube: Client, cluster: WorkloadsCluster) -> None:
    await kube.create(sts_body(3, policy="Parallel"))
    await eventually(lambda: all_ready(kube, 3), timeout=30, what="3 ready replicas")
    deleted_order: list[str] = []
    watch = PodWatch(kube, "app=nginx")
    async with watch:
        watch.informer.add_handlers(on_update=lambda o, n: deleted_order.append(n.name)
                                    if n.metadata.deletion_timestamp and not o.metadata.deletion_timestamp else None)
        await kube.patch(StatefulSet, "web", {"spec": {"replicas": 1}}, "default")

        async def one() -> bool:
            return sorted(await live_pods(kube)) == ["web-0"] and (await sts_status(kube)).get("replicas") == 1
        await eventually(one, timeout=30, what="scale down to 1")
    assert deleted_order == ["web-2", "web-1"]


async def test_rolling_update_stops_at_the_partition(kube: Client, cluster: WorkloadsCluster) -> None:
    await kube.create(sts_body(3, partition=1))
    await eventually(lambda: all_ready(kube, 3), timeout=30, what="3 ready replicas")
    first = (await sts_status(kube))["currentRevision"]
    await kube.patch(StatefulSet, "web", {"spec": {"template": {"spec": {"containers": [
        {"name": "nginx", "image": "nginx:2"}]}}}}, "default", patch_type="strategic")

    async def partly() -> dict[str, Any] | None:
        st = await sts_status(kube)
        return st if st.get("updatedReplicas") == 2 and st.get("readyReplicas") == 3 else None
    st = await eventually(partly, timeout=30, what="ordinals 1 and 2 updated")
    pods = await live_pods(kube)
    images = {n: p.spec.containers[0].image for n, p in pods.items()}  # type: ignore[union-attr]
    assert images == {"web-0": "nginx:1", "web-1": "nginx:2", "web-2": "nginx:2"}
    assert st["currentRevision"] == first and st["updateRevision"] != first
    assert pods["web-0"].metadata.labels[CONTROLLER_REVISION_HASH] == first  # type: ignore[index]
    await kube.patch(StatefulSet, "web", {"spec": {"updateStrategy": {"rollingUpdate": {"partition": 0}}}}, "default")

    async def done() -> bool:
        st = await sts_status(kube)
        return st.get("currentRevision") == st.get("updateRevision") and st.get("updatedReplicas") == 3
    await eventually(done, timeout=30, what="the rollout to complete")
