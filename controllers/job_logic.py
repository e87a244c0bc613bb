"""The Job controller's decisions, as pure functions of a Job and its pods
(Kubernetes' pkg/controller/job/job_controller.go without the I/O).

Owns the `SyncContext` one sync computes on (a copy of the Job whose status the sync writes,
its pods, active/ready/terminating counts, uncounted UIDs), and:
- `evaluate_finish`: whether the Job has failed (podFailurePolicy FailJob, backoffLimit
  exceeded, restarts past backoffLimit under OnFailure, activeDeadlineSeconds) or met its
  successPolicy, as an interim `FailureTarget` / `SuccessCriteriaMet` condition;
- `manage_plan`: which active pods to delete (too many, suspended, duplicate indexes) or how
  many pods to create (and for which indexes), respecting the failure backoff;
- `pod_for`: the pod a Job creates.
The finalizer protocol that counts each finished pod once lives in controllers.job_tracking.
Inputs from the informer caches are never mutated; only `SyncContext.job` (a deep copy) is.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from api.meta import is_pod_ready, now_rfc3339, parse_rfc3339
from api.models import Pod
from api.models.base import ObjectMeta, OwnerReference
from api.models.batch import (JOB_CONTROLLER_NAME, JOB_TRACKING_FINALIZER, Job, JobCondition,
                              JobStatus, UncountedTerminatedPods)
from api.models.pod import PodTemplateSpec
from api.selectors import Selector, selector_from_model
from controllers import job_indexes as ix
from controllers.job_policies import (BackoffRecord, match_pod_failure_policy, match_success_policy,
                                      remaining_backoff)
from controllers.replicaset_logic import pods_to_delete

MAX_POD_CREATE_DELETE_PER_SYNC = 500
COMPLETE, FAILED, FAILURE_TARGET = "Complete", "Failed", "FailureTarget"
SUCCESS_CRITERIA_MET, SUSPENDED = "SuccessCriteriaMet", "Suspended"


# ---------------------------------------------------------------- predicates
def condition(job: Job, ctype: str) -> JobCondition | None:
    for c in (job.status.conditions if job.status else None) or []:
        if c.type == ctype:
            return c
    return None


def has_true_condition(job: Job, ctype: str) -> bool:
    c = condition(job, ctype)
    return c is not None and c.status == "True"


def is_finished(job: Job) -> bool:
    return has_true_condition(job, COMPLETE) or has_true_condition(job, FAILED)


def is_suspended(job: Job) -> bool:
    return bool(job.spec and job.spec.suspend)


def is_indexed(job: Job) -> bool:
    return bool(job.spec and job.spec.completion_mode == "Indexed")


def managed_by_external(job: Job) -> str | None:
    by = job.spec.managed_by if job.spec else None
    return by if by and by != JOB_CONTROLLER_NAME else None


def job_selector(job: Job) -> Selector:
    try:
        return selector_from_model(job.spec.selector if job.spec else None)
    except ValueError:
        return selector_from_model(None)


def has_tracking_finalizer(pod: Pod) -> bool:
    return JOB_TRACKING_FINALIZER in (pod.metadata.finalizers or [])


def phase(pod: Pod) -> str:
    return (pod.status.phase if pod.status else None) or ""


def is_pod_active(pod: Pod) -> bool:
    return phase(pod) not in ("Succeeded", "Failed") and not pod.metadata.deletion_timestamp


def is_pod_terminating(pod: Pod) -> bool:
    return bool(pod.metadata.deletion_timestamp) and phase(pod) not in ("Succeeded", "Failed")


def only_replace_failed(job: Job) -> bool:
    spec = job.spec
    return bool(spec and (spec.pod_replacement_policy == "Failed" or spec.pod_failure_policy))


def is_pod_failed(pod: Pod, job: Job) -> bool:
    """Failed, or (unless only failed pods are replaced) being deleted before succeeding."""
    if phase(pod) == "Failed":
        return True
    if only_replace_failed(job):
        return False
    return bool(pod.metadata.deletion_timestamp) and phase(pod) != "Succeeded"


def completions_of(job: Job) -> int | None:
    return job.spec.completions if job.spec else None


# ---------------------------------------------------------------- conditions
def new_condition(ctype: str, status: str, reason: str, message: str, now: datetime) -> JobCondition:
    stamp = now_rfc3339(now)
    return JobCondition(type=ctype, status=status, reason=reason or None,
                        message=message or None, last_probe_time=stamp, last_transition_time=stamp)


def ensure_condition(status: JobStatus, ctype: str, value: str, reason: str, message: str,
                     now: datetime) -> bool:
    """ensureJobConditionStatus: replace or append; a False condition is never added."""
    conds = status.conditions or []
    for i, c in enumerate(conds):
        if c.type == ctype:
            if (c.status, c.reason or "", c.message or "") != (value, reason, message):
                conds[i] = new_condition(ctype, value, reason, message, now)
                status.conditions = conds
                return True
            return False
    if value != "False":
        status.conditions = [*conds, new_condition(ctype, value, reason, message, now)]
        return True
    return False


# ---------------------------------------------------------------- one sync's view
@dataclass
class SyncContext:
    job: Job                                    # a deep copy; its status is written back
    pods: list[Pod]
    active: list[Pod]
    expected_rm_finalizers: set[str]
    uncounted_succeeded: set[str]
    uncounted_failed: set[str]
    ready: int = 0
    terminating: int = 0
    succeeded: int = 0
    failed: int = 0
    finished: JobCondition | None = None
    prev_succeeded_indexes: ix.Intervals = field(default_factory=ix.Intervals)
    succeeded_indexes: ix.Intervals = field(default_factory=ix.Intervals)
    backoff: BackoffRecord = field(default_factory=BackoffRecord)

    @property
    def status(self) -> JobStatus:
        if self.job.status is None:
            self.job.status = JobStatus()
        return self.job.status


def new_context(job: Job, pods: Sequence[Pod], expected_rm_finalizers: set[str]) -> SyncContext:
    """The context of one sync of `job` (copied) with its claimed `pods`."""
    job = job.model_copy(deep=True)
    status = job.status or JobStatus()
    job.status = status
    if status.uncounted_terminated_pods is None:
        status.uncounted_terminated_pods = UncountedTerminatedPods()
    uncounted = status.uncounted_terminated_pods
    active = [p for p in pods if is_pod_active(p)]
    return SyncContext(
        job=job, pods=list(pods), active=active, expected_rm_finalizers=set(expected_rm_finalizers),
        uncounted_succeeded=set(uncounted.succeeded or []),
        uncounted_failed=set(uncounted.failed or []),
        ready=sum(1 for p in active if is_pod_ready(p)),
        terminating=sum(1 for p in pods if is_pod_terminating(p)))


def _countable(ctx: SyncContext, pod: Pod, uncounted: set[str]) -> bool:
    uid = pod.metadata.uid or ""
    if not has_tracking_finalizer(pod) or uid in uncounted or uid in ctx.expected_rm_finalizers:
        return False
    if is_indexed(ctx.job):
        index = ix.completion_index(pod)
        if index == ix.UNKNOWN_INDEX or index >= (completions_of(ctx.job) or 0):
            return False
    return True


def new_finished_pods(ctx: SyncContext) -> tuple[list[Pod], list[Pod]]:
    """Succeeded and failed pods not yet accounted for anywhere (getNewFinishedPods)."""
    succeeded = [p for p in ctx.pods if _countable(ctx, p, ctx.uncounted_succeeded)
                 and phase(p) == "Succeeded"]
    failed = [p for p in ctx.pods if _countable(ctx, p, ctx.uncounted_failed)
              and is_pod_failed(p, ctx.job)]
    return succeeded, failed


def count_finished(ctx: SyncContext, new_succeeded: Sequence[Pod], new_failed: Sequence[Pod]) -> None:
    """ctx.succeeded / ctx.failed: the counters plus what is uncounted or newly finished
    (failures a podFailurePolicy ignores are not counted)."""
    policy = ctx.job.spec.pod_failure_policy if ctx.job.spec else None
    counted_failed = sum(1 for p in new_failed if match_pod_failure_policy(policy, p).count)
    ctx.succeeded = (ctx.status.succeeded or 0) + len(new_succeeded) + len(ctx.uncounted_succeeded)
    ctx.failed = (ctx.status.failed or 0) + counted_failed + len(ctx.uncounted_failed)
    if is_indexed(ctx.job):
        completions = completions_of(ctx.job) or 0
        ctx.prev_succeeded_indexes = ix.Intervals.parse(ctx.status.completed_indexes, completions)
        new = [ix.completion_index(p) for p in ctx.pods if phase(p) == "Succeeded"
               and has_tracking_finalizer(p) and 0 <= ix.completion_index(p) < completions]
        ctx.succeeded_indexes = ctx.prev_succeeded_indexes.with_indexes(new)
        ctx.succeeded = ctx.succeeded_indexes.total()


# ---------------------------------------------------------------- failing and succeeding
def fail_job_message(job: Job, pods: Sequence[Pod]) -> str | None:
    policy = job.spec.pod_failure_policy if job.spec else None
    if policy is None:
        return None
    for p in pods:
        if is_pod_failed(p, job):
            message = match_pod_failure_policy(policy, p).fail_message
            if message is not None:
                return message
    return None


def past_backoff_limit_on_failure(job: Job, pods: Sequence[Pod]) -> bool:
    """Under restartPolicy OnFailure, container restarts of running pods count as failures."""
    tspec = job.spec.template.spec if job.spec else None
    if tspec is None or tspec.restart_policy != "OnFailure":
        return False
    restarts = 0
    for p in pods:
        if phase(p) in ("Running", "Pending") and p.status is not None:
            for cs in [*(p.status.init_container_statuses or []), *(p.status.container_statuses or [])]:
                restarts += cs.restart_count
    limit = (job.spec.backoff_limit if job.spec else None) or 0
    return restarts > 0 if limit == 0 else restarts >= limit


def deadline_remaining(job: Job, now: datetime) -> float | None:
    """Seconds left of activeDeadlineSeconds (None when there is no running deadline)."""
    deadline = job.spec.active_deadline_seconds if job.spec else None
    start = job.status.start_time if job.status else None
    if deadline is None or start is None or is_suspended(job):
        return None
    return deadline - (now - parse_rfc3339(start)).total_seconds()


def evaluate_finish(ctx: SyncContext, now: datetime) -> float | None:
    """Set ctx.finished when the Job must fail or met its success policy; answer the
    seconds until the active deadline passes (for a requeue), if one runs."""
    job, requeue = ctx.job, None
    met = condition(job, SUCCESS_CRITERIA_MET)
    if met is not None and met.status == "True":
        ctx.finished = met
    if ctx.finished is None:
        target = condition(job, FAILURE_TARGET)
        if target is not None and target.status == "True":
            ctx.finished = new_condition(FAILED, "True", target.reason or "", target.message or "", now)
        elif (message := fail_job_message(job, ctx.pods)) is not None:
            ctx.finished = new_condition(FAILURE_TARGET, "True", "PodFailurePolicy", message, now)
    if ctx.finished is None:
        backoff_limit = (job.spec.backoff_limit if job.spec else None) or 0
        remaining = deadline_remaining(job, now)
        if ctx.failed > backoff_limit or past_backoff_limit_on_failure(job, ctx.pods):
            ctx.finished = new_condition(FAILURE_TARGET, "True", "BackoffLimitExceeded",
                                         "Job has reached the specified backoff limit", now)
        elif remaining is not None and remaining <= 0:
            ctx.finished = new_condition(FAILURE_TARGET, "True", "DeadlineExceeded",
                                         "Job was active longer than specified deadline", now)
        elif remaining is not None:
            requeue = remaining
    if is_indexed(job) and ctx.finished is None:
        message = match_success_policy(job.spec.success_policy if job.spec else None,
                                       completions_of(job) or 0, ctx.succeeded_indexes)
        if message is not None:
            ctx.finished = new_condition(SUCCESS_CRITERIA_MET, "True", "SuccessPolicy", message, now)
    return requeue


def is_complete(job: Job, succeeded: int, active: int) -> bool:
    completions = completions_of(job)
    if completions is None:
        return succeeded > 0 and active == 0
    return succeeded >= completions and active == 0


def success_condition(now: datetime) -> JobCondition:
    return new_condition(SUCCESS_CRITERIA_MET, "True", "CompletionsReached",
                         "Reached expected number of succeeded pods", now)


# ---------------------------------------------------------------- managing pods
@dataclass
class ManagePlan:
    """Delete `delete` (their finalizers first), or create `create` pods (for `indexes`
    when Indexed), or wait `requeue_after` seconds of failure backoff. `want_active` is
    the number of active pods the Job should have."""

    delete: list[Pod] = field(default_factory=list)
    create: int = 0
    indexes: list[int] = field(default_factory=list)
    requeue_after: float | None = None
    want_active: int = 0


def _deletion_order(pods: list[Pod]) -> list[Pod]:
    """controller.ActivePods: the pods best deleted first, first."""
    return pods_to_delete(pods, len(pods), related=[])


def pods_for_removal(job: Job, active: Sequence[Pod], at_least: int) -> list[Pod]:
    """activePodsForRemoval: duplicate/out-of-range indexes first, then the ActivePods order."""
    remove: list[Pod] = []
    left = list(active)
    if is_indexed(job):
        remove, left = ix.duplicated_index_pods(active, completions_of(job) or 0, _deletion_order)
    if len(remove) < at_least:
        remove.extend(_deletion_order(left)[:at_least - len(remove)])
    return remove


def manage_plan(ctx: SyncContext, now: datetime, backoff_base: float,
                backoff_cap: float) -> ManagePlan:
    """manageJob's decision for a Job that is not finishing."""
    job = ctx.job
    active = len(ctx.active)
    if is_suspended(job):
        return ManagePlan(delete=pods_for_removal(job, ctx.active, active))
    parallelism = (job.spec.parallelism if job.spec else None) or 0
    completions = completions_of(job)
    if completions is None:
        want = active if ctx.succeeded > 0 else parallelism
    else:
        want = max(0, min(completions - ctx.succeeded, parallelism))
    plan = ManagePlan(want_active=want)
    remove = pods_for_removal(job, ctx.active, max(0, active - want))
    if remove:
        plan.delete = remove[:MAX_POD_CREATE_DELETE_PER_SYNC]
        return plan
    terminating = ctx.terminating if only_replace_failed(job) else 0
    diff = want - terminating - active
    if diff <= 0:
        return plan
    wait = remaining_backoff(ctx.backoff, now, backoff_base, backoff_cap)
    if wait > 0:
        plan.requeue_after = wait
        return plan
    diff = min(diff, MAX_POD_CREATE_DELETE_PER_SYNC)
    if is_indexed(job):
        terminating_pods = [p for p in ctx.pods if is_pod_terminating(p)] \
            if only_replace_failed(job) else []
        plan.indexes = ix.first_pending_indexes(ctx.succeeded_indexes, ctx.active, diff,
                                                completions or 0, terminating_pods)
        diff = len(plan.indexes)
    plan.create = diff
    return plan


# ---------------------------------------------------------------- the pods a Job creates
def pod_for(job: Job, template: PodTemplateSpec, index: int | None) -> Pod:
    """The pod a Job creates (GetPodFromTemplate): template labels, annotations and
    finalizers plus the tracking finalizer, a controller ref, generateName `<job>-` (or
    `<job>-<index>-` with the index annotation, label and hostname when Indexed)."""
    prefix = f"{job.name}-"
    if index is not None:
        template, prefix = ix.indexed_template(job, template, index)
    tmeta = template.metadata
    fins = list(tmeta.finalizers or [])
    if JOB_TRACKING_FINALIZER not in fins:
        fins.append(JOB_TRACKING_FINALIZER)
    ref = OwnerReference(api_version="batch/v1", kind="Job", name=job.name,
                         uid=job.metadata.uid or "", controller=True, block_owner_deletion=True)
    meta = ObjectMeta(generate_name=prefix, namespace=job.namespace,
                      labels=dict(tmeta.labels or {}) or None,
                      annotations=dict(tmeta.annotations or {}) or None,
                      finalizers=fins, owner_references=[ref])
    spec = template.spec.model_copy(deep=True) if template.spec else None
    return Pod(metadata=meta, spec=spec)


__all__ = [
    "COMPLETE", "FAILED", "FAILURE_TARGET", "ManagePlan", "SUCCESS_CRITERIA_MET", "SUSPENDED",
    "SyncContext", "count_finished", "ensure_condition", "evaluate_finish",
    "has_tracking_finalizer", "is_complete", "is_finished", "is_pod_active", "is_suspended",
    "job_selector", "manage_plan", "managed_by_external", "new_context", "new_finished_pods",
    "pod_for", "pods_for_removal", "success_condition",
]
