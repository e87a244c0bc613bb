"""Informer events -> the scheduler's cache and queue (kube-scheduler's eventhandlers.go).

Owns the routing: bound pods go to the cache (confirming assumed ones), pending pods of
this scheduler go to the queue, and cluster changes that can make a parked pod fit (a
node added, a node's labels/taints/allocatable/cordon changed, a bound pod gone) move the
parked pods whose failing plugins care. Handlers only update in-memory state; they never
await and never do I/O.
"""
from __future__ import annotations

from typing import Any

from scheduler.cache import Cache
from scheduler.plugins import (inter_pod_affinity, node_affinity, node_ports, node_resources_fit,
                               node_unschedulable, pod_topology_spread, taint_toleration)
from scheduler.podinfo import DEFAULT_SCHEDULER, PodInfo, pod_info
from scheduler.queue import SchedulingQueue

# plugins whose verdict a freed-up node can change
POD_DELETE_PLUGINS = frozenset({node_resources_fit.NAME, node_ports.NAME, inter_pod_affinity.NAME,
                                pod_topology_spread.NAME})
# plugins whose verdict a newly placed (or relabelled) pod can change
POD_ADD_PLUGINS = frozenset({inter_pod_affinity.NAME, pod_topology_spread.NAME})


class EventHandlers:
    def __init__(self, cache: Cache, queue: SchedulingQueue,
                 scheduler_names: frozenset[str] = frozenset({DEFAULT_SCHEDULER})) -> None:
        self.cache = cache
        self.queue = queue
        self.scheduler_names = scheduler_names

    def responsible(self, pod: PodInfo) -> bool:
        """Ours to schedule: our scheduler name, and no scheduling gate left (the
        SchedulingGates PreEnqueue plugin: a gated pod waits outside the queue until an
        update removes its last gate)."""
        return pod.scheduler_name in self.scheduler_names and not pod.gated

    # ---------------------------------------------------------------- nodes
    def on_node_add(self, obj: dict[str, Any]) -> None:
        self.cache.add_node(obj)
        self.queue.move_all_to_active_or_backoff(None)

    def on_node_update(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        self.cache.update_node(new)
        plugins = node_change_plugins(old, new)
        if plugins:
            self.queue.move_all_to_active_or_backoff(plugins)

    def on_node_delete(self, obj: dict[str, Any]) -> None:
        self.cache.remove_node((obj.get("metadata") or {}).get("name") or "")

    # ---------------------------------------------------------------- pods
    def on_pod_add(self, obj: dict[str, Any]) -> None:
        pod = pod_info(obj)
        if pod.node_name:
            self.queue.delete(pod.key)
            if not pod.terminated:
                self.cache.add_pod(pod)
                self._pod_placed()
        elif self.responsible(pod) and not pod.terminated:
            self.queue.add(pod)

    def on_pod_update(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        pod = pod_info(new)
        if pod.node_name:
            self.queue.delete(pod.key)
            if pod.terminated:
                self._bound_pod_gone(pod.key)
            else:
                newly_bound = self.cache.pod_node(pod.key) is None or self.cache.is_assumed(pod.key)
                self.cache.update_pod(pod)
                if newly_bound or (old.get("metadata") or {}).get("labels") != pod.labels:
                    self._pod_placed()
            return
        if self.cache.is_assumed(pod.key):
            return                       # our binding is on its way; ignore the old view
        if self.responsible(pod) and not pod.terminated:
            self.queue.update(pod)
        else:
            self.queue.delete(pod.key)

    def on_pod_delete(self, obj: dict[str, Any]) -> None:
        meta = obj.get("metadata") or {}
        key = f"{meta.get('namespace') or 'default'}/{meta.get('name') or ''}"
        self.queue.delete(key)
        if self.cache.pod_node(key) is not None:
            self._bound_pod_gone(key)

    def _pod_placed(self) -> None:
        """A pod now runs somewhere (or changed labels): pods parked on inter-pod affinity
        may fit now (only they are looked at, so a busy cluster pays nothing)."""
        if self.queue.parked_on(POD_ADD_PLUGINS):
            self.queue.move_all_to_active_or_backoff(POD_ADD_PLUGINS)

    def _bound_pod_gone(self, key: str) -> None:
        if self.cache.pod_node(key) is None:
            return
        self.cache.remove_pod(key)
        self.queue.move_all_to_active_or_backoff(POD_DELETE_PLUGINS)


def node_change_plugins(old: dict[str, Any], new: dict[str, Any]) -> set[str]:
    """Which plugins' verdicts a node update can change (empty: heartbeat-only)."""
    out: set[str] = set()
    o_spec, n_spec = old.get("spec") or {}, new.get("spec") or {}
    o_status, n_status = old.get("status") or {}, new.get("status") or {}
    if o_status.get("allocatable") != n_status.get("allocatable") or \
            o_status.get("capacity") != n_status.get("capacity"):
        out.add(node_resources_fit.NAME)
    if (old.get("metadata") or {}).get("labels") != (new.get("metadata") or {}).get("labels"):
        out.update((node_affinity.NAME, inter_pod_affinity.NAME, pod_topology_spread.NAME))
    if o_spec.get("taints") != n_spec.get("taints"):
        out.add(taint_toleration.NAME)
    if bool(o_spec.get("unschedulable")) != bool(n_spec.get("unschedulable")):
        out.add(node_unschedulable.NAME)
    return out
