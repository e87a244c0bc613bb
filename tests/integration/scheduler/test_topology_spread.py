"""Pod topology spread constraints as the docs' examples write them: `maxSkew: 1` over zones
with `DoNotSchedule` keeps two zones within one pod of each other (a node without the zone
label is never used), `matchLabelKeys` narrows the count to the pod's own revision, and a
cluster whose nodes lack the key says so (FailedScheduling)."""
from __future__ import annotations

from collections import Counter
from typing import Any

from client.rest import Client
from scheduler.scheduler import Scheduler
from tests.integration.scheduler.test_inter_pod_affinity import _failed_scheduling, _with
from tests.integration.scheduler.test_scheduling import client, eventually, node, node_of, scheduler

__all__ = ["client", "scheduler"]
ZONE = "topology.kubernetes.io/zone"


def _spread(**extra: Any) -> list[dict[str, Any]]:
    return [{"maxSkew": 1, "topologyKey": ZONE, "whenUnsatisfiable": "DoNotSchedule",
             "labelSelector": {"matchLabels": {"foo": "bar"}}, **extra}]


async def test_zones_stay_within_max_skew(client: Client, scheduler: Scheduler) -> None:
    await client.create(node("n1", labels={ZONE: "a"}))
    await client.create(node("n2", labels={ZONE: "a"}))
    await client.create(node("n3", cpu="4", labels={ZONE: "b"}))
    await client.create(node("n4", cpu="8"))                      # no zone: never eligible
    zone = {"n1": "a", "n2": "a", "n3": "b"}
    placed = []
    for i in range(6):
        name = f"spread-{i}"
        await client.create(_with(name, {"foo": "bar"}, topologySpreadConstraints=_spread()))
        placed.append(await eventually(lambda name=name: node_of(client, name)))
        per_zone = Counter(zone.get(n, "none") for n in placed)
        assert "none" not in per_zone and max(per_zone.values()) - min(per_zone.get(z, 0) for z in "ab") <= 1, placed


async def test_match_label_keys_count_only_the_same_revision(client: Client, scheduler: Scheduler) -> None:
    await client.create(node("n1", labels={ZONE: "a"}))
    await client.create(node("n2", labels={ZONE: "b"}))
    for i in range(2):     # an older revision crowding zone a
        await client.create(_with(f"old-{i}", {"foo": "bar", "pod-template-hash": "old"}, nodeName="n1"))
    await client.create(_with("new-0", {"foo": "bar", "pod-template-hash": "new"}, nodeSelector={ZONE: "a"},
                              topologySpreadConstraints=_spread(matchLabelKeys=["pod-template-hash"],
                                                                nodeAffinityPolicy="Ignore")))
    assert await eventually(lambda: node_of(client, "new-0")) == "n1"


async def test_nodes_without_the_topology_key(client: Client, scheduler: Scheduler) -> None:
    await client.create(node("n1"))
    await client.create(_with("lost", {"foo": "bar"}, topologySpreadConstraints=_spread()))
    await _failed_scheduling(client, "lost",
                             "1 node(s) didn't match pod topology spread constraints (missing required label)")
