"""The pod garbage collector (Kubernetes' pkg/controller/podgc): every `gc_check_period`
seconds it force-deletes (grace period 0) the pods nobody else will ever remove:

- terminated pods (Succeeded or Failed) beyond `terminated_pod_threshold`
  (`--terminated-pod-gc-threshold`, 12500 as Kubernetes; 0 disables), evicted ones first,
  then the oldest;
- pods bound to a node that no longer exists - after the node has been missing for
  `quarantine` seconds and a live read confirms it is gone - first marked Failed with the
  condition `DisruptionTarget` (reason `DeletionByPodGC`, "PodGC: node no longer exists"),
  so a Job counts them, then deleted; without this they would stay Terminating forever, as
  no kubelet is left to confirm their deletion;
- terminating pods never scheduled to a node, and terminating pods on a NotReady node
  tainted `node.kubernetes.io/out-of-service`.
Pods not yet terminal are patched to phase Failed before the delete, as Kubernetes does.
The decisions are the pure functions below; the clock is a seam for tests.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from api.meta import now_rfc3339
from api.models import Node, Pod
from client.errors import APIError, NotFound
from client.events import EventRecorder
from client.rest import Client
from controllers.base import Controller, SharedInformers

log = logging.getLogger(__name__)
GC_KEY = "podgc"
TERMINATED_POD_GC_THRESHOLD = 12500
GC_CHECK_PERIOD = 20.0
QUARANTINE = 40.0
OUT_OF_SERVICE_TAINT = "node.kubernetes.io/out-of-service"


# ---------------------------------------------------------------- decisions
def is_terminated(pod: Pod) -> bool:
    return (pod.status.phase if pod.status else None) not in ("Pending", "Running", "Unknown", None)


def _evicted(pod: Pod) -> bool:
    st = pod.status
    return st is not None and st.phase == "Failed" and st.reason == "Evicted"


def _gc_order(pod: Pod) -> tuple[bool, str, str]:
    """byEvictionAndCreationTimestamp: evicted first, then oldest, then by name."""
    return (not _evicted(pod), pod.metadata.creation_timestamp or "", pod.name)


def terminated_over_threshold(pods: Iterable[Pod], threshold: int) -> list[Pod]:
    """The terminated pods to delete so that at most `threshold` remain."""
    terminated = [p for p in pods if is_terminated(p)]
    excess = len(terminated) - threshold
    if threshold <= 0 or excess <= 0:
        return []
    return sorted(terminated, key=_gc_order)[:excess]


def unscheduled_terminating(pods: Iterable[Pod]) -> list[Pod]:
    return [p for p in pods if p.metadata.deletion_timestamp
            and not (p.spec.node_name if p.spec else None)]


def _node_ready(node: Node) -> bool:
    return any(c.type == "Ready" and c.status == "True"
               for c in (node.status.conditions if node.status else None) or [])


def terminating_out_of_service(pods: Iterable[Pod], nodes: dict[str, Node]) -> list[Pod]:
    out = []
    for p in pods:
        node = nodes.get((p.spec.node_name if p.spec else None) or "")
        if p.metadata.deletion_timestamp and node is not None and not _node_ready(node) and \
                any(t.key == OUT_OF_SERVICE_TAINT for t in (node.spec.taints if node.spec else None) or []):
            out.append(p)
    return sorted(out, key=_gc_order)


def on_nodes(pods: Iterable[Pod], names: set[str]) -> list[Pod]:
    return [p for p in pods if p.spec is not None and p.spec.node_name in names]


def missing_nodes(pods: Iterable[Pod], existing: set[str]) -> set[str]:
    return {p.spec.node_name for p in pods
            if p.spec is not None and p.spec.node_name and p.spec.node_name not in existing}


# ---------------------------------------------------------------- the controller
class PodGCController(Controller):
    NAME = "pod-garbage-collector"

    def __init__(self, client: Client, informers: SharedInformers,
                 recorder: EventRecorder | None = None, *,
                 terminated_pod_threshold: int = TERMINATED_POD_GC_THRESHOLD,
                 gc_check_period: float = GC_CHECK_PERIOD, quarantine: float = QUARANTINE,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(client, informers, recorder)
        self.threshold = terminated_pod_threshold
        self.gc_check_period, self.quarantine = gc_check_period, quarantine
        self.clock = clock
        self.pod_informer = informers.get(Pod)
        self.node_informer = informers.get(Node)
        self._watched += [self.pod_informer, self.node_informer]
        self._missing_since: dict[str, float] = {}

    async def started(self) -> None:
        self.queue.add(GC_KEY)

    async def reconcile(self, key: Any) -> None:
        try:
            await self.gc()
        finally:
            self.queue.add_after(GC_KEY, self.gc_check_period)

    async def gc(self) -> None:
        """One pass of every rule."""
        pods: list[Pod] = self.pod_informer.store.list()
        nodes: dict[str, Node] = {n.name: n for n in self.node_informer.store.list()}
        for pod in terminated_over_threshold(pods, self.threshold):
            await self._delete(pod)
        for pod in terminating_out_of_service(pods, nodes):
            await self._delete(pod)
        gone = await self._deleted_nodes(pods, set(nodes))
        for pod in on_nodes(pods, gone):
            log.info("podgc: pod %s is on node %s, which no longer exists: deleting", pod.key,
                     pod.spec.node_name if pod.spec else "")
            await self._delete(pod, {"type": "DisruptionTarget", "status": "True",
                                     "lastTransitionTime": now_rfc3339(),
                                     "reason": "DeletionByPodGC",
                                     "message": "PodGC: node no longer exists"})
        for pod in unscheduled_terminating(pods):
            await self._delete(pod)

    async def _deleted_nodes(self, pods: Sequence[Pod], existing: set[str]) -> set[str]:
        """Nodes pods are bound to that have been missing for the quarantine period and a
        live read confirms are gone."""
        now = self.clock()
        missing = missing_nodes(pods, existing)
        for name in list(self._missing_since):
            if name not in missing:
                del self._missing_since[name]
        gone: set[str] = set()
        for name in missing:
            since = self._missing_since.setdefault(name, now)
            if now - since < self.quarantine:
                continue
            try:
                await self.client.get(Node, name)
            except NotFound:
                gone.add(name)
            except APIError as e:
                log.warning("podgc: cannot read node %s: %s", name, e)
        return gone

    async def _delete(self, pod: Pod, condition: dict[str, Any] | None = None) -> None:
        """markFailedAndDeletePodWithCondition: phase Failed (and the condition) first unless
        the pod is terminal already, then a delete with grace period 0."""
        ns = pod.namespace or ""
        try:
            if not is_terminated(pod):
                status: dict[str, Any] = {"phase": "Failed"}
                if condition is not None:
                    status["conditions"] = [condition]
                await self.client.patch(Pod, pod.name, {"status": status}, ns,
                                        patch_type="strategic", subresource="status")
            await self.client.delete(Pod, pod.name, ns, grace_period_seconds=0)
        except NotFound:
            pass
        except APIError as e:
            log.warning("podgc: cannot delete pod %s: %s", pod.key, e)
