"""The scheduler against an in-process apiserver: spreading, taints and nodeSelector, a pod
too big for every node (Unschedulable with Kubernetes' message and a FailedScheduling
event) that schedules once a bigger node joins, and `--leader-elect` through the CLI."""
from __future__ import annotations

import argparse
import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from api.resources import by_kind
from client import kubeconfig
from client.rest import Client
from scheduler.cli import run_from_args
from scheduler.scheduler import Scheduler

PODS, NODES, EVENTS, LEASES = (by_kind("v1", "Pod"), by_kind("v1", "Node"),
                               by_kind("v1", "Event"), by_kind("coordination.k8s.io/v1", "Lease"))
GPU_TAINT = {"key": "gpu", "value": "true", "effect": "NoSchedule"}


def node(name: str, cpu: str = "2", memory: str = "4Gi", *, labels: dict[str, str] | None = None,
         taints: list[dict[str, str]] | None = None) -> dict[str, Any]:
    alloc = {"cpu": cpu, "memory": memory, "pods": "110"}
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, **(labels or {})}},
            "spec": {"taints": taints} if taints else {},
            "status": {"capacity": alloc, "allocatable": alloc,
                       "conditions": [{"type": "Ready", "status": "True"}]}}


def pod(name: str, cpu: str = "100m", *, owner: str | None = None,
        **spec: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": "default"}
    if owner:
        meta["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": owner,
                                    "uid": f"uid-{owner}", "controller": True}]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta,
            "spec": {"containers": [{"name": "c", "image": "nginx",
                                     "resources": {"requests": {"cpu": cpu, "memory": "64Mi"}}}],
                     **spec}}


async def eventually(check: Callable[[], Awaitable[Any]], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(0.05)


@pytest.fixture
async def client(apiserver: Any) -> AsyncIterator[Client]:
    async with Client(kubeconfig.load(str(apiserver.kubeconfig_path)), component="test") as c:
        yield c


@pytest.fixture
async def scheduler(client: Client) -> AsyncIterator[Scheduler]:
    sched = Scheduler(client)
    task = asyncio.create_task(sched.run())
    yield sched
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def node_of(client: Client, name: str) -> str | None:
    p = await client.get(PODS, name, namespace="default")
    return (p.get("spec") or {}).get("nodeName")


async def bound_all(client: Client, names: list[str]) -> dict[str, str]:
    async def check() -> dict[str, str] | None:
        placed = {n: await node_of(client, n) for n in names}
        return placed if all(placed.values()) else None  # type: ignore[return-value]
    return await eventually(check)  # type: ignore[no-any-return]


async def test_pods_of_one_owner_spread_across_three_nodes(client: Client,
                                                           scheduler: Scheduler) -> None:
    for n in ("n1", "n2", "n3"):
        await client.create(node(n))
    names = [f"web-{i}" for i in range(6)]
    for name in names:
        await client.create(pod(name, owner="web"))
    placed = await bound_all(client, names)
    assert Counter(placed.values()) == {"n1": 2, "n2": 2, "n3": 2}
    p = await client.get(PODS, "web-0", namespace="default")
    conds = {c["type"]: c for c in p["status"]["conditions"]}
    assert conds["PodScheduled"]["status"] == "True"


async def test_taints_tolerations_and_node_selector(client: Client, scheduler: Scheduler) -> None:
    await client.create(node("plain"))
    await client.create(node("ssd", labels={"disk": "ssd"}))
    await client.create(node("gpu", taints=[GPU_TAINT]))
    await client.create(pod("wants-ssd", nodeSelector={"disk": "ssd"}))
    await client.create(pod("gpu-job", tolerations=[{"key": "gpu", "operator": "Equal",
                                                     "value": "true", "effect": "NoSchedule"}],
                            nodeSelector={"kubernetes.io/hostname": "gpu"}))
    plain = [f"plain-{i}" for i in range(6)]
    for name in plain:
        await client.create(pod(name))
    placed = await bound_all(client, ["wants-ssd", "gpu-job", *plain])
    assert placed["wants-ssd"] == "ssd"
    assert placed["gpu-job"] == "gpu"
    assert all(placed[n] != "gpu" for n in plain)


async def test_too_big_pod_is_unschedulable_until_a_bigger_node_joins(
        client: Client, scheduler: Scheduler) -> None:
    for n in ("n1", "n2", "n3"):
        await client.create(node(n, cpu="2"))
    await client.create(pod("huge", cpu="4"))

    async def unschedulable() -> dict[str, Any] | None:
        p = await client.get(PODS, "huge", namespace="default")
        for c in (p.get("status") or {}).get("conditions") or []:
            if c["type"] == "PodScheduled" and c["status"] == "False":
                return c  # type: ignore[no-any-return]
        return None
    cond = await eventually(unschedulable)
    assert cond["reason"] == "Unschedulable"
    assert cond["message"] == "0/3 nodes are available: 3 Insufficient cpu."

    async def failed_event() -> dict[str, Any] | None:
        events = await client.list(EVENTS, "default")
        for e in events.items:
            if e["involvedObject"].get("name") == "huge" and e["reason"] == "FailedScheduling":
                return e  # type: ignore[no-any-return]
        return None
    event = await eventually(failed_event)
    assert event["type"] == "Warning"
    assert event["involvedObject"]["kind"] == "Pod"
    assert event["source"]["component"] == "default-scheduler"
    assert event["message"] == "0/3 nodes are available: 3 Insufficient cpu."
    assert await node_of(client, "huge") is None

    await client.create(node("big", cpu="8"))
    placed = await bound_all(client, ["huge"])
    assert placed == {"huge": "big"}
    p = await client.get(PODS, "huge", namespace="default")
    conds = {c["type"]: c for c in p["status"]["conditions"]}
    assert conds["PodScheduled"]["status"] == "True"


async def test_other_schedulers_pods_and_deleted_pods_free_room(client: Client,
                                                                scheduler: Scheduler) -> None:
    await client.create(node("only", cpu="1"))
    await client.create(pod("mine-1", cpu="800m"))
    await client.create(pod("theirs", schedulerName="other-scheduler"))
    await bound_all(client, ["mine-1"])
    await client.create(pod("mine-2", cpu="800m"))

    async def unschedulable() -> bool:       # the scheduler tried it and found no room
        p = await client.get(PODS, "mine-2", namespace="default")
        return any(c.get("type") == "PodScheduled" and c.get("reason") == "Unschedulable"
                   for c in (p.get("status") or {}).get("conditions") or [])
    await eventually(unschedulable)
    assert await node_of(client, "mine-2") is None
    await client.delete(PODS, "mine-1", namespace="default", grace_period_seconds=0)
    assert await bound_all(client, ["mine-2"]) == {"mine-2": "only"}
    assert await node_of(client, "theirs") is None


async def test_cli_with_leader_election_holds_the_lease_and_schedules(
        apiserver: Any, client: Client) -> None:
    args = argparse.Namespace(
        kubeconfig=apiserver.kubeconfig_path, leader_elect=True,
        leader_elect_lease_duration=3.0, leader_elect_renew_deadline=2.0,
        leader_elect_retry_period=0.5, leader_elect_resource_namespace="kube-system",
        leader_elect_resource_name="kube-scheduler", percentage_of_nodes_to_score=0,
        scheduler_name=None)
    task = asyncio.create_task(run_from_args(args))
    try:
        await client.create(node("n1"))
        await client.create(pod("p1"))
        assert await bound_all(client, ["p1"]) == {"p1": "n1"}
        lease = await client.get(LEASES, "kube-scheduler", namespace="kube-system")
        assert lease["spec"]["holderIdentity"]
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
