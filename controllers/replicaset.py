"""The ReplicaSet controller: keeps `spec.replicas` pods running for every ReplicaSet.

Owns the I/O around `controllers.replicaset_logic`: informer handlers (pod events map to
the owning ReplicaSet's key and feed the `Expectations`), `reconcile(key)` (claim pods,
create or delete pods, write status), and `PodControl`, the seam through which every pod
side effect goes (with `FakePodControl` beside the real one for tests).

Invariants, as Kubernetes' pkg/controller/replicaset:
- reconcile re-reads the ReplicaSet and pods from the informer caches and never mutates
  them; a ReplicaSet that is gone just drops its expectations;
- no pods are created or deleted for a key while its expectations are unsatisfied, so a
  slow cache never causes double creation (5 min timeout as a last resort);
- creations go in slow-start batches (1, 2, 4, ...) and stop at the first failed batch;
  at most `burst_replicas` creations or deletions per sync;
- status is written only when it changed, with observedGeneration = metadata.generation;
  pods this sync deleted are no longer counted (they are terminating).
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol

from api.meta import controller_ref, is_pod_ready
from api.models import K8sObject, Pod, ReplicaSet
from api.models.apps import ReplicaSetStatus
from api.models.base import OwnerReference
from client.errors import APIError, Conflict, NotFound
from client.events import NORMAL, WARNING, EventRecorder
from client.rest import Client
from controllers import replicaset_logic as logic
from controllers.base import Controller, SharedInformers
from controllers.expectations import Expectations
from controllers.refmanager import adopt_patch, release_patch

log = logging.getLogger(__name__)
STATUS_UPDATE_RETRIES = 1
CONFLICT_RETRY_SECONDS = 0.1


class PodControl(Protocol):
    """Every pod side effect of a controller (Kubernetes' controller.PodControlInterface)."""

    async def create_pod(self, pod: Pod, owner: Any) -> Pod: ...
    async def delete_pod(self, namespace: str, name: str, owner: Any) -> None: ...
    async def patch_pod(self, namespace: str, name: str, patch: dict[str, Any],
                        patch_type: str = "merge") -> None: ...


class RealPodControl:
    """PodControl over the REST client, recording Kubernetes' events on the owner."""

    def __init__(self, client: Client, recorder: EventRecorder | None = None) -> None:
        self.client = client
        self.recorder = recorder

    def _record(self, owner: Any, type_: str, reason: str, message: str) -> None:
        if self.recorder is not None:
            self.recorder.record(owner, type_, reason, message)

    async def create_pod(self, pod: Pod, owner: Any) -> Pod:
        try:
            created = await self.client.create(pod)
        except APIError as e:
            self._record(owner, WARNING, "FailedCreate", f"Error creating: {e}")
            raise
        self._record(owner, NORMAL, "SuccessfulCreate", f"Created pod: {created.name}")
        return created

    async def delete_pod(self, namespace: str, name: str, owner: Any) -> None:
        try:
            await self.client.delete(Pod, name, namespace)
        except NotFound:
            raise
        except APIError as e:
            self._record(owner, WARNING, "FailedDelete", f"Error deleting: {e}")
            raise
        self._record(owner, NORMAL, "SuccessfulDelete", f"Deleted pod: {name}")

    async def patch_pod(self, namespace: str, name: str, patch: dict[str, Any],
                        patch_type: str = "merge") -> None:
        await self.client.patch(Pod, name, patch, namespace, patch_type=patch_type)


class FakePodControl:
    """Records what a sync asked for instead of doing it (Kubernetes' FakePodControl)."""

    def __init__(self, create_error: Exception | None = None) -> None:
        self.created: list[Pod] = []
        self.deleted: list[str] = []
        self.patches: list[tuple[str, dict[str, Any]]] = []
        self.create_error = create_error
        self.create_limit: int | None = None   # fail every creation after this many
        self.patch_error: Exception | None = None

    async def create_pod(self, pod: Pod, owner: Any) -> Pod:
        if self.create_error is not None and (self.create_limit is None
                                              or len(self.created) >= self.create_limit):
            raise self.create_error
        out = pod.model_copy(deep=True)
        out.metadata.name = f"{pod.metadata.generate_name}{len(self.created)}"
        self.created.append(out)
        return out

    async def delete_pod(self, namespace: str, name: str, owner: Any) -> None:
        self.deleted.append(f"{namespace}/{name}")

    async def patch_pod(self, namespace: str, name: str, patch: dict[str, Any],
                        patch_type: str = "merge") -> None:
        if self.patch_error is not None:
            raise self.patch_error
        self.patches.append((f"{namespace}/{name}", patch))


CONTROLLER_INDEX = "controller_uid"


def controller_index(pod: Any) -> list[str]:
    """A pod's controller's uid, or `orphan/<namespace>` for a pod no controller owns."""
    ref = controller_ref(pod)
    if ref is not None:
        return [ref.uid]
    return [f"orphan/{pod.metadata.namespace or ''}"]


class ReplicaSetController(Controller):
    NAME = "replicaset-controller"
    #: the kind managed; the ReplicationManager runs ReplicationControllers through this
    #: controller, seen as ReplicaSets by `_as_rs` (Kubernetes' conversion adapter)
    OWNER: type[K8sObject] = ReplicaSet

    def __init__(self, client: Client, informers: SharedInformers,
                 recorder: EventRecorder | None = None, *,
                 pod_control: PodControl | None = None,
                 burst_replicas: int = logic.BURST_REPLICAS,
                 expectations: Expectations | None = None) -> None:
        super().__init__(client, informers, recorder)
        self.pod_control: PodControl = pod_control or RealPodControl(client, recorder)
        self.burst_replicas = burst_replicas
        self.expectations = expectations or Expectations()
        self.rs_informer = self.watch(self.OWNER)
        self.pod_informer = informers.get(Pod)
        self.pod_informer.add_index(CONTROLLER_INDEX, controller_index)
        self.pod_informer.add_handlers(self._pod_added, self._pod_updated, self._pod_deleted)
        self._watched.append(self.pod_informer)

    # ---------------------------------------------------------------- pod events
    def _resolve(self, namespace: str | None, ref: OwnerReference | None) -> ReplicaSet | None:
        """The cached ReplicaSet a controller ref points at (same uid), or None."""
        if ref is None or ref.kind != self.OWNER.RESOURCE.kind:
            return None
        rs = self.rs_informer.store.get_by_name(namespace, ref.name)
        return self._as_rs(rs) if rs is not None and rs.metadata.uid == ref.uid else None

    def _as_rs(self, obj: Any) -> ReplicaSet:
        """A cached object of OWNER's kind as the ReplicaSet the decisions work on."""
        return obj  # type: ignore[no-any-return]

    def _matching(self, pod: Pod) -> list[ReplicaSet]:
        """ReplicaSets in the pod's namespace whose selector matches it (orphan pods)."""
        labels = pod.metadata.labels or {}
        return [rs for rs in map(self._as_rs,
                                 self.rs_informer.store.by_index("namespace", pod.namespace or ""))
                if logic.rs_selector(rs).matches(labels)]

    def _pod_added(self, pod: Pod) -> None:
        if pod.metadata.deletion_timestamp:
            self._pod_deleted(pod)      # restarted controller: do not count as a creation
            return
        ref = controller_ref(pod)
        if ref is not None:
            rs = self._resolve(pod.namespace, ref)
            if rs is not None:
                self.expectations.creation_observed(rs.key)
                self.queue.add(rs.key)
            return
        for rs in self._matching(pod):
            self.queue.add(rs.key)

    def _pod_updated(self, old: Pod, new: Pod) -> None:
        if old.metadata.resource_version == new.metadata.resource_version:
            return                      # a resync: nothing changed
        labels_changed = old.metadata.labels != new.metadata.labels
        if new.metadata.deletion_timestamp:
            self._pod_deleted(new)
            if labels_changed:
                self._pod_deleted(old)
            return
        old_ref, new_ref = controller_ref(old), controller_ref(new)
        if old_ref is not None and old_ref != new_ref:
            rs = self._resolve(old.namespace, old_ref)
            if rs is not None:
                self.queue.add(rs.key)
        if new_ref is not None:
            rs = self._resolve(new.namespace, new_ref)
            if rs is not None:
                self.queue.add(rs.key)
                min_ready = (rs.spec.min_ready_seconds if rs.spec else None) or 0
                if min_ready and not is_pod_ready(old) and is_pod_ready(new):
                    self.queue.add_after(rs.key, min_ready + 1)
            return
        if labels_changed or old_ref != new_ref:
            for rs in self._matching(new):
                self.queue.add(rs.key)

    def _pod_deleted(self, pod: Pod) -> None:
        rs = self._resolve(pod.namespace, controller_ref(pod))
        if rs is not None:
            self.expectations.deletion_observed(rs.key, pod.key)
            self.queue.add(rs.key)

    # ---------------------------------------------------------------- reconcile
    async def reconcile(self, key: str) -> None:
        """Sync one ReplicaSet; a 409 (our cache was stale) retries shortly and quietly."""
        try:
            await self._sync_replica_set(key)
        except Conflict as e:
            log.info("%s: %s changed under us (%s), retrying", self.NAME, key, e)
            self.queue.add_after(key, CONFLICT_RETRY_SECONDS)

    async def _sync_replica_set(self, key: str) -> None:
        cached = self.rs_informer.store.get(key)
        rs: ReplicaSet | None = self._as_rs(cached) if cached is not None else None
        if rs is None:
            self.expectations.delete(key)
            return
        needs_sync = self.expectations.satisfied(key) and not rs.metadata.deletion_timestamp
        # the pods a claim can keep or adopt: ours and the namespace's orphans (pods another
        # controller owns are ignored by the claim, so they are not looked at)
        store = self.pod_informer.store
        active = [p for p in (*store.by_index(CONTROLLER_INDEX, rs.metadata.uid or ""),
                              *store.by_index(CONTROLLER_INDEX, f"orphan/{rs.namespace or ''}"))
                  if logic.is_active(p)]
        owned = await self._claim(rs, active)
        manage_error: str | None = None
        deleted: set[str] = set()
        if needs_sync:
            try:
                deleted = await self._manage_replicas(rs, owned, active)
            except APIError as e:
                manage_error = str(e)
        counted = [p for p in owned if p.key not in deleted]
        status = logic.calculate_status(rs, counted, manage_error)
        if logic.status_changed(rs, status):
            await self._write_status(rs, status)
        recheck = logic.min_ready_recheck(rs, status)
        if manage_error is not None:
            raise RuntimeError(f"sync of ReplicaSet {key}: {manage_error}")
        if recheck is not None:
            self.queue.add_after(key, recheck)

    async def _claim(self, rs: ReplicaSet, active: list[Pod]) -> list[Pod]:
        """Adopt matching orphans and release pods that stopped matching; the owned pods."""
        claim = logic.claim_pods(rs, active)
        adopt = claim.adopt
        if adopt and not await self._can_adopt(rs):
            adopt = []
        failed: set[str] = {p.key for p in claim.adopt if p not in adopt}
        for pod in adopt:
            try:
                await self.pod_control.patch_pod(pod.namespace or "", pod.name,
                                                 adopt_patch(rs, pod))
            except NotFound:
                failed.add(pod.key)
        for pod in claim.release:
            try:
                await self.pod_control.patch_pod(pod.namespace or "", pod.name,
                                                 release_patch(rs.metadata.uid, pod))
            except NotFound:
                pass
        return [p for p in claim.owned if p.key not in failed]

    async def _can_adopt(self, rs: ReplicaSet) -> bool:
        """Recheck with a live read that we still exist, unchanged and not deleting."""
        try:
            fresh = await self.client.get(self.OWNER, rs.name, rs.namespace)
        except NotFound:
            return False
        return fresh.metadata.uid == rs.metadata.uid and not fresh.metadata.deletion_timestamp

    async def _manage_replicas(self, rs: ReplicaSet, owned: list[Pod],
                               active: list[Pod]) -> set[str]:
        """Create or delete pods toward spec.replicas; the keys of pods deleted."""
        plan = logic.manage_replicas(rs, owned, self._related(rs, active), self.burst_replicas)
        if plan.create:
            self.expectations.expect_creations(rs.key, plan.create)
            await self._create_pods(rs, plan.create)
            return set()
        if plan.delete:
            return await self._delete_pods(rs, plan.delete)
        return set()

    def _related(self, rs: ReplicaSet, active: list[Pod]) -> list[Pod]:
        """Active pods of every ReplicaSet sharing our controller (Deployment siblings), for ranks."""
        owner = controller_ref(rs)
        if owner is None:
            return [p for p in active if (r := controller_ref(p)) and r.uid == rs.metadata.uid]
        uids = {s.metadata.uid for s in self.rs_informer.store.by_index("owner_uid", owner.uid)
                if s.metadata.namespace == rs.namespace}
        store = self.pod_informer.store
        return [p for uid in uids for p in store.by_index(CONTROLLER_INDEX, uid or "") if logic.is_active(p)]

    async def _create_pods(self, rs: ReplicaSet, count: int) -> None:
        """Slow-start batches; a failed batch stops the rest and lowers the expectations."""
        successes = 0
        first_error: APIError | None = None
        for batch in logic.slow_start_batches(count):
            results = await asyncio.gather(
                *(self.pod_control.create_pod(logic.pod_from_template(rs), rs)
                  for _ in range(batch)), return_exceptions=True)
            errors = [r for r in results if isinstance(r, BaseException)]
            successes += batch - len(errors)
            if errors:
                err = errors[0]
                if not isinstance(err, APIError):
                    self.expectations.lower(rs.key, count - successes)
                    raise err
                first_error = err
                break
        if count - successes > 0:
            self.expectations.lower(rs.key, count - successes)
        if first_error is not None:
            raise first_error

    async def _delete_pods(self, rs: ReplicaSet, pods: list[Pod]) -> set[str]:
        self.expectations.expect_deletions(rs.key, [p.key for p in pods])
        results = await asyncio.gather(
            *(self.pod_control.delete_pod(p.namespace or "", p.name, rs) for p in pods),
            return_exceptions=True)
        deleted: set[str] = set()
        first_error: BaseException | None = None
        for pod, result in zip(pods, results):
            if isinstance(result, BaseException):
                self.expectations.deletion_observed(rs.key, pod.key)
                if isinstance(result, NotFound):
                    deleted.add(pod.key)
                elif first_error is None:
                    first_error = result
            else:
                deleted.add(pod.key)
        if first_error is not None:
            raise first_error
        return deleted

    async def _write_status(self, rs: ReplicaSet, status: ReplicaSetStatus) -> None:
        """update_status on a copy; on a conflict re-read once and write again."""
        target = rs.model_copy(deep=True)
        for attempt in range(STATUS_UPDATE_RETRIES + 1):
            target.status = status
            try:
                await self.client.update_status(target)
                return
            except Conflict:
                if attempt >= STATUS_UPDATE_RETRIES:
                    raise
                target = await self.client.get(ReplicaSet, rs.name, rs.namespace)
                if target.metadata.uid != rs.metadata.uid:
                    return              # deleted and re-created: not ours to write
