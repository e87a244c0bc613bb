"""batch/v1 kinds: Job and CronJob, with the pod failure and success policies a Job carries.

Field names and shapes follow k8s.io/api/batch/v1. What the Job controller does not
implement (backoffLimitPerIndex, maxFailedIndexes) is not modelled, so the apiserver drops
it with a warning instead of storing a promise it does not keep.
"""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from api.models.base import K8sModel, K8sObject, LabelSelector, ObjectMeta
from api.models.core import ObjectReference
from api.models.pod import PodTemplateSpec

JOB_TRACKING_FINALIZER = "batch.kubernetes.io/job-tracking"
JOB_COMPLETION_INDEX = "batch.kubernetes.io/job-completion-index"
CONTROLLER_UID_LABEL = "batch.kubernetes.io/controller-uid"
LEGACY_CONTROLLER_UID_LABEL = "controller-uid"
JOB_NAME_LABEL = "batch.kubernetes.io/job-name"
LEGACY_JOB_NAME_LABEL = "job-name"
CRONJOB_SCHEDULED_TIMESTAMP = "batch.kubernetes.io/cronjob-scheduled-timestamp"
JOB_CONTROLLER_NAME = "kubernetes.io/job-controller"


# ---------------------------------------------------------------- policies
class PodFailurePolicyOnExitCodesRequirement(K8sModel):
    container_name: str | None = None
    operator: str
    values: list[int] = Field(default_factory=list)


class PodFailurePolicyOnPodConditionsPattern(K8sModel):
    type: str
    status: str | None = None


class PodFailurePolicyRule(K8sModel):
    action: str
    on_exit_codes: PodFailurePolicyOnExitCodesRequirement | None = None
    on_pod_conditions: list[PodFailurePolicyOnPodConditionsPattern] | None = None


class PodFailurePolicy(K8sModel):
    rules: list[PodFailurePolicyRule] = Field(default_factory=list)


class SuccessPolicyRule(K8sModel):
    succeeded_indexes: str | None = None
    succeeded_count: int | None = None


class SuccessPolicy(K8sModel):
    rules: list[SuccessPolicyRule] = Field(default_factory=list)


# ---------------------------------------------------------------- Job
class JobSpec(K8sModel):
    parallelism: int | None = None
    completions: int | None = None
    active_deadline_seconds: int | None = None
    pod_failure_policy: PodFailurePolicy | None = None
    success_policy: SuccessPolicy | None = None
    backoff_limit: int | None = None
    selector: LabelSelector | None = None
    manual_selector: bool | None = None
    template: PodTemplateSpec = Field(default_factory=PodTemplateSpec)
    ttl_seconds_after_finished: int | None = None
    completion_mode: str | None = None
    suspend: bool | None = None
    pod_replacement_policy: str | None = None
    managed_by: str | None = None


class JobCondition(K8sModel):
    type: str
    status: str
    last_probe_time: str | None = None
    last_transition_time: str | None = None
    reason: str | None = None
    message: str | None = None


class UncountedTerminatedPods(K8sModel):
    succeeded: list[str] | None = None
    failed: list[str] | None = None


class JobStatus(K8sModel):
    conditions: list[JobCondition] | None = None
    start_time: str | None = None
    completion_time: str | None = None
    active: int | None = None
    succeeded: int | None = None
    failed: int | None = None
    terminating: int | None = None
    completed_indexes: str | None = None
    uncounted_terminated_pods: UncountedTerminatedPods | None = None
    ready: int | None = None


class Job(K8sObject):
    api_version: Literal["batch/v1"] = "batch/v1"
    kind: Literal["Job"] = "Job"
    spec: JobSpec | None = None
    status: JobStatus | None = None


# ---------------------------------------------------------------- CronJob
class JobTemplateSpec(K8sModel):
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: JobSpec | None = None


class CronJobSpec(K8sModel):
    schedule: str
    time_zone: str | None = None
    starting_deadline_seconds: int | None = None
    concurrency_policy: str | None = None
    suspend: bool | None = None
    job_template: JobTemplateSpec = Field(default_factory=JobTemplateSpec)
    successful_jobs_history_limit: int | None = None
    failed_jobs_history_limit: int | None = None


class CronJobStatus(K8sModel):
    active: list[ObjectReference] | None = None
    last_schedule_time: str | None = None
    last_successful_time: str | None = None


class CronJob(K8sObject):
    api_version: Literal["batch/v1"] = "batch/v1"
    kind: Literal["CronJob"] = "CronJob"
    spec: CronJobSpec | None = None
    status: CronJobStatus | None = None
