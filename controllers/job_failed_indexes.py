"""Backoff limit per index (Indexed Jobs with `spec.backoffLimitPerIndex`), pure.

Each index may fail `backoffLimitPerIndex` times; one more failure (or a podFailurePolicy
`FailIndex` rule) marks it failed: it is listed in `status.failedIndexes` and never created
again. Every pod the Job creates carries the failures of its index so far in the
`batch.kubernetes.io/job-index-failure-count` annotation (failures a policy ignores in
`...-ignored-failure-count`). The Job fails with `MaxFailedIndexesExceeded` once more indexes
failed than `maxFailedIndexes`, and with `FailedIndexes` when every index finished and some
failed (kube's job_controller backoffLimitPerIndex paths).
"""
from __future__ import annotations

from collections.abc import Sequence

from api.models import Pod
from api.models.batch import Job
from controllers import job_indexes as ix
from controllers.job_policies import match_pod_failure_policy

ANN_FAILURE_COUNT = "batch.kubernetes.io/job-index-failure-count"
ANN_IGNORED_FAILURE_COUNT = "batch.kubernetes.io/job-index-ignored-failure-count"
MAX_FAILED_INDEXES_EXCEEDED = ("MaxFailedIndexesExceeded",
                               "Job has exceeded the specified maximal number of failed indexes")
FAILED_INDEXES = ("FailedIndexes", "Job has failed indexes")


def per_index(job: Job) -> bool:
    return bool(job.spec and job.spec.backoff_limit_per_index is not None
                and job.spec.completion_mode == "Indexed")


def _annotation(pod: Pod, name: str) -> int:
    try:
        return max(int((pod.metadata.annotations or {}).get(name) or 0), 0)
    except ValueError:
        return 0


def failure_counts(job: Job, failed: Sequence[Pod]) -> dict[int, tuple[int, int]]:
    """Index -> (failures, ignored failures) including the failed pods given."""
    policy = job.spec.pod_failure_policy if job.spec else None
    out: dict[int, tuple[int, int]] = {}
    for p in failed:
        index = ix.completion_index(p)
        if index == ix.UNKNOWN_INDEX:
            continue
        counted = match_pod_failure_policy(policy, p).count
        mine = (_annotation(p, ANN_FAILURE_COUNT) + (1 if counted else 0),
                _annotation(p, ANN_IGNORED_FAILURE_COUNT) + (0 if counted else 1))
        prev = out.get(index, (0, 0))
        out[index] = (max(prev[0], mine[0]), max(prev[1], mine[1]))
    return out


def failed_indexes(job: Job, failed: Sequence[Pod], previous: ix.Intervals, completions: int) -> ix.Intervals:
    """`previous` plus the indexes past their backoff limit or failed by a FailIndex rule."""
    limit = (job.spec.backoff_limit_per_index if job.spec else None) or 0
    policy = job.spec.pod_failure_policy if job.spec else None
    new = [i for i, (failures, _) in failure_counts(job, failed).items() if failures > limit]
    new += [ix.completion_index(p) for p in failed if match_pod_failure_policy(policy, p).action == "FailIndex"]
    return previous.with_indexes(i for i in new if 0 <= i < completions)


def pod_annotations(counts: dict[int, tuple[int, int]], index: int) -> dict[str, str]:
    failures, ignored = counts.get(index, (0, 0))
    out = {ANN_FAILURE_COUNT: str(failures)}
    if ignored:
        out[ANN_IGNORED_FAILURE_COUNT] = str(ignored)
    return out


def failure_reason(job: Job, succeeded: ix.Intervals, failed: ix.Intervals, completions: int) -> tuple[str, str] | None:
    """Why the Job fails now, if it does."""
    most = job.spec.max_failed_indexes if job.spec else None
    if most is not None and failed.total() > most:
        return MAX_FAILED_INDEXES_EXCEEDED
    if failed.total() and len(set(succeeded) | set(failed)) >= completions:
        return FAILED_INDEXES
    return None
