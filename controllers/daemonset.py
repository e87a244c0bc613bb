"""The DaemonSet controller: one pod on every node a DaemonSet should run on.

Owns the I/O around controllers.daemonset_logic (Kubernetes' pkg/controller/daemon):
informer handlers (a pod maps to its DaemonSet; a node added, changed or removed maps to
every DaemonSet whose verdict for it may change; a ControllerRevision to its owner), and
`reconcile(key)` = syncDaemonSet: construct the revision history, then, once the
expectations of the last sync are met, manage (create a pod for each node that needs one,
delete the pods that must go), roll updates (RollingUpdate; OnDelete waits for the user),
trim the history, and write the status.

Invariants, as Kubernetes':
- pods are created with a node affinity pinned to their node and scheduled by the
  scheduler; a node keeps its (terminating) pod until it is gone, so no node ever runs two
  pods of one DaemonSet without maxSurge;
- failed daemon pods are deleted with a per-node backoff (1 s doubling to 15 min), so a
  kubelet rejecting pods does not make the controller spin;
- a DaemonSet being deleted is left alone (the garbage collector removes its pods).
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from api.meta import compute_hash, controller_ref
from api.models import ControllerRevision, DaemonSet, Node, Pod
from api.models.apps_sets import CONTROLLER_REVISION_HASH, DaemonSetStatus
from api.models.base import OwnerReference
from api.selectors import Selector, selector_from_model
from client.errors import APIError, Conflict, NotFound
from client.events import NORMAL, WARNING, EventRecorder
from client.rest import Client
from controllers import daemonset_logic as logic
from controllers import history as hist
from controllers.base import Controller, SharedInformers
from controllers.expectations import Expectations
from controllers.refmanager import adopt_patch, claim_objects, release_patch
from controllers.replicaset import PodControl, RealPodControl
from controllers.replicaset_logic import slow_start_batches
from controllers.revisions import RevisionKeeper

log = logging.getLogger(__name__)
BACKOFF_INITIAL, BACKOFF_MAX = 1.0, 900.0


def ds_selector(ds: DaemonSet) -> Selector:
    try:
        return selector_from_model(ds.spec.selector if ds.spec else None)
    except ValueError:
        return selector_from_model(None)


def snapshot(ds: DaemonSet, revision: int, collisions: int | None) -> ControllerRevision:
    """The ControllerRevision of the DaemonSet's template: `<name>-<hash>`."""
    assert ds.spec is not None
    hash_value = compute_hash(ds.spec.template, collisions)
    return hist.new_revision(ds, hist.revision_data(ds), revision, hash_value,
                             f"{ds.metadata.name}-{hash_value}")


class DaemonSetsController(Controller):
    NAME = "daemonset-controller"

    def __init__(self, client: Client, informers: SharedInformers,
                 recorder: EventRecorder | None = None, *, pod_control: PodControl | None = None,
                 clock: Callable[[], datetime] | None = None,
                 burst_replicas: int = logic.BURST_REPLICAS) -> None:
        super().__init__(client, informers, recorder)
        self.pod_control: PodControl = pod_control or RealPodControl(client, recorder)
        self.clock = clock or (lambda: datetime.now(UTC))
        self.burst_replicas = burst_replicas
        self.expectations = Expectations()
        self.ds_informer = self.watch(DaemonSet)
        self.pod_informer = informers.get(Pod)
        self.pod_informer.add_handlers(self._pod_added, self._pod_updated, self._pod_deleted)
        self.node_informer = informers.get(Node)
        self.node_informer.add_handlers(self._node_added, self._node_updated, self._node_added)
        self.rev_informer = informers.get(ControllerRevision)
        self.rev_informer.add_handlers(self._rev_changed, lambda o, n: self._rev_changed(n),
                                       self._rev_changed)
        self._watched += [self.pod_informer, self.node_informer, self.rev_informer]
        self.revisions = RevisionKeeper(client, self.rev_informer, DaemonSet)
        self._backoff: dict[str, tuple[float, float]] = {}

    # ---------------------------------------------------------------- events
    def _resolve(self, namespace: str | None, ref: OwnerReference | None) -> DaemonSet | None:
        if ref is None or ref.kind != "DaemonSet":
            return None
        ds = self.ds_informer.store.get_by_name(namespace, ref.name)
        return ds if ds is not None and ds.metadata.uid == ref.uid else None

    def _matching(self, obj: Any) -> list[DaemonSet]:
        labels = obj.metadata.labels or {}
        return [ds for ds in self.ds_informer.store.by_index("namespace", obj.metadata.namespace or "")
                if ds_selector(ds).matches(labels)]

    def _pod_added(self, pod: Pod) -> None:
        if pod.metadata.deletion_timestamp:
            self._pod_deleted(pod)
            return
        ds = self._resolve(pod.namespace, controller_ref(pod))
        if ds is not None:
            self.expectations.creation_observed(ds.key)
            self.queue.add(ds.key)
        elif controller_ref(pod) is None:
            for ds in self._matching(pod):
                self.queue.add(ds.key)

    def _pod_updated(self, old: Pod, new: Pod) -> None:
        if old.metadata.resource_version == new.metadata.resource_version:
            return
        if new.metadata.deletion_timestamp:
            self._pod_deleted(new)
            return
        refs = [r for r in (controller_ref(old), controller_ref(new)) if r is not None]
        for ref in {r.uid: r for r in refs}.values():
            ds = self._resolve(new.namespace, ref)
            if ds is not None:
                self.queue.add(ds.key)
                min_ready = (ds.spec.min_ready_seconds if ds.spec else None) or 0
                if min_ready:
                    self.queue.add_after(ds.key, min_ready + 1)
        if controller_ref(new) is None:
            for ds in self._matching(new):
                self.queue.add(ds.key)

    def _pod_deleted(self, pod: Pod) -> None:
        ds = self._resolve(pod.namespace, controller_ref(pod))
        if ds is not None:
            self.expectations.deletion_observed(ds.key, pod.key)
            self.queue.add(ds.key)

    def _node_added(self, node: Node) -> None:
        for ds in self.ds_informer.store.list():
            self.queue.add(ds.key)

    def _node_updated(self, old: Node, new: Node) -> None:
        for ds in self.ds_informer.store.list():
            if logic.node_should_run(ds, old) != logic.node_should_run(ds, new):
                self.queue.add(ds.key)

    def _rev_changed(self, rev: ControllerRevision) -> None:
        ds = self._resolve(rev.metadata.namespace, controller_ref(rev))
        if ds is not None:
            self.queue.add(ds.key)

    # ---------------------------------------------------------------- sync
    async def reconcile(self, key: str) -> None:
        ds: DaemonSet | None = self.ds_informer.store.get(key)
        if ds is None:
            self.expectations.delete(key)
            return
        if ds.spec is None or ds.spec.selector is None or ds_selector(ds).empty:
            self.record(ds, WARNING, "SelectingAll",
                        "This daemon set is selecting all pods. A non-empty selector is required.")
            return
        if ds.metadata.deletion_timestamp:
            return
        nodes = sorted(self.node_informer.store.list(), key=lambda n: n.name)
        current, old = await self.revisions.construct(ds, ds_selector(ds), snapshot)
        hash_value = (current.metadata.labels or {}).get(CONTROLLER_REVISION_HASH, "")
        if not self.expectations.satisfied(key):
            await self._update_status(ds, nodes, hash_value, observed=False)
            return
        error: BaseException | None = None
        try:
            await self._update(ds, nodes, hash_value, old)
        except (APIError, OSError) as e:
            error = e
        await self._update_status(ds, nodes, hash_value, observed=True)
        if error is not None:
            raise error

    async def _daemon_pods(self, ds: DaemonSet) -> list[Pod]:
        """getDaemonPods: claimed pods (adopting matching orphans, releasing the rest)."""
        pods = self.pod_informer.store.by_index("namespace", ds.metadata.namespace or "")
        claim = claim_objects(ds, pods, ds_selector(ds))
        owned = list(claim.owned)
        for pod in claim.adopt:
            try:
                await self.pod_control.patch_pod(pod.namespace or "", pod.name, adopt_patch(ds, pod))
            except NotFound:
                owned.remove(pod)
        for pod in claim.release:
            try:
                await self.pod_control.patch_pod(pod.namespace or "", pod.name,
                                                 release_patch(ds.metadata.uid, pod))
            except NotFound:
                pass
        return owned

    async def _update(self, ds: DaemonSet, nodes: list[Node], hash_value: str,
                      old: list[ControllerRevision]) -> None:
        now = self.clock()
        node_pods = logic.nodes_to_daemon_pods(await self._daemon_pods(ds))
        plan = logic.manage_plan(ds, nodes, node_pods, hash_value, now)
        delete = list(plan.delete)
        for node_name, pod in plan.failed:
            if self._may_delete_failed(ds, node_name):
                self.record(ds, WARNING, "FailedDaemonPod",
                            f"Found failed daemon pod {pod.namespace}/{pod.name} on node {node_name}, will try to kill it")
                delete.append(pod)
        for node_name, pod in plan.succeeded:
            self.record(ds, NORMAL, "SucceededDaemonPod",
                        f"Found succeeded daemon pod {pod.namespace}/{pod.name} on node {node_name}, will try to delete it")
            delete.append(pod)
        await self._sync_nodes(ds, delete, plan.create_nodes, hash_value)
        strategy = ds.spec.update_strategy if ds.spec else None
        if self.expectations.satisfied(ds.key) and strategy is not None and strategy.type == "RollingUpdate":
            node_pods = logic.nodes_to_daemon_pods(await self._daemon_pods(ds))
            to_delete, to_create = logic.rolling_update_plan(ds, nodes, node_pods, hash_value, now)
            await self._sync_nodes(ds, to_delete, to_create, hash_value)
        all_pods = logic.nodes_to_daemon_pods(await self._daemon_pods(ds), include_deleted_terminal=True)
        live = {(p.metadata.labels or {}).get(CONTROLLER_REVISION_HASH, "")
                for pods in all_pods.values() for p in pods}
        limit = ds.spec.revision_history_limit if ds.spec and ds.spec.revision_history_limit is not None else 10
        await self.revisions.truncate(old, limit, live - {""})

    def _may_delete_failed(self, ds: DaemonSet, node_name: str) -> bool:
        """failedPodsBackoff: 1 s, doubling to 15 min per (DaemonSet, generation, node)."""
        observed = ds.status.observed_generation if ds.status else None
        key = f"{ds.metadata.uid}/{observed}/{node_name}"
        now = time.monotonic()
        delay, last = self._backoff.get(key, (0.0, 0.0))
        if delay and now - last < delay:
            self.queue.add_after(ds.key, delay - (now - last))
            return False
        self._backoff[key] = (min(BACKOFF_MAX, delay * 2) if delay else BACKOFF_INITIAL, now)
        return True

    async def _sync_nodes(self, ds: DaemonSet, delete: list[Pod], create_nodes: list[str],
                          hash_value: str) -> None:
        """syncNodes: set the expectations, create in slow-start batches, delete."""
        create_nodes = create_nodes[:self.burst_replicas]
        delete = delete[:self.burst_replicas]
        if not create_nodes and not delete:
            return
        self.expectations.expect(ds.key, len(create_nodes), [p.key for p in delete])
        errors: list[BaseException] = []
        pos = 0
        for batch in slow_start_batches(len(create_nodes)):
            chunk = create_nodes[pos:pos + batch]
            pos += batch
            results = await asyncio.gather(
                *(self.pod_control.create_pod(logic.pod_for_node(ds, n, hash_value), ds) for n in chunk),
                return_exceptions=True)
            failed = [r for r in results if isinstance(r, BaseException)]
            for _ in failed:
                self.expectations.creation_observed(ds.key)
            errors += failed
            if failed:
                skipped = len(create_nodes) - pos
                if skipped > 0:
                    self.expectations.lower(ds.key, skipped)
                break
        results = await asyncio.gather(
            *(self.pod_control.delete_pod(p.namespace or "", p.name, ds) for p in delete),
            return_exceptions=True)
        for pod, r in zip(delete, results):
            if isinstance(r, BaseException):
                self.expectations.deletion_observed(ds.key, pod.key)
                if not isinstance(r, NotFound):
                    errors.append(r)
        if errors:
            raise errors[0]

    async def _update_status(self, ds: DaemonSet, nodes: list[Node], hash_value: str,
                             observed: bool) -> None:
        node_pods = logic.nodes_to_daemon_pods(await self._daemon_pods(ds))
        status = logic.calculate_status(ds, nodes, node_pods, hash_value, observed, self.clock())
        if logic.status_changed(ds, status):
            await self._write_status(ds, status)
        min_ready = (ds.spec.min_ready_seconds if ds.spec else None) or 0
        if min_ready and status.number_ready != (status.number_available or 0):
            self.queue.add_after(ds.key, min_ready)

    async def _write_status(self, ds: DaemonSet, status: DaemonSetStatus) -> None:
        target = ds.model_copy(deep=True)
        for attempt in range(2):
            target.status = status.model_copy()
            if target.status.collision_count is None and ds.status is not None:
                target.status.collision_count = ds.status.collision_count
            try:
                await self.client.update_status(target)
                return
            except Conflict:
                if attempt:
                    raise
                target = await self.client.get(DaemonSet, ds.name, ds.namespace)
                status.collision_count = target.status.collision_count if target.status else None
