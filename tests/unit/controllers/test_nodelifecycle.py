"""Node lifecycle: heartbeat observation, Unknown conditions, and one reconcile that
evicts an intolerant pod from a tainted node."""
from __future__ import annotations

from typing import Any

from api.models import Lease, Node, Pod
from controllers.nodelifecycle import NodeLifecycleController, observe, unknown_conditions
from tests.support.controller_fakes import RecordingClient, informers_for, obj, seed


def node(name: str = "n1", ready: str = "True", hb: str = "2026-01-01T00:00:00Z",
         taints: list[dict[str, Any]] | None = None) -> Node:
    return obj(Node, name, spec={"taints": taints} if taints else {}, status={"conditions": [
        {"type": "Ready", "status": ready, "lastHeartbeatTime": hb, "reason": "KubeletReady"},
        {"type": "MemoryPressure", "status": "False", "lastHeartbeatTime": hb}]})


def lease(name: str = "n1", renew: str = "2026-01-01T00:00:00.000000Z") -> Lease:
    return obj(Lease, name, ns="kube-node-lease", spec={"holderIdentity": name, "renewTime": renew})


def test_observe_moves_probe_only_on_change() -> None:
    h = observe(None, node(), lease(), 1.0)
    assert h.probe_at == 1.0
    assert observe(h, node(), lease(), 5.0).probe_at == 1.0
    assert observe(h, node(), lease(renew="2026-01-01T00:00:09.000000Z"), 5.0).probe_at == 5.0
    assert observe(h, node(hb="2026-01-01T00:00:09Z"), lease(), 6.0).probe_at == 6.0


def test_unknown_conditions() -> None:
    conds = {c.type: c for c in unknown_conditions(node())}
    assert conds["Ready"].status == "Unknown" and conds["Ready"].reason == "NodeStatusUnknown"
    assert conds["Ready"].message == "Kubelet stopped posting node status."
    assert conds["Ready"].last_heartbeat_time == "2026-01-01T00:00:00Z"
    assert conds["MemoryPressure"].status == "Unknown"
    assert conds["DiskPressure"].reason == "NodeStatusNeverUpdated"


async def test_tainted_node_evicts_intolerant_pod_keeps_tolerant_one() -> None:
    n = node(ready="Unknown", taints=[
        {"key": "node.kubernetes.io/unreachable", "effect": "NoExecute",
         "timeAdded": "2026-01-01T00:00:00Z"},
        {"key": "node.kubernetes.io/unreachable", "effect": "NoSchedule"}])
    spec: dict[str, Any] = {"nodeName": "n1", "containers": [{"name": "c"}]}
    bad = obj(Pod, "bad", spec=spec, status={"conditions": [{"type": "Ready", "status": "False"}]})
    good = obj(Pod, "good", spec={**spec, "tolerations": [
        {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"}]},
        status={"conditions": [{"type": "Ready", "status": "False"}]})
    client = RecordingClient(n)
    informers = informers_for(client)
    c = NodeLifecycleController(client, informers, grace_period=1000)   # type: ignore[arg-type]
    seed(informers, n, bad, good)
    await c.reconcile("n1")
    assert [d[1] for d in client.verbs("delete")] == ["Pod/bad"]
    assert client.verbs("update", "update_status") == []     # taints already right


async def test_kubelet_not_ready_gets_not_ready_taints() -> None:
    n = node(ready="False")
    client = RecordingClient(n)
    informers = informers_for(client)
    c = NodeLifecycleController(client, informers, grace_period=1000)   # type: ignore[arg-type]
    seed(informers, n)
    await c.reconcile("n1")
    (update,) = client.verbs("update")
    taints = {(t.key, t.effect) for t in update[2].spec.taints}
    assert taints == {("node.kubernetes.io/not-ready", "NoExecute"),
                      ("node.kubernetes.io/not-ready", "NoSchedule")}
    assert client.verbs("update_status") == []


async def test_silent_node_goes_unknown_and_its_pods_not_ready() -> None:
    n = node()
    p = obj(Pod, "p", spec={"nodeName": "n1", "containers": [{"name": "c"}]},
            status={"conditions": [{"type": "Ready", "status": "True"}]})
    client = RecordingClient(n, p)
    informers = informers_for(client)
    c = NodeLifecycleController(client, informers, grace_period=0)   # type: ignore[arg-type]
    seed(informers, n, p)
    await c.reconcile("n1")
    statuses = client.verbs("update_status")
    assert statuses[0][1] == "Node/n1"
    ready = next(x for x in statuses[0][2].status.conditions if x.type == "Ready")
    assert ready.status == "Unknown" and ready.reason == "NodeStatusUnknown"
    (update,) = client.verbs("update")
    assert {(t.key, t.effect) for t in update[2].spec.taints} == {
        ("node.kubernetes.io/unreachable", "NoExecute"),
        ("node.kubernetes.io/unreachable", "NoSchedule")}
    assert statuses[1][1] == "Pod/p"
    assert statuses[1][2].status.conditions[0].status == "False"
    # the pod tolerates nothing: evicted at once (admission would have given it 300 s)
    assert [d[1] for d in client.verbs("delete")] == ["Pod/p"]
