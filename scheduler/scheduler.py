"""The scheduler: pop a pending pod, filter and score nodes, assume, bind asynchronously.

Owns the scheduling cycle (kube-scheduler's schedule_one.go) and its thin I/O:
- the cycle is synchronous (no await), so it sees one consistent cache: PreFilter, then
  Filter over the nodes starting at a round-robin index, stopping once
  `num_feasible_nodes_to_find` nodes fit (percentageOfNodesToScore), then PreScore/Score
  over the feasible ones and the best total wins (ties broken at random);
- the chosen node is assumed in the cache at once and the `pods/binding` POST runs as its
  own task, so the next pod's cycle overlaps it; a failed binding forgets the assumption
  and sends the pod to backoff;
- a pod no node fits keeps `PodScheduled=False` (reason Unschedulable, Kubernetes' FitError
  message) and gets a FailedScheduling event, and waits in the queue for a cluster change.

Only pods whose schedulerName is one of `scheduler_names` and that have no nodeName are
scheduled. pykube has no preemption (no PostFilter), so the message carries no
"preemption: ..." suffix, as with kube-scheduler running without DefaultPreemption.
"""
from __future__ import annotations

import asyncio
import logging
import random
from typing import Any

from api.meta import now_rfc3339
from api.models import PersistentVolume, PersistentVolumeClaim, StorageClass
from api.resources import by_kind
from client.errors import APIError, ClientError, Conflict, NotFound
from client.events import NORMAL, WARNING, EventRecorder
from client.informer import Informer, drop_managed_fields
from client.rest import Client
from scheduler.cache import Cache
from scheduler.eventhandlers import POD_DELETE_PLUGINS, EventHandlers
from scheduler.framework import (NO_NODES_AVAILABLE, CycleState, Framework, Status,
                                 fit_error_message)
from scheduler.nodeinfo import NodeInfo
from scheduler.plugins import default_framework
from scheduler.plugins.inter_pod_affinity import NODES_KEY
from scheduler.podinfo import DEFAULT_SCHEDULER, PodInfo
from scheduler.queue import QueuedPodInfo, SchedulingQueue
from scheduler.plugins.volume_binding import NAME as VOLUME_BINDING
from scheduler.volumebinding import DEFAULT_BIND_TIMEOUT, VolumeBinder, VolumeCache

log = logging.getLogger(__name__)

PODS = by_kind("v1", "Pod")
NODES = by_kind("v1", "Node")
MIN_FEASIBLE_NODES_TO_FIND = 100
MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND = 5


class FitError(Exception):
    """No node fits: the message and the plugins that rejected the pod."""

    def __init__(self, message: str, plugins: set[str], reason: str = "Unschedulable") -> None:
        super().__init__(message)
        self.message, self.plugins, self.reason = message, plugins, reason


def num_feasible_nodes_to_find(percentage: int, num_all_nodes: int) -> int:
    """Kubernetes' numFeasibleNodesToFind: all nodes below 100; else `percentage` of
    them (0 = adaptive: 50% - nodes/125, at least 5%), and never fewer than 100."""
    if num_all_nodes < MIN_FEASIBLE_NODES_TO_FIND:
        return num_all_nodes
    if percentage <= 0:
        percentage = max(50 - num_all_nodes // 125, MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND)
    percentage = min(percentage, 100)
    return max(num_all_nodes * percentage // 100, MIN_FEASIBLE_NODES_TO_FIND)


def select_host(nodes: list[NodeInfo], scores: list[int]) -> str:
    """The highest total; among equals, each is equally likely (as kube-scheduler's
    reservoir sampling)."""
    best = max(scores)
    if scores.count(best) == 1:
        return nodes[scores.index(best)].name
    return nodes[random.choice([i for i, s in enumerate(scores) if s == best])].name


class Scheduler:
    """One scheduler term: its informers, cache, queue and the loop. `bind_concurrency`
    bounds the bindings in flight (the cycle waits when all are busy)."""

    def __init__(self, client: Client, *, framework: Framework | None = None,
                 percentage_of_nodes_to_score: int = 0, bind_concurrency: int = 8,
                 recorder: EventRecorder | None = None,
                 scheduler_names: frozenset[str] = frozenset({DEFAULT_SCHEDULER}),
                 queue: SchedulingQueue | None = None, cache: Cache | None = None,
                 volume_bind_timeout: float = DEFAULT_BIND_TIMEOUT) -> None:
        self.client = client
        self.framework = framework or default_framework()
        self.percentage_of_nodes_to_score = percentage_of_nodes_to_score
        self.cache = cache or Cache()
        self.queue = queue or SchedulingQueue()
        self.handlers = EventHandlers(self.cache, self.queue, scheduler_names)
        self.recorder = recorder or EventRecorder(client, "default-scheduler")
        self._bind_slots = asyncio.Semaphore(bind_concurrency)
        self._status_slots = asyncio.Semaphore(max(1, bind_concurrency // 2))
        self._tasks: set[asyncio.Task[Any]] = set()
        self.next_start_node_index = 0
        self.scheduled = 0
        self.failed = 0
        # storage: the VolumeBinding plugin's cache, and the binding of claims before a pod's
        self.volumes = VolumeCache()
        self.volume_binder = VolumeBinder(client, self.volumes, volume_bind_timeout)
        self.uses_volumes = False
        for plugin in self.framework.plugins:
            if hasattr(plugin, "use_volumes"):
                plugin.use_volumes(self.volumes)
                self.uses_volumes = True

    # ---------------------------------------------------------------- lifecycle
    async def run(self) -> None:
        """Start the informers, wait for their first lists, schedule until cancelled."""
        nodes = Informer(self.client, NODES, transform=drop_managed_fields)
        pods = Informer(self.client, PODS, transform=drop_managed_fields)
        h = self.handlers
        nodes.add_handlers(h.on_node_add, h.on_node_update, h.on_node_delete)
        pods.add_handlers(h.on_pod_add, h.on_pod_update, h.on_pod_delete)
        storage = self._storage_informers() if self.uses_volumes else []
        background = [asyncio.create_task(self.queue.run(), name="scheduler-queue-flush"),
                      asyncio.create_task(self._cleanup_assumed(), name="scheduler-cache")]
        try:
            for inf in storage:
                await inf.start()
            await nodes.start()
            await pods.start()
            for inf in storage:
                await inf.wait_synced()
            await nodes.wait_synced()
            await pods.wait_synced()
            log.info("scheduler: caches synced (%d nodes, %d pending pods)",
                     self.cache.node_count(), len(self.queue))
            while await self.schedule_one():
                await asyncio.sleep(0)          # let informers and bindings run
        finally:
            self.queue.close()
            for t in background:
                t.cancel()
            await asyncio.gather(*background, return_exceptions=True)
            await nodes.stop()
            await pods.stop()
            for inf in storage:
                await inf.stop()
            for t in list(self._tasks):      # the next term (or scheduler) re-reads the world
                t.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            await self.recorder.close()

    def _storage_informers(self) -> list[Informer]:
        """Claims, volumes and classes into the VolumeCache; a change may let a parked pod fit."""
        def changed(obj: Any, gone: bool = False) -> None:
            (self.volumes.remove if gone else self.volumes.put)(obj)
            self.queue.move_all_to_active_or_backoff({VOLUME_BINDING})
        out = []
        for model in (PersistentVolumeClaim, PersistentVolume, StorageClass):
            inf = Informer(self.client, model, transform=drop_managed_fields)
            inf.add_handlers(changed, lambda old, new: changed(new), lambda o: changed(o, True))
            out.append(inf)
        return out

    async def _cleanup_assumed(self, period: float = 1.0) -> None:
        while True:
            await asyncio.sleep(period)
            if self.cache.cleanup_expired():
                self.queue.move_all_to_active_or_backoff(POD_DELETE_PLUGINS)

    # ---------------------------------------------------------------- one pod
    async def schedule_one(self) -> bool:
        """Schedule the next pod; False when the queue was closed."""
        q = await self.queue.pop()
        if q is None:
            return False
        pod, cycle = q.pod, self.queue.scheduling_cycle
        if pod.deleting or pod.node_name or self.cache.pod_node(pod.key) is not None:
            self.queue.done(pod.key)
            return True
        try:
            node_name = self.schedule_pod(pod)
        except FitError as e:
            self._failed(q, cycle, e)
            return True
        except Exception as e:  # a plugin bug must not stop the loop
            log.exception("scheduling %s failed", pod.key)
            self._failed(q, cycle, FitError(str(e), set(), "SchedulerError"))
            return True
        self.cache.assume_pod(pod, node_name)
        await self._bind_slots.acquire()
        task = asyncio.create_task(self._bind(q, node_name, cycle))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    def schedule_pod(self, pod: PodInfo) -> str:
        """The pure part of a cycle: the chosen node's name, or FitError."""
        nodes = self.cache.nodes()
        if not nodes:
            raise FitError(NO_NODES_AVAILABLE, set())
        state = CycleState()
        state.write(NODES_KEY, nodes)          # plugins that look across nodes (InterPodAffinity)
        plugins, st = self.framework.run_pre_filters(state, pod)
        if st is not None:
            raise FitError(fit_error_message(len(nodes), (), pre_filter_msg=st.message),
                           {st.plugin} if st.is_unschedulable else set())
        feasible, statuses = self.find_nodes_that_pass_filters(
            state, pod, nodes, [p.filter for p in plugins])
        if not feasible:
            raise FitError(fit_error_message(len(nodes), statuses.values()),
                           {s.plugin for s in statuses.values()})
        if len(feasible) == 1:
            return feasible[0].name
        return select_host(feasible, self.framework.score(state, pod, feasible))

    def find_nodes_that_pass_filters(self, state: CycleState, pod: PodInfo,
                                     nodes: list[NodeInfo], filters: list[Any],
                                     ) -> tuple[list[NodeInfo], dict[str, Status]]:
        """Filter from the round-robin start until `want` nodes fit (or all were tried).

        Nodes go through the filters in chunks of exactly the number still wanted, one
        filter at a time over the chunk, so no node past the `want`-th fit is examined
        (what kube-scheduler's sequential order would do) and the per-node interpreter
        overhead stays small. A node's status is its first failing filter's."""
        n = len(nodes)
        want = num_feasible_nodes_to_find(self.percentage_of_nodes_to_score, n)
        start = self.next_start_node_index % n
        order = nodes[start:] + nodes[:start] if start else nodes
        feasible: list[NodeInfo] = []
        statuses: dict[str, Status] = {}
        pos = 0
        while pos < n and len(feasible) < want:
            chunk = order[pos:pos + want - len(feasible)]
            pos += len(chunk)
            for f in filters:
                results = [f(state, pod, ni) for ni in chunk]
                if results.count(None) != len(results):
                    kept = []
                    for ni, st in zip(chunk, results):
                        if st is None:
                            kept.append(ni)
                        else:
                            statuses[ni.name] = st
                    chunk = kept
                    if not chunk:
                        break
            feasible.extend(chunk)
        self.next_start_node_index = (start + pos) % n
        return feasible, statuses

    # ---------------------------------------------------------------- outcomes
    async def _bind(self, q: QueuedPodInfo, node_name: str, cycle: int) -> None:
        pod = q.pod
        try:
            if self.uses_volumes:
                ni = self.cache.node(node_name)
                await self.volume_binder.bind_pod_volumes(pod.obj, node_name, ni.labels if ni else {})
            await self.client.bind(pod.obj, node_name)
        except (NotFound, Conflict) as e:
            # gone, or bound by someone else: the informer brings the truth
            log.info("binding %s to %s: %s", pod.key, node_name, e)
            self.cache.forget_pod(pod.key)
            self.queue.done(pod.key)
            self.queue.move_all_to_active_or_backoff(POD_DELETE_PLUGINS)
        except Exception as e:  # noqa: BLE001 - any failure: forget, back off, retry
            log.warning("binding %s to %s failed: %s", pod.key, node_name, e)
            self.cache.forget_pod(pod.key)
            q.unschedulable_plugins = set()
            self.queue.add_unschedulable_if_not_present(q, cycle)
            self.queue.move_all_to_active_or_backoff(POD_DELETE_PLUGINS)
            self.recorder.record(pod.obj, WARNING, "FailedScheduling", f"Binding rejected: {e}")
        else:
            self.cache.finish_binding(pod.key)
            self.queue.done(pod.key)
            self.scheduled += 1
            self.recorder.record(pod.obj, NORMAL, "Scheduled",
                                 f"Successfully assigned {pod.namespace}/{pod.name} to {node_name}")
        finally:
            self._bind_slots.release()

    def _failed(self, q: QueuedPodInfo, cycle: int, err: FitError) -> None:
        pod = q.pod
        self.failed += 1
        log.info("unable to schedule %s: %s", pod.key, err.message)
        q.unschedulable_plugins = err.plugins
        self.queue.add_unschedulable_if_not_present(q, cycle)
        self.recorder.record(pod.obj, WARNING, "FailedScheduling", err.message)
        condition = {"type": "PodScheduled", "status": "False", "reason": err.reason,
                     "message": err.message}
        if _condition_unchanged(pod.obj, condition):
            return
        task = asyncio.create_task(self._update_condition(pod, condition))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _update_condition(self, pod: PodInfo, condition: dict[str, Any]) -> None:
        """Strategic merge patch of the one condition (merge key `type`), as
        kube-scheduler sends; skipped if the pod got a node while this waited."""
        patch = {"status": {"conditions": [{**condition, "lastProbeTime": None,
                                             "lastTransitionTime": now_rfc3339()}]}}
        try:
            async with self._status_slots:
                if self.cache.pod_node(pod.key) is not None:
                    return
                await self.client.patch(PODS, pod.name, patch, namespace=pod.namespace,
                                        patch_type="strategic", subresource="status")
        except (APIError, ClientError, OSError) as e:
            log.warning("updating PodScheduled of %s: %s", pod.key, e)


def _condition_unchanged(obj: dict[str, Any], cond: dict[str, Any]) -> bool:
    for c in (obj.get("status") or {}).get("conditions") or []:
        if c.get("type") == cond["type"]:
            return all(c.get(k) == cond[k] for k in ("status", "reason", "message"))
    return False
