"""The pod garbage collector on hollow nodes: pods on a node that vanished (its kubelet
stopped, its Node deleted) do not stay Terminating or Running forever - they are marked
Failed with DisruptionTarget and force-deleted; terminated pods beyond the threshold are
deleted oldest first."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from api.models import Node, Pod
from client.informer import Informer
from client.rest import Client
from tests.support.apps_cluster import eventually
from tests.support.batch_cluster import BatchCluster


def pod_body(name: str, node: str, command: str = "sleep 3600", restart: str = "Always") -> Pod:
    return Pod.from_dict({
        "metadata": {"name": name, "namespace": "default", "labels": {"test": "podgc"}},
        "spec": {"nodeName": node, "restartPolicy": restart, "containers": [
            {"name": "c", "image": "busybox", "command": ["sh", "-c", command]}]}})


async def phase_of(kube: Client, name: str) -> str | None:
    return (await kube.get(Pod, name, "default")).status.phase  # type: ignore[union-attr]


async def test_pods_on_a_vanished_node_are_force_deleted(kube: Client, tmp_path: Path) -> None:
    options = {"quarantine": 0.5, "gc_check_period": 0.2}
    async with BatchCluster(kube, tmp_path / "nodes", nodes=2, jobs=False, podgc=options) as cluster:
        for name in ("doomed-running", "doomed-deleted"):
            await kube.create(pod_body(name, "hollow-1"))
        await kube.create(pod_body("survivor", "hollow-0"))
        for name in ("doomed-running", "doomed-deleted", "survivor"):
            await eventually(lambda n=name: _is(kube, n, "Running"), what=f"{name} Running")  # type: ignore[misc]

        last_seen: dict[str, Any] = {}
        watch = Informer(kube, Pod, "default", label_selector="test=podgc")
        watch.add_handlers(on_delete=lambda p: last_seen.__setitem__(p.name, p))
        await watch.start()
        try:
            await cluster.nodes.kubelets[1].stop()                 # the host is gone
            await kube.delete(Pod, "doomed-deleted", "default")    # nobody will confirm this
            stuck = await kube.get(Pod, "doomed-deleted", "default")
            assert stuck.metadata.deletion_timestamp
            await kube.delete(Node, "hollow-1")

            async def gone() -> bool:
                names = {p.name for p in (await kube.list(Pod, "default")).items}
                return not names & {"doomed-running", "doomed-deleted"}
            await eventually(gone, timeout=20, what="pods of the deleted node collected")
            await eventually(lambda: _true(len(last_seen) == 2), what="their deletions observed")
        finally:
            await watch.stop()
        final = last_seen["doomed-running"]
        assert final.status.phase == "Failed"
        cond = {c.type: c for c in final.status.conditions or []}["DisruptionTarget"]
        assert (cond.status, cond.reason, cond.message) == \
            ("True", "DeletionByPodGC", "PodGC: node no longer exists")
        assert await phase_of(kube, "survivor") == "Running"


async def test_terminated_pods_beyond_the_threshold(kube: Client, tmp_path: Path) -> None:
    options = {"terminated_pod_threshold": 2, "gc_check_period": 0.2}
    async with BatchCluster(kube, tmp_path / "nodes", nodes=1, jobs=False, podgc=options):
        for i in range(4):
            await kube.create(pod_body(f"done-{i}", "hollow-0", "exit 0", restart="Never"))
            await eventually(lambda n=f"done-{i}": _is(kube, n, "Succeeded"),  # type: ignore[misc]
                             what=f"done-{i} Succeeded")

        async def two_left() -> list[str]:
            names = sorted(p.name for p in (await kube.list(Pod, "default")).items)
            return names if len(names) == 2 else []
        assert await eventually(two_left, what="2 terminated pods kept") == ["done-2", "done-3"]


async def _is(kube: Client, name: str, phase: str) -> bool:
    return await phase_of(kube, name) == phase


async def _true(value: bool) -> bool:
    return value
