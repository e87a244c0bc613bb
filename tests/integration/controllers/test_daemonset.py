"""The DaemonSet controller on hollow nodes (fake runtime) with the real scheduler and
garbage collector against the in-process apiserver: one pod per eligible node, a node that
joins gets one, a node that stops matching loses its pod, a rolling update to a new image
never has more than maxUnavailable nodes without an available pod, the history is kept in
ControllerRevisions, and deleting the DaemonSet removes its pods."""
from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from api.models import ControllerRevision, DaemonSet, Node, Pod
from api.models.apps_sets import CONTROLLER_REVISION_HASH
from client.rest import Client
from tests.support.apps_cluster import PodWatch, eventually
from tests.support.workloads_cluster import WorkloadsCluster

LABELS = {"app": "agent"}


def ds_body(image: str = "agent:1", node_selector: dict[str, str] | None = None) -> DaemonSet:
    spec: dict[str, Any] = {"containers": [{"name": "agent", "image": image}]}
    if node_selector:
        spec["nodeSelector"] = node_selector
    return DaemonSet.from_dict({"metadata": {"name": "agent", "namespace": "default"},
                                "spec": {"selector": {"matchLabels": LABELS},
                                         "template": {"metadata": {"labels": LABELS}, "spec": spec}}})


@pytest.fixture
async def cluster(kube: Client, tmp_path: Path) -> AsyncIterator[WorkloadsCluster]:
    async with WorkloadsCluster(kube, tmp_path / "nodes", nodes=3, controllers=("daemonset",)) as c:
        yield c


async def pods_by_node(kube: Client) -> dict[str, list[Pod]]:
    out: dict[str, list[Pod]] = {}
    for p in (await kube.list(Pod, "default", label_selector="app=agent")).items:
        if not p.metadata.deletion_timestamp:
            out.setdefault(p.spec.node_name or "", []).append(p)  # type: ignore[union-attr]
    return out


async def ds_status(kube: Client) -> dict[str, Any]:
    ds = await kube.get(DaemonSet, "agent", "default")
    return ds.status.to_dict() if ds.status else {}


async def test_one_pod_per_node_and_a_joining_node_gets_one(kube: Client, cluster: WorkloadsCluster) -> None:
    await kube.create(ds_body())

    async def three_ready() -> bool:
        st = await ds_status(kube)
        return st.get("numberReady") == 3 and st.get("desiredNumberScheduled") == 3
    await eventually(three_ready, what="3 ready daemon pods")
    placed = await pods_by_node(kube)
    assert sorted(placed) == ["hollow-0", "hollow-1", "hollow-2"]
    assert all(len(v) == 1 for v in placed.values())
    await cluster.add_nodes(1, "late-")

    async def four() -> bool:
        return (await ds_status(kube)).get("numberAvailable") == 4
    await eventually(four, what="the new node's daemon pod")
    assert "late-0" in await pods_by_node(kube)


async def test_a_node_that_stops_matching_loses_its_pod(kube: Client, cluster: WorkloadsCluster) -> None:
    for name in ("hollow-0", "hollow-1"):
        await kube.patch(Node, name, {"metadata": {"labels": {"role": "edge"}}})
    await kube.create(ds_body(node_selector={"role": "edge"}))

    async def placed() -> list[str]:
        nodes = await pods_by_node(kube)
        return sorted(nodes) if sorted(nodes) == ["hollow-0", "hollow-1"] else []
    await eventually(placed, what="pods on the two edge nodes")
    await kube.patch(Node, "hollow-1", {"metadata": {"labels": {"role": None}}})

    async def only_edge() -> bool:
        return sorted(await pods_by_node(kube)) == ["hollow-0"] and \
            (await ds_status(kube)).get("desiredNumberScheduled") == 1
    await eventually(only_edge, what="hollow-1's pod removed and the status counting one node")


async def test_rolling_update_to_a_new_image_respects_max_unavailable(kube: Client,
                                                                      cluster: WorkloadsCluster) -> None:
    await kube.create(ds_body("agent:1"))

    async def rolled(image: str) -> bool:
        st = await ds_status(kube)
        placed = await pods_by_node(kube)
        return st.get("updatedNumberScheduled") == 3 and st.get("numberAvailable") == 3 and \
            len(placed) == 3 and all(len(v) == 1 and v[0].spec.containers[0].image == image  # type: ignore[union-attr]
                                     for v in placed.values())
    await eventually(lambda: rolled("agent:1"), what="first rollout")
    watch = PodWatch(kube, "app=agent")

    def at_most_one_node_down(pods: list[Pod]) -> str | None:
        ready_nodes = {p.spec.node_name for p in pods if p.spec and p.status and any(  # type: ignore[union-attr]
            c.type == "Ready" and c.status == "True" for c in p.status.conditions or [])}
        return None if len(ready_nodes) >= 2 else f"only {sorted(ready_nodes)} have a ready pod"
    async with watch:
        watch.checks.append(at_most_one_node_down)       # once the initial list is in
        await kube.patch(DaemonSet, "agent", {"spec": {"template": {"spec": {"containers": [
            {"name": "agent", "image": "agent:2"}]}}}}, "default", patch_type="strategic")
        await eventually(lambda: rolled("agent:2"), timeout=30, what="rollout to agent:2")
    assert watch.violations == []
    revisions = sorted((r.revision, r.metadata.labels[CONTROLLER_REVISION_HASH])  # type: ignore[index]
                       for r in (await kube.list(ControllerRevision, "default")).items)
    assert [r for r, _ in revisions] == [1, 2]
    pod_hashes = {p.metadata.labels[CONTROLLER_REVISION_HASH]  # type: ignore[index]
                  for pods in (await pods_by_node(kube)).values() for p in pods}
    assert pod_hashes == {revisions[1][1]}


async def test_deleting_the_daemonset_removes_its_pods(kube: Client, cluster: WorkloadsCluster) -> None:
    await kube.create(ds_body())
    await eventually(lambda: pods_by_node(kube), what="daemon pods")
    await kube.delete(DaemonSet, "agent", "default", propagation_policy="Foreground")

    async def gone() -> bool:
        return not (await kube.list(Pod, "default", label_selector="app=agent")).items
    await eventually(gone, timeout=30, what="the daemon pods to go")
