"""Namespace deletion with the whole controller-manager: a namespace holding three
Deployments (their ReplicaSets and running pods on simulated nodes), a Service and a
ConfigMap; one Deployment deleted alone takes its ReplicaSet and pods along (GC), then
the namespace is emptied and removed."""
from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from api.models import ConfigMap, Deployment, Namespace, Pod, ReplicaSet, Service
from client.errors import NotFound
from client.rest import Client
from controllers.manager import ControllerManager, ControllerManagerOptions
from tests.support.sim_nodes import sim_nodes, wait_for


@contextlib.asynccontextmanager
async def manager(kube: Client, **opts: object) -> AsyncIterator[ControllerManager]:
    cm = ControllerManager(kube, ControllerManagerOptions(**opts))  # type: ignore[arg-type]
    task = asyncio.create_task(cm.run())
    try:
        await asyncio.wait_for(cm.leading.wait(), 10)
        yield cm
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def deployment(name: str, ns: str, replicas: int = 2) -> Deployment:
    labels = {"app": name}
    return Deployment.from_dict({
        "metadata": {"name": name, "namespace": ns},
        "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels},
                              "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}})


async def test_namespace_with_deployments_deletes_cleanly(kube: Client) -> None:
    async with manager(kube, leader_elect=False), sim_nodes(kube, ["n1", "n2"]):
        await kube.create(Namespace.from_dict({"metadata": {"name": "team"}}))
        for name in ("a", "b", "c"):
            await kube.create(deployment(name, "team"))
        await kube.create(Service.from_dict({"metadata": {"name": "a", "namespace": "team"},
                                             "spec": {"selector": {"app": "a"},
                                                      "ports": [{"port": 80}]}}))
        await kube.create(ConfigMap.from_dict({"metadata": {"name": "cfg", "namespace": "team"}}))

        async def running_pods() -> bool:
            pods = (await kube.list(Pod, "team")).items
            return len(pods) == 6 and all(p.status and p.status.phase == "Running" for p in pods)
        await wait_for(running_pods, timeout=15, what="6 running pods")

        # deleting one Deployment takes its ReplicaSet and pods with it (GC, background)
        await kube.delete(Deployment, "c", "team", propagation_policy="Background")

        async def c_collected() -> bool:
            rss = (await kube.list(ReplicaSet, "team")).items
            pods = (await kube.list(Pod, "team")).items
            return not any(r.name.startswith("c-") for r in rss) and \
                not any(p.name.startswith("c-") for p in pods) and len(pods) == 4
        await wait_for(c_collected, timeout=10, what="deployment c's ReplicaSet and pods gone")

        await kube.delete(Namespace, "team")

        async def gone() -> bool:
            try:
                await kube.get(Namespace, "team")
                return False
            except NotFound:
                return True
        await wait_for(gone, timeout=20, what="namespace removed")
        for kind in (Pod, ReplicaSet, Deployment, Service, ConfigMap):
            assert (await kube.list(kind, "team")).items == []
