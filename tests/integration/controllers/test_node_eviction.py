"""Node lifecycle with the whole controller-manager under leader election: a node that
stops renewing its Lease turns Unknown, gets the unreachable taints, its pods are marked
not ready and evicted, and their ReplicaSet recreates them on the other node; back again,
the node loses the taints. Plus: of two managers only one leads."""
from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from api.meta import get_condition
from api.models import Event, Lease, Node, Pod, ReplicaSet
from client.rest import Client
from controllers.manager import ControllerManager, ControllerManagerOptions
from tests.support.sim_nodes import sim_nodes, wait_for

FAST_ELECTION = dict(lease_duration=4.0, renew_deadline=3.0, retry_period=0.25)


@contextlib.asynccontextmanager
async def manager(kube: Client, **opts: Any) -> AsyncIterator[ControllerManager]:
    cm = ControllerManager(kube, ControllerManagerOptions(**opts))
    task = asyncio.create_task(cm.run())
    try:
        yield cm
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def replicaset(name: str, replicas: int, toleration_seconds: int) -> ReplicaSet:
    labels = {"app": name}
    tolerations = [{"key": key, "operator": "Exists", "effect": "NoExecute",
                    "tolerationSeconds": toleration_seconds}
                   for key in ("node.kubernetes.io/unreachable", "node.kubernetes.io/not-ready")]
    return ReplicaSet.from_dict({
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels},
                              "spec": {"containers": [{"name": "c", "image": "nginx"}],
                                       "tolerations": tolerations}}}})


def taint_ids(node: Node) -> set[tuple[str, str]]:
    return {(t.key, t.effect) for t in (node.spec.taints if node.spec else None) or []}


async def test_silent_node_pods_are_evicted_and_recreated_elsewhere(kube: Client) -> None:
    async with manager(kube, node_monitor_grace_period=2.0, node_monitor_period=0.5,
                       **FAST_ELECTION) as cm, sim_nodes(kube, ["n1", "n2"]) as sim:
        await asyncio.wait_for(cm.leading.wait(), 10)
        await kube.create(replicaset("web", 2, toleration_seconds=1))

        async def running() -> list[Pod] | None:
            pods = [p for p in (await kube.list(Pod, "default")).items
                    if not p.metadata.deletion_timestamp]
            ok = len(pods) == 2 and all(p.status and p.status.phase == "Running" for p in pods)
            return pods if ok else None
        pods = await wait_for(running, timeout=10, what="2 running pods")
        victim = pods[0]
        dead = victim.spec.node_name if victim.spec else None
        assert dead in ("n1", "n2")
        alive = "n2" if dead == "n1" else "n1"
        sim.stop_node(dead)

        async def unreachable() -> Node | None:
            node = await kube.get(Node, dead)
            ready = get_condition(node.status, "Ready")
            ok = ready is not None and ready.status == "Unknown" and \
                ready.reason == "NodeStatusUnknown" and \
                {("node.kubernetes.io/unreachable", "NoExecute"),
                 ("node.kubernetes.io/unreachable", "NoSchedule")} <= taint_ids(node)
            return node if ok else None
        await wait_for(unreachable, timeout=12, what="node Unknown and tainted")

        async def replaced() -> bool:
            pods = (await kube.list(Pod, "default")).items
            live = [p for p in pods if not p.metadata.deletion_timestamp]
            evicted = [p for p in pods if p.metadata.uid == victim.metadata.uid and
                       p.metadata.deletion_timestamp]
            return bool(evicted) and len(live) == 2 and all(
                p.spec and p.spec.node_name == alive and p.status and
                p.status.phase == "Running" for p in live)
        await wait_for(replaced, timeout=15, what="pods evicted and recreated on the live node")
        gone = await kube.get(Pod, victim.name, "default")
        ready = get_condition(gone.status, "Ready")
        assert ready is not None and ready.status == "False"

        async def eviction_event() -> bool:
            evs = (await kube.list(Event, "default")).items
            return any(e.reason == "TaintManagerEviction" and
                       e.involved_object.name == victim.name for e in evs)
        await wait_for(eviction_event, timeout=5, what="TaintManagerEviction event")

        await sim.start_node(dead)

        async def healthy() -> bool:
            node = await kube.get(Node, dead)
            return not any(k.startswith("node.kubernetes.io/") for k, _ in taint_ids(node))
        await wait_for(healthy, timeout=12, what="taints removed")


async def test_only_one_manager_leads(kube: Client) -> None:
    opts = dict(controllers=["endpoint"], **FAST_ELECTION)
    async with manager(kube, identity="cm-a", **opts) as a:
        await asyncio.wait_for(a.leading.wait(), 10)
        async with manager(kube, identity="cm-b", **opts) as b:
            await wait_for(lambda: b.elector is not None and b.elector.leader == "cm-a",
                           what="cm-b saw cm-a hold the lease")
            renewals = [await renew_time(kube)]

            async def renewed_twice() -> bool:     # cm-b campaigned through two renewals
                if (t := await renew_time(kube)) != renewals[-1]:
                    renewals.append(t)
                return len(renewals) >= 3
            await wait_for(renewed_twice, what="two renewals by cm-a")
            assert a.leading.is_set() and not b.leading.is_set()
    async with manager(kube, identity="cm-c", **opts) as c:
        await asyncio.wait_for(c.leading.wait(), 8)      # the old lease is released or expires


async def renew_time(kube: Client) -> object:
    lease = await kube.get(Lease, "kube-controller-manager", namespace="kube-system")
    return lease.spec.renew_time if lease.spec else None
