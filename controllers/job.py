"""The Job controller: runs a Job's pods to completion (Kubernetes' pkg/controller/job).

Owns the I/O around `controllers.job_logic`: informer handlers (pod events map to the
owning Job, batched by `sync_batch_period`; Job spec changes sync at once), `reconcile`
(one `sync_job` per Job key, or the finalizer cleanup of one orphan pod for an
`("orphan-pod", key)` key), pod creation and deletion through the `PodControl` seam
shared with the ReplicaSet controller, and the status writes of the finalizer protocol.

Invariants, as Kubernetes':
- every pod the controller creates carries the `batch.kubernetes.io/job-tracking`
  finalizer, and a finished pod loses it only after its UID is written into
  `status.uncountedTerminatedPods`; so a pod deleted right after it finished, or a
  controller restart at any point, never loses or double-counts a completion;
- no pods are created or deleted for a Job while its expectations are unsatisfied, and a
  pod whose finalizer removal is expected is not counted again before the informer shows
  the removal (`FinalizerExpectations`);
- failed pods are replaced after an exponential backoff (10s doubling to 6 min);
- a failing or succeeding Job first gets the interim `FailureTarget` /
  `SuccessCriteriaMet` condition, and `Failed` / `Complete` only once its pods are gone;
- pods of a deleted or finished Job, or released by it, get their finalizer removed.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from api.meta import controller_ref, is_pod_ready, now_rfc3339
from api.models import Pod
from api.models.batch import JOB_TRACKING_FINALIZER, Job
from client.errors import APIError, NotFound
from client.events import NORMAL, WARNING, EventRecorder
from client.rest import Client
from controllers import job_failed_indexes as fi
from controllers import job_indexes as ix
from controllers import job_logic as logic
from controllers import job_tracking as tracking
from controllers.base import Controller, SharedInformers
from controllers.expectations import Expectations
from controllers.job_events import ORPHAN, JobEventHandlers
from controllers.job_policies import (DEFAULT_POD_FAILURE_BACKOFF, MAX_POD_FAILURE_BACKOFF,
                                      BackoffRecord, new_backoff_record)
from controllers.refmanager import adopt_patch, claim_objects, release_patch
from controllers.replicaset import PodControl, RealPodControl
from controllers.replicaset_logic import slow_start_batches

log = logging.getLogger(__name__)
SYNC_BATCH_PERIOD = 1.0
REMOVE_FINALIZER = {"metadata": {"$deleteFromPrimitiveList/finalizers": [JOB_TRACKING_FINALIZER]}}


class JobController(JobEventHandlers, Controller):
    NAME = "job-controller"

    def __init__(self, client: Client, informers: SharedInformers,
                 recorder: EventRecorder | None = None, *,
                 pod_control: PodControl | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 sync_batch_period: float = SYNC_BATCH_PERIOD,
                 backoff_base: float = DEFAULT_POD_FAILURE_BACKOFF,
                 backoff_cap: float = MAX_POD_FAILURE_BACKOFF) -> None:
        super().__init__(client, informers, recorder)
        self.pod_control: PodControl = pod_control or RealPodControl(client, recorder)
        self.clock = clock
        self.sync_batch_period = sync_batch_period
        self.backoff_base, self.backoff_cap = backoff_base, backoff_cap
        self.expectations = Expectations()
        self.finalizer_expectations = tracking.FinalizerExpectations()
        self.backoff: dict[str, BackoffRecord] = {}
        self.job_informer = informers.get(Job)
        self.job_informer.add_handlers(self._job_added, self._job_updated, self._job_deleted)
        self.pod_informer = informers.get(Pod)
        self.pod_informer.add_handlers(self._pod_added, self._pod_updated, self._pod_deleted)
        self._watched += [self.job_informer, self.pod_informer]

    # ---------------------------------------------------------------- reconcile
    async def reconcile(self, key: Any) -> None:
        if isinstance(key, tuple) and key[0] == ORPHAN:
            await self._sync_orphan_pod(key[1])
        else:
            await self.sync_job(key)

    async def _sync_orphan_pod(self, pod_key: str) -> None:
        """Remove the tracking finalizer from a pod no unfinished Job of ours controls."""
        pod: Pod | None = self.pod_informer.store.get(pod_key)
        if pod is None or not logic.has_tracking_finalizer(pod):
            return
        ref = controller_ref(pod)
        if ref is not None:
            if ref.kind != "Job" or ref.api_version != "batch/v1":
                return
            job = self._resolve(pod.namespace, ref)
            if job is not None and (logic.managed_by_external(job) or not logic.is_finished(job)):
                return
        try:
            await self.pod_control.patch_pod(pod.namespace or "", pod.name, REMOVE_FINALIZER,
                                             patch_type="strategic")
        except NotFound:
            pass

    async def sync_job(self, key: str) -> None:
        """One syncJob: count finished pods, decide, act, and write the status."""
        job: Job | None = self.job_informer.store.get(key)
        if job is None:
            self.expectations.delete(key)
            self.finalizer_expectations.delete(key)
            self.backoff.pop(key, None)
            return
        if logic.managed_by_external(job):
            return
        if logic.is_finished(job):
            self.backoff.pop(key, None)
            return
        mode = job.spec.completion_mode if job.spec else None
        if mode not in (None, "NonIndexed", "Indexed"):
            self.record(job, WARNING, "UnknownCompletionMode",
                        "Skipped Job sync because completion mode is unknown")
            return
        now = self.clock()
        satisfied = self.expectations.satisfied(key)
        pods = await self._pods_for_job(job)
        ctx = logic.new_context(job, pods, self.finalizer_expectations.get(key))
        new_succeeded, new_failed = logic.new_finished_pods(ctx)
        logic.count_finished(ctx, new_succeeded, new_failed)
        if ctx.status.start_time is None and not logic.is_suspended(job):
            ctx.status.start_time = now_rfc3339(now)
        ctx.backoff = new_backoff_record(self.backoff.get(key, BackoffRecord()),
                                         new_succeeded, new_failed)
        requeue = logic.evaluate_finish(ctx, now)
        if requeue is not None:
            self.queue.add_after(key, max(requeue, 0.0))
        old = job.status
        active, manage_error, suspend_changed = len(ctx.active), None, False
        if ctx.finished is not None:
            deleted, deleted_ready, manage_error = await self._delete_active(job, ctx.active)
            if deleted != active or not satisfied:
                ctx.finished = None     # wait for the informer and the pods' finalizers
            active -= deleted
            ctx.terminating += deleted
            ctx.ready -= deleted_ready
        else:
            managed = satisfied and not job.metadata.deletion_timestamp
            if managed:
                active, manage_error = await self._manage(ctx, now)
            if logic.is_complete(ctx.job, ctx.succeeded, active):
                ctx.finished = logic.success_condition(now)
            elif managed:
                suspend_changed = self._suspend_condition(ctx, now)
        status = ctx.status
        needs_flush = (suspend_changed or active != ((old.active if old else None) or 0)
                       or ctx.ready != (old.ready if old else None)
                       or ctx.terminating != (old.terminating if old else None))
        status.active, status.ready, status.terminating = active, ctx.ready, ctx.terminating
        await self._track(ctx, needs_flush, now)
        if manage_error is not None:
            raise manage_error

    def _suspend_condition(self, ctx: logic.SyncContext, now: datetime) -> bool:
        job = ctx.job
        if logic.is_suspended(job):
            changed = logic.ensure_condition(ctx.status, logic.SUSPENDED, "True", "JobSuspended",
                                             "Job suspended", now)
            if changed:
                self.record(job, NORMAL, "Suspended", "Job suspended")
            return changed
        changed = logic.ensure_condition(ctx.status, logic.SUSPENDED, "False", "JobResumed",
                                         "Job resumed", now)
        if changed:
            self.record(job, NORMAL, "Resumed", "Job resumed")
            ctx.status.start_time = now_rfc3339(now)
        return changed

    # ---------------------------------------------------------------- pods of a job
    async def _pods_for_job(self, job: Job) -> list[Pod]:
        """Every pod the Job owns, after adopting matching orphans (with the tracking
        finalizer) and releasing owned pods that stopped matching."""
        pods = self.pod_informer.store.by_index("namespace", job.namespace or "")
        claim = claim_objects(job, pods, logic.job_selector(job))
        failed: set[str] = set()
        if claim.adopt and not await self._can_adopt(job):
            failed = {p.key for p in claim.adopt}
        else:
            for pod in claim.adopt:
                patch = adopt_patch(job, pod)
                fins = list(pod.metadata.finalizers or [])
                if JOB_TRACKING_FINALIZER not in fins:
                    patch["metadata"]["finalizers"] = [*fins, JOB_TRACKING_FINALIZER]
                try:
                    await self.pod_control.patch_pod(pod.namespace or "", pod.name, patch)
                except NotFound:
                    failed.add(pod.key)
        for pod in claim.release:
            try:
                await self.pod_control.patch_pod(pod.namespace or "", pod.name,
                                                 release_patch(job.metadata.uid, pod))
            except NotFound:
                pass
        adopted = {p.key for p in claim.adopt}
        out: list[Pod] = []
        for pod in claim.owned:
            if pod.key in failed:
                continue
            if pod.key in adopted and not logic.has_tracking_finalizer(pod):
                pod = pod.model_copy(deep=True)
                pod.metadata.finalizers = [*(pod.metadata.finalizers or []), JOB_TRACKING_FINALIZER]
            out.append(pod)
        return out

    async def _can_adopt(self, job: Job) -> bool:
        try:
            fresh = await self.client.get(Job, job.name, job.namespace)
        except NotFound:
            return False
        return fresh.metadata.uid == job.metadata.uid and not fresh.metadata.deletion_timestamp

    # ---------------------------------------------------------------- managing pods
    async def _manage(self, ctx: logic.SyncContext, now: datetime) -> tuple[int, Exception | None]:
        """manageJob: the active count after acting, and the first error."""
        job, active = ctx.job, len(ctx.active)
        plan = logic.manage_plan(ctx, now, self.backoff_base, self.backoff_cap)
        if plan.delete:
            self.expectations.expect_deletions(job.key, [p.key for p in plan.delete])
            removed, removed_ready, error = await self._delete_job_pods(job, plan.delete)
            ctx.terminating += removed
            ctx.ready -= removed_ready
            return active - removed, error
        if plan.requeue_after is not None:
            self.queue.add_after(job.key, max(plan.requeue_after, self.sync_batch_period))
            return active, None
        if plan.create <= 0:
            return active, None
        created, error = await self._create_pods(ctx.job, plan.create, plan.indexes,
                                                  ctx.index_failures if fi.per_index(ctx.job) else None)
        return active + created, error

    async def _create_pods(self, job: Job, count: int, indexes: list[int],
                           index_failures: dict[int, tuple[int, int]] | None = None,
                           ) -> tuple[int, Exception | None]:
        """Slow-start batches of creations; a failed batch skips the rest."""
        self.expectations.expect_creations(job.key, count)
        assert job.spec is not None
        template = job.spec.template
        if logic.is_indexed(job):
            template = ix.add_completion_index_env(template)
        pending = list(indexes)
        created, first_error = 0, None
        for batch in slow_start_batches(count):
            pods = [logic.pod_for(job, template, pending.pop(0) if pending else None, index_failures)
                    for _ in range(batch)]
            results = await asyncio.gather(*(self.pod_control.create_pod(p, job) for p in pods),
                                           return_exceptions=True)
            errors = [_exception(r) for r in results if isinstance(r, BaseException)]
            created += batch - len(errors)
            for _ in errors:
                self.expectations.creation_observed(job.key)
            if errors:
                first_error = errors[0]
                self.expectations.lower(job.key, count - created - len(errors))
                break
        return created, first_error

    async def _delete_job_pods(self, job: Job, pods: list[Pod]) -> tuple[int, int, Exception | None]:
        """Remove each pod's finalizer, then delete it (it is not counted as failed)."""
        async def one(pod: Pod) -> None:
            try:
                if logic.has_tracking_finalizer(pod):
                    await self.pod_control.patch_pod(pod.namespace or "", pod.name,
                                                     REMOVE_FINALIZER, patch_type="strategic")
                await self.pod_control.delete_pod(pod.namespace or "", pod.name, job)
            except APIError:
                self.expectations.deletion_observed(job.key, pod.key)
                raise
        return await self._delete_all(pods, one)

    async def _delete_active(self, job: Job, pods: list[Pod]) -> tuple[int, int, Exception | None]:
        """Delete the active pods of a finishing Job, keeping their finalizers."""
        async def one(pod: Pod) -> None:
            await self.pod_control.delete_pod(pod.namespace or "", pod.name, job)
        return await self._delete_all(pods, one)

    @staticmethod
    async def _delete_all(pods: list[Pod], one: Callable[[Pod], Any]) -> tuple[int, int, Exception | None]:
        results = await asyncio.gather(*(one(p) for p in pods), return_exceptions=True)
        removed = ready = 0
        error: Exception | None = None
        for pod, result in zip(pods, results):
            if isinstance(result, BaseException) and not isinstance(result, NotFound):
                error = error or _exception(result)
                continue
            removed += 1
            ready += 1 if is_pod_ready(pod) else 0
        return removed, ready, error

    # ---------------------------------------------------------------- status and finalizers
    async def _track(self, ctx: logic.SyncContext, needs_flush: bool, now: datetime) -> None:
        key = ctx.job.key
        plan = tracking.track(ctx, needs_flush, now)
        if plan.needs_flush:
            await self._write_status(ctx)
            self.backoff[key] = ctx.backoff
        rm_error: Exception | None = None
        if plan.remove_finalizer:
            done, rm_error = await self._remove_finalizers(key, plan.remove_finalizer)
            plan.uids_with_finalizer -= done
        needs_flush = tracking.clean_uncounted(ctx.status, plan.uids_with_finalizer)
        if rm_error is not None:
            if needs_flush:
                await self._write_status(ctx)
            raise rm_error
        finished = not plan.reached_max and tracking.enact_finished(ctx, now)
        if needs_flush or finished:
            await self._write_status(ctx)
        if finished:
            self._record_finished(ctx)

    async def _remove_finalizers(self, key: str, pods: list[Pod]) -> tuple[set[str], Exception | None]:
        uids = [p.metadata.uid or "" for p in pods]
        self.finalizer_expectations.expect(key, uids)
        results = await asyncio.gather(
            *(self.pod_control.patch_pod(p.namespace or "", p.name, REMOVE_FINALIZER,
                                         patch_type="strategic") for p in pods),
            return_exceptions=True)
        done: set[str] = set()
        error: Exception | None = None
        for uid, result in zip(uids, results):
            if isinstance(result, BaseException):
                self.finalizer_expectations.observed(key, uid)
                if not isinstance(result, NotFound):
                    error = error or _exception(result)
                    continue
            done.add(uid)
        return done, error

    async def _write_status(self, ctx: logic.SyncContext) -> None:
        """update_status with the resourceVersion last seen; a 409 re-queues the sync."""
        written = await self.client.update_status(ctx.job)
        if isinstance(written, Job):
            written.status = ctx.status
            ctx.job = written

    def _record_finished(self, ctx: logic.SyncContext) -> None:
        cond, job = ctx.finished, ctx.job
        assert cond is not None
        if cond.type == logic.COMPLETE:
            completions = logic.completions_of(job)
            if completions is not None and (ctx.status.succeeded or 0) > completions:
                self.record(job, WARNING, "TooManySucceededPods",
                            "Too many succeeded pods running after completion count reached")
            self.record(job, NORMAL, "Completed", "Job completed")
        else:
            self.record(job, WARNING, cond.reason or "", cond.message or "")


def _exception(result: BaseException) -> Exception:
    """An error gathered from a task; cancellation is not an error to report, re-raise it."""
    if not isinstance(result, Exception):
        raise result
    return result
