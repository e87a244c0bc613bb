"""The finalizer protocol that counts every finished pod of a Job exactly once
(Kubernetes' trackJobStatusAndRemoveFinalizers and uidTrackingExpectations), pure.

Every pod a Job creates carries the `batch.kubernetes.io/job-tracking` finalizer, so a
finished pod cannot vanish before it is counted. Per sync:
1. `track`: finished pods still holding the finalizer go into
   `status.uncountedTerminatedPods` (the controller writes this first) and are picked for
   finalizer removal; the interim `FailureTarget` / `SuccessCriteriaMet` condition is added;
2. the controller removes those finalizers (`FinalizerExpectations` remembers the UIDs until
   the informer shows the removal, so a stale cache never counts a pod twice);
3. `clean_uncounted` moves the UIDs whose pods lost the finalizer into `succeeded` /
   `failed`;
4. `enact_finished` adds `Complete` / `Failed` once nothing is uncounted or terminating.
A crash between any two steps leaves a status from which the next sync finishes the job.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from api.meta import now_rfc3339
from api.models import Pod
from api.models.batch import JobStatus, UncountedTerminatedPods
from controllers import job_indexes as ix
from controllers.job_logic import (COMPLETE, FAILED, FAILURE_TARGET, SUCCESS_CRITERIA_MET,
                                   SyncContext, completions_of, condition, ensure_condition,
                                   has_tracking_finalizer, is_indexed, is_pod_failed,
                                   new_condition, phase)
from controllers.job_policies import match_pod_failure_policy

MAX_UNCOUNTED_PODS = 500


class FinalizerExpectations:
    """Per Job key, the pod UIDs whose tracking finalizer removal was asked for and not
    yet seen in the informer."""

    def __init__(self) -> None:
        self._uids: dict[str, set[str]] = {}

    def expect(self, key: str, uids: list[str]) -> None:
        self._uids.setdefault(key, set()).update(uids)

    def observed(self, key: str, uid: str) -> None:
        self._uids.get(key, set()).discard(uid)

    def get(self, key: str) -> set[str]:
        return set(self._uids.get(key, ()))

    def delete(self, key: str) -> None:
        self._uids.pop(key, None)


@dataclass
class TrackPlan:
    """What `track` decided: pods whose finalizer to remove, the UIDs still holding one,
    whether the status must be written before the finalizers go, and whether the
    per-sync cap on uncounted pods was reached."""

    remove_finalizer: list[Pod] = field(default_factory=list)
    uids_with_finalizer: set[str] = field(default_factory=set)
    needs_flush: bool = False
    reached_max: bool = False


def _can_remove_finalizer(ctx: SyncContext, pod: Pod, failed: bool) -> bool:
    return bool(ctx.job.metadata.deletion_timestamp or ctx.finished is not None
                or phase(pod) == "Succeeded" or failed)


def track(ctx: SyncContext, needs_flush: bool, now: datetime) -> TrackPlan:
    """Step 1 of trackJobStatusAndRemoveFinalizers: record newly finished pods as uncounted
    (on ctx.job.status), write the interim condition, pick the finalizers to remove."""
    job, status = ctx.job, ctx.status
    indexed = is_indexed(job)
    completions = completions_of(job) or 0
    plan = TrackPlan(needs_flush=needs_flush)
    pods = sorted(ctx.pods, key=ix.completion_index) if indexed else ctx.pods
    plan.uids_with_finalizer = {p.metadata.uid or "" for p in pods if has_tracking_finalizer(p)
                                and (p.metadata.uid or "") not in ctx.expected_rm_finalizers}
    if clean_uncounted(status, plan.uids_with_finalizer):
        plan.needs_flush = True
    uncounted = status.uncounted_terminated_pods or UncountedTerminatedPods()
    status.uncounted_terminated_pods = uncounted
    new_indexes: list[int] = []
    policy = job.spec.pod_failure_policy if job.spec else None
    finishing_failed = ctx.finished is not None and ctx.finished.type != SUCCESS_CRITERIA_MET
    for pod in pods:
        uid = pod.metadata.uid or ""
        if not has_tracking_finalizer(pod) or uid in ctx.expected_rm_finalizers:
            continue
        failed = is_pod_failed(pod, job)
        if not _can_remove_finalizer(ctx, pod, failed):
            continue
        plan.remove_finalizer.append(pod)
        if phase(pod) == "Succeeded" and uid not in ctx.uncounted_failed:
            if indexed:
                index = ix.completion_index(pod)
                if 0 <= index < completions and index not in ctx.prev_succeeded_indexes:
                    new_indexes.append(index)
                    plan.needs_flush = True
            elif uid not in ctx.uncounted_succeeded:
                uncounted.succeeded = [*(uncounted.succeeded or []), uid]
                ctx.uncounted_succeeded.add(uid)
                plan.needs_flush = True
        elif failed or finishing_failed:
            index = ix.completion_index(pod)
            if uid not in ctx.uncounted_failed and (not indexed or 0 <= index < completions):
                if match_pod_failure_policy(policy, pod).count:
                    uncounted.failed = [*(uncounted.failed or []), uid]
                    ctx.uncounted_failed.add(uid)
                    plan.needs_flush = True
        if len(new_indexes) + len(uncounted.succeeded or []) + len(uncounted.failed or []) \
                >= MAX_UNCOUNTED_PODS:
            plan.reached_max = True
            break
    if indexed:
        ctx.succeeded_indexes = ctx.succeeded_indexes.with_indexes(new_indexes)
        text = str(ctx.succeeded_indexes)
        if text != (status.completed_indexes or ""):
            plan.needs_flush = True
        status.succeeded = ctx.succeeded_indexes.total()
        status.completed_indexes = text
    finished = ctx.finished
    if finished is not None and finished.type == FAILURE_TARGET:
        status.conditions = [*(status.conditions or []), finished]
        plan.needs_flush = True
        ctx.finished = new_condition(FAILED, "True", finished.reason or "", finished.message or "", now)
    elif finished is not None and finished.type == SUCCESS_CRITERIA_MET:
        if condition(job, SUCCESS_CRITERIA_MET) is None:
            status.conditions = [*(status.conditions or []), finished]
            plan.needs_flush = True
        ctx.finished = new_condition(COMPLETE, "True", finished.reason or "", finished.message or "", now)
    return plan


def clean_uncounted(status: JobStatus, uids_with_finalizer: set[str]) -> bool:
    """Move uncounted UIDs whose pods lost their finalizer into the counters."""
    uncounted = status.uncounted_terminated_pods
    if uncounted is None:
        return False
    changed = False
    for attr in ("succeeded", "failed"):
        uids = getattr(uncounted, attr) or []
        keep = [u for u in uids if u in uids_with_finalizer]
        if len(keep) != len(uids):
            changed = True
            setattr(status, attr, (getattr(status, attr) or 0) + len(uids) - len(keep))
            setattr(uncounted, attr, keep or None)
    return changed


def enact_finished(ctx: SyncContext, now: datetime) -> bool:
    """Add the final Complete/Failed condition once nothing is uncounted or terminating."""
    cond = ctx.finished
    if cond is None:
        return False
    uncounted = ctx.status.uncounted_terminated_pods
    if uncounted is not None and (uncounted.succeeded or uncounted.failed):
        return False
    if ctx.terminating > 0:
        return False
    ensure_condition(ctx.status, cond.type, cond.status, cond.reason or "", cond.message or "", now)
    if cond.type == COMPLETE:
        ctx.status.completion_time = now_rfc3339(now)
    return True


__all__ = ["FinalizerExpectations", "MAX_UNCOUNTED_PODS", "TrackPlan", "clean_uncounted",
           "enact_finished", "track"]
