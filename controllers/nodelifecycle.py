"""The node lifecycle controller: node health from heartbeats, condition taints, and the
NoExecute taint manager that evicts pods from tainted nodes.

Health (Kubernetes' monitorNodeHealth): a node is alive while its kubelet renews its Lease
in kube-node-lease (spec.renewTime) or posts its Ready condition (lastHeartbeatTime).
The controller notes, by its own monotonic clock, when either last *changed*; when
neither changed for `grace_period` (--node-monitor-grace-period, 40 s) it sets Ready and
the pressure conditions to Unknown ("Kubelet stopped posting node status.") and marks the
node's pods Ready=False. Clock skew between hosts never matters; a restarted controller
gives every node a fresh grace period.

Taints follow the Ready condition (`taints.condition_taints`): False -> not-ready,
Unknown -> unreachable, each NoExecute and NoSchedule; True removes them.

Taint manager: a pod on a node with NoExecute taints is deleted (event
TaintManagerEviction) at once when it does not tolerate them, or when its
tolerationSeconds (300 s by admission; capped by --pod-eviction-timeout when set) ran out.

Everything happens in `reconcile(node_name)`, which re-queues itself for the next
deadline (grace expiry or eviction), so there is no separate timer loop.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from api.meta import get_condition, now_rfc3339, set_condition
from api.models import Lease, Node, Pod
from api.models.core import NodeCondition, NodeSpec, NodeStatus, PodCondition
from client.errors import Conflict, NotFound
from controllers.base import Controller
from controllers.taints import NO_EXECUTE, condition_taints, eviction_time, reconcile_taints

log = logging.getLogger(__name__)

LEASE_NAMESPACE = "kube-node-lease"
UNKNOWN_CONDITIONS = ("Ready", "MemoryPressure", "DiskPressure", "PIDPressure")
STOPPED = "Kubelet stopped posting node status."
NEVER = "Kubelet never posted node status."


@dataclass(frozen=True)
class NodeHealth:
    """What the controller last saw of a node's heartbeats, and when (monotonic)."""

    heartbeat: str | None
    renew_time: str | None
    probe_at: float


def observe(prev: NodeHealth | None, node: Node, lease: Lease | None, now: float) -> NodeHealth:
    """Move `probe_at` to `now` when the heartbeat or the lease renewal changed."""
    ready = get_condition(node.status, "Ready")
    heartbeat = ready.last_heartbeat_time if ready is not None else None
    renew = lease.spec.renew_time if lease is not None and lease.spec is not None else None
    if prev is None or (heartbeat, renew) != (prev.heartbeat, prev.renew_time):
        return NodeHealth(heartbeat, renew, now)
    return prev


def unknown_conditions(node: Node, now: datetime | None = None) -> list[NodeCondition]:
    """The node's conditions with Ready and the pressure ones set to Unknown."""
    conds = [c.model_copy() for c in (node.status.conditions if node.status else None) or []]
    stamp = now_rfc3339(now)
    for ctype in UNKNOWN_CONDITIONS:
        cur = next((c for c in conds if c.type == ctype), None)
        if cur is None:
            conds.append(NodeCondition(type=ctype, status="Unknown", reason="NodeStatusNeverUpdated",
                                       message=NEVER, last_heartbeat_time=stamp,
                                       last_transition_time=stamp))
        elif cur.status != "Unknown":
            cur.status, cur.reason, cur.message = "Unknown", "NodeStatusUnknown", STOPPED
            cur.last_transition_time = stamp
    return conds


def ready_status(node: Node) -> str | None:
    cond = get_condition(node.status, "Ready")
    return cond.status if cond is not None else None


class NodeLifecycleController(Controller):
    NAME = "node-lifecycle-controller"

    def __init__(self, *args: Any, grace_period: float = 40.0, monitor_period: float = 5.0,
                 pod_eviction_timeout: float | None = None, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.grace_period = grace_period
        self.monitor_period = monitor_period
        self.pod_eviction_timeout = pod_eviction_timeout
        self.nodes = self.watch(Node)
        self.leases = self.watch(Lease, lambda lease: lease.metadata.name,
                                 namespace=LEASE_NAMESPACE)
        self.pods = self.watch(Pod, self._node_for_pod)
        self._health: dict[str, NodeHealth] = {}
        # node -> pod uid -> when first seen there under NoExecute taints
        self._noticed: dict[str, dict[str, datetime]] = {}

    def _node_for_pod(self, pod: Pod) -> str | None:
        """Pods matter only on nodes with NoExecute taints or an Unknown Ready condition."""
        name = pod.spec.node_name if pod.spec else None
        node: Node | None = self.nodes.store.get(name) if name else None
        if node is None:
            return None
        taints = (node.spec.taints if node.spec else None) or []
        if any(t.effect == NO_EXECUTE for t in taints) or ready_status(node) == "Unknown":
            return name
        return None

    @staticmethod
    def _now() -> float:
        return asyncio.get_running_loop().time()

    # ---------------------------------------------------------------- reconcile
    async def reconcile(self, name: str) -> None:
        node: Node | None = self.nodes.store.get(name)
        if node is None:
            self._health.pop(name, None)
            self._noticed.pop(name, None)
            return
        lease = self.leases.store.get(f"{LEASE_NAMESPACE}/{name}")
        health = observe(self._health.get(name), node, lease, self._now())
        self._health[name] = health
        next_check = health.probe_at + self.grace_period - self._now()
        if next_check <= 0 and ready_status(node) != "Unknown":
            node = await self._mark_unknown(name, lease) or node
        node = await self._sync_taints(node)
        if ready_status(node) == "Unknown":
            await self._mark_pods_not_ready(name)
        next_eviction = await self._evict_pods(node)
        delays = [d for d in (next_check, next_eviction) if d is not None and d > 0]
        self.requeue_after(name, min(delays + [self.monitor_period]) + 0.01)

    async def _mark_unknown(self, name: str, lease: Lease | None) -> Node | None:
        """Re-read the node; if still silent, write Unknown conditions. Answers the new node."""
        try:
            fresh = await self.client.get(Node, name)
        except NotFound:
            return None
        health = observe(self._health.get(name), fresh, lease, self._now())
        self._health[name] = health
        if self._now() - health.probe_at < self.grace_period:
            return fresh                             # it spoke just now
        new = fresh.model_copy(deep=True)
        new.status = new.status or NodeStatus()
        new.status.conditions = unknown_conditions(fresh)
        updated = await self.client.update_status(new)   # Conflict: retried
        log.info("node %s: no heartbeat for %.0fs, status now Unknown", name, self.grace_period)
        self.record(updated, "Normal", "NodeNotReady", f"Node {name} status is now: NodeNotReady")
        return updated

    async def _sync_taints(self, node: Node) -> Node:
        want = condition_taints(ready_status(node))
        current = (node.spec.taints if node.spec else None) or []
        if reconcile_taints(current, want) is None:
            return node
        for _ in range(3):                              # GET + CAS update, as SwapNodeControllerTaint
            fresh = await self.client.get(Node, node.name)
            want = condition_taints(ready_status(fresh))
            taints = reconcile_taints((fresh.spec.taints if fresh.spec else None) or [], want)
            if taints is None:
                return fresh
            new = fresh.model_copy(deep=True)
            new.spec = new.spec or NodeSpec()
            new.spec.taints = taints or None
            try:
                updated = await self.client.update(new)
            except Conflict:
                continue
            log.info("node %s: taints now %s", node.name,
                     [f"{t.key}:{t.effect}" for t in taints] or "none")
            return updated
        raise Conflict({"code": 409, "reason": "Conflict", "message": "node taints kept changing"})

    async def _mark_pods_not_ready(self, node_name: str) -> None:
        for pod in self.pods.store.by_index("node_name", node_name):
            if pod.metadata.deletion_timestamp or pod.status is None:
                continue
            cond = get_condition(pod.status, "Ready")
            if cond is not None and cond.status == "False":
                continue
            new = pod.model_copy(deep=True)
            assert new.status is not None
            set_condition(new.status, PodCondition(type="Ready", status="False"))
            try:
                await self.client.update_status(new)
            except (Conflict, NotFound):
                pass                                     # next pass

    async def _evict_pods(self, node: Node) -> float | None:
        """Delete pods whose tolerations ran out; answers seconds to the next eviction."""
        taints = (node.spec.taints if node.spec else None) or []
        if not any(t.effect == NO_EXECUTE for t in taints):
            self._noticed.pop(node.name, None)
            return None
        now = datetime.now(UTC)
        seen, noticed_now = self._noticed.get(node.name, {}), {}
        self._noticed[node.name] = noticed_now
        soonest: float | None = None
        for pod in self.pods.store.by_index("node_name", node.name):
            if pod.metadata.deletion_timestamp:
                continue
            uid = pod.metadata.uid or ""
            noticed = noticed_now[uid] = seen.get(uid, now)
            when = eviction_time(taints, (pod.spec.tolerations if pod.spec else None) or [],
                                 noticed, self.pod_eviction_timeout)
            if when is None:
                continue
            left = (when - now).total_seconds()
            if left > 0:
                soonest = left if soonest is None else min(soonest, left)
                continue
            await self._evict(pod)
        return soonest

    async def _evict(self, pod: Pod) -> None:
        key = pod.key
        try:
            await self.client.delete(Pod, pod.name, namespace=pod.namespace,
                                     preconditions={"uid": pod.metadata.uid or ""})
        except (NotFound, Conflict):
            return
        log.info("taint manager: evicting pod %s from node %s", key,
                 pod.spec.node_name if pod.spec else "?")
        self.record(pod, "Normal", "TaintManagerEviction", f"Marking for deletion Pod {key}")
