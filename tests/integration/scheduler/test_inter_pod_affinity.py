"""Inter-pod affinity and anti-affinity as the docs' examples use them: a pod that wants a
`security=S1` pod in its zone waits (FailedScheduling) until one runs there; replicas with
required anti-affinity on the host name land one per node and the extra one waits; a
placed pod's anti-affinity keeps matching pods off its node; a pod whose affinity matches
itself may be the first of its group."""
from __future__ import annotations

from typing import Any

from client.rest import Client
from scheduler.scheduler import Scheduler
from tests.integration.scheduler.test_scheduling import (EVENTS, PODS, bound_all, client, eventually, node,
                                                         node_of, pod, scheduler)

__all__ = ["client", "scheduler"]
HOST = "kubernetes.io/hostname"
ZONE = "topology.kubernetes.io/zone"


def _term(key: str, value: str, topology: str) -> dict[str, Any]:
    return {"labelSelector": {"matchExpressions": [{"key": key, "operator": "In", "values": [value]}]},
            "topologyKey": topology}


def _with(name: str, labels: dict[str, str] | None = None, **spec: Any) -> dict[str, Any]:
    p = pod(name, **spec)
    p["metadata"]["labels"] = labels or {}
    return p


async def _failed_scheduling(client: Client, name: str, want: str) -> str:
    """A FailedScheduling message of pod `name` containing `want` (a first try may come
    before the scheduler knows every node, and say something else)."""
    async def check() -> str | None:
        events = (await client.list(EVENTS, "default")).items
        msgs = [e["message"] for e in events if e["involvedObject"]["name"] == name and e["reason"] == "FailedScheduling"
                and want in e["message"]]
        return msgs[-1] if msgs else None
    return await eventually(check)  # type: ignore[no-any-return]


async def test_required_affinity_waits_for_a_matching_pod_in_the_zone(client: Client, scheduler: Scheduler) -> None:
    await client.create(node("n1", labels={ZONE: "east"}))
    await client.create(node("n2", labels={ZONE: "west"}))
    affinity = {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [_term("security", "S1", ZONE)]},
                "podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
                    {"weight": 100, "podAffinityTerm": _term("security", "S2", ZONE)}]}}
    await client.create(_with("with-pod-affinity", affinity=affinity))
    await _failed_scheduling(client, "with-pod-affinity", "2 node(s) didn't match pod affinity rules")
    await client.create(_with("s1", {"security": "S1"}, nodeName="n2"))
    assert await eventually(lambda: node_of(client, "with-pod-affinity")) == "n2"


async def test_anti_affinity_spreads_replicas_one_per_node(client: Client, scheduler: Scheduler) -> None:
    for n in ("n1", "n2", "n3"):
        await client.create(node(n))
    anti = {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [_term("app", "zk", HOST)]}}
    names = [f"zk-{i}" for i in range(3)]
    for name in names:
        await client.create(_with(name, {"app": "zk"}, affinity=anti))
    placed = await bound_all(client, names)
    assert sorted(placed.values()) == ["n1", "n2", "n3"]
    await client.create(_with("zk-3", {"app": "zk"}, affinity=anti))
    await _failed_scheduling(client, "zk-3", "3 node(s) didn't match pod anti-affinity rules")
    await client.delete(PODS, "zk-1", namespace="default", grace_period_seconds=0)
    assert await eventually(lambda: node_of(client, "zk-3")) == placed["zk-1"]


async def test_placed_pods_anti_affinity_and_the_first_of_a_group(client: Client, scheduler: Scheduler) -> None:
    await client.create(node("n1"))
    await client.create(node("n2"))
    lonely = {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [_term("app", "web", HOST)]}}
    await client.create(_with("lonely", nodeName="n1", affinity=lonely))
    together = {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [_term("app", "web", HOST)]}}
    await client.create(_with("web-0", {"app": "web"}, affinity=together))     # matches its own term
    assert await eventually(lambda: node_of(client, "web-0")) == "n2"
    await client.create(_with("web-1", {"app": "web"}, affinity=together))
    assert await eventually(lambda: node_of(client, "web-1")) == "n2"
