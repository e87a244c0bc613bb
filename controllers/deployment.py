"""The Deployment controller: rolls a Deployment's pods from one template to the next
through one ReplicaSet per template.

Owns the I/O around the pure rollout math (`deployment_logic`, `deployment_util`,
`deployment_status`): informer handlers, `reconcile(key)` (Kubernetes' syncDeployment:
claim ReplicaSets, paused/scaling/rollout dispatch, Recreate and RollingUpdate steps,
revisionHistoryLimit cleanup, status), and the writes: ReplicaSet create/update/delete,
the Deployment's revision annotation (a merge patch) and its status.

Invariants, as Kubernetes' pkg/controller/deployment:
- reconcile reads from the informer caches and never mutates cached objects; every
  write is compare-and-swap on the cached resourceVersion, so a stale cache costs a 409
  and a retry, never a wrong scale;
- one step per sync: a sync that scaled something writes status and returns; the
  ReplicaSet and Deployment events it causes bring the next step;
- a ReplicaSet's name is `<deployment>-<pod-template-hash>`; a template equal to an
  older ReplicaSet's (rollback, `kubectl rollout undo`) makes that ReplicaSet new again
  with the next revision number;
- a paused Deployment is scaled (and its history cleaned) but never rolled out.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from api.meta import controller_ref
from api.models import Deployment, Pod, ReplicaSet
from api.models.apps import DeploymentStatus
from api.models.base import OwnerReference
from client.errors import AlreadyExists, APIError, Conflict, NotFound
from client.events import NORMAL, WARNING, EventRecorder
from client.rest import Client
from controllers import deployment_status as dstatus
from controllers import deployment_util as util
from controllers.base import Controller, SharedInformers
from controllers.deployment_logic import (Scale, is_scaling_event, new_rs_new_replicas,
                                          old_pods_running, proportional_scale,
                                          recreate_scale_down, reconcile_new_rs,
                                          reconcile_old_rss)
from controllers.refmanager import Claim, adopt_patch, claim_objects, release_patch

log = logging.getLogger(__name__)
CONFLICT_RETRY_SECONDS = 0.1
RSView = tuple[Deployment, ReplicaSet | None, list[ReplicaSet]]


class DeploymentController(Controller):
    NAME = "deployment-controller"

    def __init__(self, client: Client, informers: SharedInformers,
                 recorder: EventRecorder | None = None, *,
                 clock: Callable[[], datetime] | None = None) -> None:
        super().__init__(client, informers, recorder)
        self.clock = clock or (lambda: datetime.now(UTC))
        self.d_informer = self.watch(Deployment)
        self.rs_informer = informers.get(ReplicaSet)
        self.rs_informer.add_handlers(self._rs_added, self._rs_updated, self._rs_deleted)
        self.pod_informer = informers.get(Pod)
        self.pod_informer.add_handlers(on_delete=self._pod_deleted)
        self._watched += [self.rs_informer, self.pod_informer]

    # ---------------------------------------------------------------- events
    def _resolve(self, namespace: str | None, ref: OwnerReference | None) -> Deployment | None:
        if ref is None or ref.kind != "Deployment":
            return None
        d = self.d_informer.store.get_by_name(namespace, ref.name)
        return d if d is not None and d.metadata.uid == ref.uid else None

    def _matching(self, rs: ReplicaSet) -> list[Deployment]:
        labels = rs.metadata.labels or {}
        return [d for d in self.d_informer.store.by_index("namespace", rs.namespace or "")
                if util.deployment_selector(d).matches(labels)]

    def _rs_added(self, rs: ReplicaSet) -> None:
        if rs.metadata.deletion_timestamp:
            self._rs_deleted(rs)
            return
        ref = controller_ref(rs)
        if ref is not None:
            d = self._resolve(rs.namespace, ref)
            if d is not None:
                self.queue.add(d.key)
            return
        for d in self._matching(rs):
            self.queue.add(d.key)

    def _rs_updated(self, old: ReplicaSet, new: ReplicaSet) -> None:
        if old.metadata.resource_version == new.metadata.resource_version:
            return
        old_ref, new_ref = controller_ref(old), controller_ref(new)
        if old_ref is not None and old_ref != new_ref:
            d = self._resolve(old.namespace, old_ref)
            if d is not None:
                self.queue.add(d.key)
        if new_ref is not None:
            d = self._resolve(new.namespace, new_ref)
            if d is not None:
                self.queue.add(d.key)
            return
        if old.metadata.labels != new.metadata.labels or old_ref != new_ref:
            for d in self._matching(new):
                self.queue.add(d.key)

    def _rs_deleted(self, rs: ReplicaSet) -> None:
        d = self._resolve(rs.namespace, controller_ref(rs))
        if d is not None:
            self.queue.add(d.key)

    def _pod_deleted(self, pod: Pod) -> None:
        """A Recreate rollout waits for old pods to be gone: look again when one goes."""
        ref = controller_ref(pod)
        if ref is None or ref.kind != "ReplicaSet":
            return
        rs = self.rs_informer.store.get_by_name(pod.namespace, ref.name)
        if rs is None or rs.metadata.uid != ref.uid:
            return
        d = self._resolve(rs.namespace, controller_ref(rs))
        if d is not None and not util.is_rolling(d):
            self.queue.add(d.key)

    # ---------------------------------------------------------------- reconcile
    async def reconcile(self, key: str) -> None:
        """Sync one Deployment; a 409 (our cache was stale) retries shortly and quietly."""
        try:
            await self._sync_deployment(key)
        except Conflict as e:
            log.info("%s: %s changed under us (%s), retrying", self.NAME, key, e)
            self.queue.add_after(key, CONFLICT_RETRY_SECONDS)

    async def _sync_deployment(self, key: str) -> None:
        d: Deployment | None = self.d_informer.store.get(key)
        if d is None:
            return
        if util.deployment_selector(d).empty:
            self.record(d, WARNING, "SelectingAll",
                        "This deployment is selecting all pods. A non-empty selector is "
                        "required.")
            observed = (d.status.observed_generation if d.status else None) or 0
            if observed < (d.metadata.generation or 0):
                status = d.status.model_copy() if d.status else DeploymentStatus()
                status.observed_generation = d.metadata.generation
                await self._write_status(d, status)
            return
        rss = await self._claim_replica_sets(d)
        if d.metadata.deletion_timestamp:
            d, new_rs, old = await self._all_replica_sets(d, rss, create=False)
            await self._write_status(d, dstatus.calculate_status([*old, new_rs], new_rs, d,
                                                                 self.clock()))
            return
        paused = dstatus.paused_status(d, self.clock())
        if paused is not None:
            d = await self._write_status(d, paused)
        if (d.spec and d.spec.paused) or is_scaling_event(d, rss):
            await self._sync(d, rss)
        elif util.is_rolling(d):
            await self._rollout_rolling(d, rss)
        else:
            await self._rollout_recreate(d, rss)

    async def _claim_replica_sets(self, d: Deployment) -> list[ReplicaSet]:
        """Our ReplicaSets: adopt matching orphans, release ones that stopped matching."""
        rss = self.rs_informer.store.by_index("namespace", d.namespace or "")
        claim: Claim[ReplicaSet] = claim_objects(d, rss, util.deployment_selector(d))
        adopted_ok: set[str | None] = set()
        if claim.adopt and await self._can_adopt(d):
            for rs in claim.adopt:
                try:
                    await self.client.patch(ReplicaSet, rs.name, adopt_patch(d, rs),
                                            rs.namespace)
                    adopted_ok.add(rs.metadata.uid)
                except NotFound:
                    pass
        for rs in claim.release:
            try:
                await self.client.patch(ReplicaSet, rs.name,
                                        release_patch(d.metadata.uid, rs), rs.namespace)
            except NotFound:
                pass
        adopting = {rs.metadata.uid for rs in claim.adopt}
        return [rs for rs in claim.owned
                if rs.metadata.uid not in adopting or rs.metadata.uid in adopted_ok]

    async def _can_adopt(self, d: Deployment) -> bool:
        try:
            fresh = await self.client.get(Deployment, d.name, d.namespace)
        except NotFound:
            return False
        return fresh.metadata.uid == d.metadata.uid and not fresh.metadata.deletion_timestamp

    # ---------------------------------------------------------------- strategies
    async def _sync(self, d: Deployment, rss: list[ReplicaSet]) -> None:
        """Scaling (or paused): proportional scale, history cleanup when paused, status."""
        d, new_rs, old = await self._all_replica_sets(d, rss, create=False)
        new_rs, old, _ = await self._apply(d, proportional_scale(d, new_rs, old), new_rs, old)
        if d.spec and d.spec.paused:
            await self._cleanup(d, old)
        await self._write_status(d, dstatus.calculate_status([*old, new_rs], new_rs, d,
                                                             self.clock()))

    async def _rollout_rolling(self, d: Deployment, rss: list[ReplicaSet]) -> None:
        d, new_rs, old = await self._all_replica_sets(d, rss, create=True)
        assert new_rs is not None
        step = reconcile_new_rs(d, [*old, new_rs], new_rs)
        if step is not None:
            new_rs, old, scaled = await self._apply(d, [step], new_rs, old)
            if scaled:
                await self._sync_rollout_status(d, [*old, new_rs], new_rs)
                return
        downs = reconcile_old_rss(d, [*old, new_rs], util.active(old), new_rs)
        new_rs, old, scaled = await self._apply(d, downs, new_rs, old)
        if not scaled and dstatus.deployment_complete(d, d.status):
            await self._cleanup(d, old)
        await self._sync_rollout_status(d, [*old, new_rs], new_rs)

    async def _rollout_recreate(self, d: Deployment, rss: list[ReplicaSet]) -> None:
        d, new_rs, old = await self._all_replica_sets(d, rss, create=False)
        new_rs, old, scaled = await self._apply(d, recreate_scale_down(old), new_rs, old)
        if scaled or old_pods_running(new_rs, old, self._pods_by_rs(d, [*old, new_rs])):
            await self._sync_rollout_status(d, [*old, new_rs], new_rs)
            return
        if new_rs is None:
            d, new_rs, old = await self._all_replica_sets(d, rss, create=True)
        assert new_rs is not None
        new_rs, old, _ = await self._apply(d, [Scale(new_rs, util.spec_replicas(d))],
                                           new_rs, old)
        if dstatus.deployment_complete(d, d.status):
            await self._cleanup(d, old)
        await self._sync_rollout_status(d, [*old, new_rs], new_rs)

    def _pods_by_rs(self, d: Deployment, rss: list[ReplicaSet | None]) -> dict[str, list[Pod]]:
        uids = {rs.metadata.uid for rs in rss if rs is not None}
        selector = util.deployment_selector(d)
        out: dict[str, list[Pod]] = {}
        for pod in self.pod_informer.store.by_index("namespace", d.namespace or ""):
            ref = controller_ref(pod)
            if ref is not None and ref.uid in uids and \
                    selector.matches(pod.metadata.labels or {}):
                out.setdefault(ref.uid, []).append(pod)
        return out

    # ---------------------------------------------------------------- the new ReplicaSet
    async def _all_replica_sets(self, d: Deployment, rss: list[ReplicaSet],
                                create: bool) -> RSView:
        """(deployment, new RS or None, old RSs), syncing the new RS's revision
        (getAllReplicaSetsAndSyncRevision); creates the new RS when `create`."""
        new_rs = util.find_new_rs(d, rss)
        old = util.find_old_rss(rss, new_rs)
        new_revision = util.max_revision(old) + 1
        if new_rs is not None:
            ann, changed = util.new_rs_annotations(d, new_rs, new_revision, exists=True)
            want_min_ready = d.spec.min_ready_seconds if d.spec else None
            if changed or util.min_ready_seconds(new_rs) != (want_min_ready or 0):
                copy = new_rs.model_copy(deep=True)
                copy.metadata.annotations = ann
                copy.spec.min_ready_seconds = want_min_ready  # type: ignore[union-attr]
                return d, await self.client.update(copy), old
            d = await self._set_revision(d, util.annotations_of(new_rs).get(util.REVISION, ""))
            if dstatus.has_progress_deadline(d) and \
                    dstatus.get_condition(d.status, dstatus.PROGRESSING) is None:
                d = await self._write_status(d, dstatus.with_progressing(
                    d, "True", dstatus.FOUND_NEW_RS, f'Found new replica set "{new_rs.name}"',
                    self.clock()))
            return d, new_rs, old
        if not create:
            return d, None, old
        return await self._create_new_rs(d, old, new_revision)

    async def _create_new_rs(self, d: Deployment, old: list[ReplicaSet],
                             new_revision: int) -> RSView:
        rs = util.new_replica_set(d, 0, new_revision)
        replicas = new_rs_new_replicas(d, [*old, rs], rs)
        rs.spec.replicas = replicas  # type: ignore[union-attr]
        existed = False
        try:
            created = await self.client.create(rs)
        except AlreadyExists:
            created = await self.client.get(ReplicaSet, rs.name, rs.namespace)
            ref = controller_ref(created)
            if ref is None or ref.uid != d.metadata.uid or not util.equal_ignore_hash(
                    d.spec.template if d.spec else None,
                    created.spec.template if created.spec else None):
                status = d.status.model_copy(deep=True) if d.status else DeploymentStatus()
                status.collision_count = (status.collision_count or 0) + 1
                await self._write_status(d, status)
                raise RuntimeError(f"hash collision for ReplicaSet {rs.name}; "
                                   f"collisionCount is now {status.collision_count}") from None
            existed = True
        except APIError as e:
            msg = f'Failed to create new replica set "{rs.name}": {e}'
            self.record(d, WARNING, dstatus.FAILED_RS_CREATE, msg)
            if dstatus.has_progress_deadline(d):
                await self._write_status(d, dstatus.with_progressing(
                    d, "False", dstatus.FAILED_RS_CREATE, msg, self.clock()))
            raise
        if not existed and replicas > 0:
            self.record(d, NORMAL, "ScalingReplicaSet",
                        f"Scaled up replica set {created.name} from 0 to {replicas}")
        d = await self._set_revision(d, str(new_revision))
        if not existed and dstatus.has_progress_deadline(d):
            d = await self._write_status(d, dstatus.with_progressing(
                d, "True", dstatus.NEW_RS_CREATED, f'Created new replica set "{created.name}"',
                self.clock()))
        return d, created, old

    # ---------------------------------------------------------------- writes
    async def _apply(self, d: Deployment, steps: list[Scale], new_rs: ReplicaSet | None,
                     old: list[ReplicaSet]) -> tuple[ReplicaSet | None, list[ReplicaSet], bool]:
        """Apply scale steps; the updated (new RS, old RSs) and whether a size changed."""
        updated: dict[str | None, ReplicaSet] = {}
        resized = False
        for step in steps:
            copy = util.scaled_copy(step.rs, step.replicas, d)
            if copy is None:
                continue
            before = util.spec_replicas(step.rs)
            updated[step.rs.metadata.uid] = await self.client.update(copy)
            if before != step.replicas:
                resized = True
                self.record(d, NORMAL, "ScalingReplicaSet",
                            f"Scaled {step.direction} replica set {step.rs.name} "
                            f"from {before} to {step.replicas}")
        if new_rs is not None:
            new_rs = updated.get(new_rs.metadata.uid, new_rs)
        return new_rs, [updated.get(rs.metadata.uid, rs) for rs in old], resized

    async def _cleanup(self, d: Deployment, old: list[ReplicaSet]) -> None:
        """Delete old ReplicaSets beyond revisionHistoryLimit."""
        for rs in util.rss_to_clean_up(d, old):
            try:
                await self.client.delete(ReplicaSet, rs.name, rs.namespace,
                                         preconditions={"uid": rs.metadata.uid or ""})
            except NotFound:
                pass

    async def _set_revision(self, d: Deployment, rev: str) -> Deployment:
        """The Deployment's revision annotation follows its new ReplicaSet's."""
        if not rev or util.annotations_of(d).get(util.REVISION) == rev:
            return d
        patch = {"metadata": {"annotations": {util.REVISION: rev},
                              "resourceVersion": d.metadata.resource_version}}
        return await self.client.patch(Deployment, d.name, patch, d.namespace)

    async def _sync_rollout_status(self, d: Deployment, all_rss: list[ReplicaSet | None],
                                   new_rs: ReplicaSet | None) -> None:
        now = self.clock()
        status = dstatus.rollout_status(all_rss, new_rs, d, now)
        if dstatus.status_equal(d.status, status):
            after = dstatus.stuck_requeue_after(d, status, now)
            if after is not None:
                self.queue.add_after(d.key, after)
            return
        await self._write_status(d, status)

    async def _write_status(self, d: Deployment, status: DeploymentStatus) -> Deployment:
        if dstatus.status_equal(d.status, status):
            return d
        copy = d.model_copy(deep=True)
        copy.status = status
        return await self.client.update_status(copy)

