"""Test support: Jobs, CronJobs and their pods as the informer caches hold them (with the
selector and labels kube-apiserver generates), a recording event recorder, and a settable
clock - for running one Job / CronJob controller sync without a server."""
from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from api.meta import new_controller_ref, now_rfc3339
from api.models import Pod
from api.models.batch import (CONTROLLER_UID_LABEL, JOB_COMPLETION_INDEX, JOB_NAME_LABEL,
                              JOB_TRACKING_FINALIZER, CronJob, Job)

_uids = itertools.count(1)
_rvs = itertools.count(5000)
T0 = datetime(2026, 1, 1, 0, 0, tzinfo=UTC)


class FakeClock:
    """A clock a test moves by hand."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def step(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class RecordingRecorder:
    """EventRecorder.record, kept as (kind/name, type, reason, message)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, str, str]] = []

    def record(self, obj: Any, type_: str, reason: str, message: str) -> None:
        self.events.append((f"{obj.kind}/{obj.metadata.name}", type_, reason, message))

    def reasons(self) -> list[str]:
        return [e[2] for e in self.events]


def _uid(prefix: str) -> str:
    return f"{prefix}-{next(_uids)}"


def make_job(name: str = "pi", *, completions: int | None = 1, parallelism: int = 1,
             backoff_limit: int = 6, indexed: bool = False, restart: str = "Never",
             status: dict[str, Any] | None = None, suspend: bool = False,
             deadline: int | None = None, pod_failure_policy: dict[str, Any] | None = None,
             success_policy: dict[str, Any] | None = None, generation: int = 1,
             managed_by: str | None = None, replacement: str | None = None,
             ns: str = "default", deleting: bool = False) -> Job:
    uid = _uid("job")
    labels = {CONTROLLER_UID_LABEL: uid, JOB_NAME_LABEL: name, "controller-uid": uid,
              "job-name": name}
    spec: dict[str, Any] = {
        "parallelism": parallelism, "backoffLimit": backoff_limit, "suspend": suspend,
        "completionMode": "Indexed" if indexed else "NonIndexed",
        "selector": {"matchLabels": {CONTROLLER_UID_LABEL: uid}},
        "podReplacementPolicy": replacement or ("Failed" if pod_failure_policy else
                                                "TerminatingOrFailed"),
        "template": {"metadata": {"labels": labels},
                     "spec": {"restartPolicy": restart,
                              "containers": [{"name": "c", "image": "busybox",
                                              "command": ["sh", "-c", "exit 0"]}]}}}
    if completions is not None:
        spec["completions"] = completions
    for k, v in (("activeDeadlineSeconds", deadline), ("podFailurePolicy", pod_failure_policy),
                 ("successPolicy", success_policy), ("managedBy", managed_by)):
        if v is not None:
            spec[k] = v
    meta: dict[str, Any] = {"name": name, "namespace": ns, "uid": uid, "generation": generation,
                            "creationTimestamp": now_rfc3339(T0), "labels": dict(labels),
                            "resourceVersion": str(next(_rvs))}
    if deleting:
        meta["deletionTimestamp"] = now_rfc3339(T0)
    return Job.from_dict({"metadata": meta, "spec": spec, "status": status or {}})


def make_job_pod(job: Job, name: str, phase: str = "Running", *, exit_code: int | None = None,
                 index: int | None = None, finalizer: bool = True, ready: bool = False,
                 deleting: bool = False, finished: datetime | None = None,
                 conditions: list[dict[str, Any]] | None = None, restarts: int = 0,
                 owned: bool = True, node: str | None = "n1") -> Pod:
    tmeta = job.spec.template.metadata  # type: ignore[union-attr]
    meta: dict[str, Any] = {"name": name, "namespace": job.namespace, "uid": _uid("pod"),
                            "creationTimestamp": now_rfc3339(T0),
                            "labels": dict(tmeta.labels or {}),
                            "resourceVersion": str(next(_rvs))}
    if owned:
        meta["ownerReferences"] = [new_controller_ref(job).to_dict()]
    if finalizer:
        meta["finalizers"] = [JOB_TRACKING_FINALIZER]
    if index is not None:
        meta["annotations"] = {JOB_COMPLETION_INDEX: str(index)}
        meta["labels"][JOB_COMPLETION_INDEX] = str(index)
    if deleting:
        meta["deletionTimestamp"] = now_rfc3339(T0)
    state: dict[str, Any] = {"running": {}}
    if exit_code is not None or phase in ("Succeeded", "Failed"):
        code = exit_code if exit_code is not None else (0 if phase == "Succeeded" else 1)
        state = {"terminated": {"exitCode": code,
                                "finishedAt": now_rfc3339(finished or T0)}}
    conds = [{"type": "Ready", "status": "True" if ready else "False"}, *(conditions or [])]
    status = {"phase": phase, "conditions": conds,
              "containerStatuses": [{"name": "c", "ready": ready, "restartCount": restarts,
                                     "state": state}]}
    spec: dict[str, Any] = {"containers": [{"name": "c", "image": "busybox"}]}
    if node:
        spec["nodeName"] = node
    return Pod.from_dict({"metadata": meta, "spec": spec, "status": status})


def make_cronjob(name: str = "hello", schedule: str = "*/1 * * * *", *,
                 concurrency: str = "Allow", created: datetime = T0,
                 status: dict[str, Any] | None = None, suspend: bool = False,
                 deadline: int | None = None, time_zone: str | None = None,
                 successful_limit: int = 3, failed_limit: int = 1,
                 ns: str = "default") -> CronJob:
    spec: dict[str, Any] = {
        "schedule": schedule, "concurrencyPolicy": concurrency, "suspend": suspend,
        "successfulJobsHistoryLimit": successful_limit, "failedJobsHistoryLimit": failed_limit,
        "jobTemplate": {"metadata": {"labels": {"app": name}},
                        "spec": {"template": {"spec": {
                            "restartPolicy": "OnFailure",
                            "containers": [{"name": "c", "image": "busybox"}]}}}}}
    if deadline is not None:
        spec["startingDeadlineSeconds"] = deadline
    if time_zone is not None:
        spec["timeZone"] = time_zone
    meta = {"name": name, "namespace": ns, "uid": _uid("cj"), "generation": 1,
            "creationTimestamp": now_rfc3339(created), "resourceVersion": str(next(_rvs))}
    return CronJob.from_dict({"metadata": meta, "spec": spec, "status": status or {}})


def make_cron_child(cj: CronJob, scheduled: datetime, *, finished: str | None = None,
                    start: datetime | None = None, completion: datetime | None = None) -> Job:
    """A Job the CronJob created for `scheduled`, optionally Complete or Failed."""
    job = make_job(f"{cj.name}-{int(scheduled.timestamp()) // 60}", ns=cj.namespace or "default")
    job.metadata.owner_references = [new_controller_ref(cj)]
    status: dict[str, Any] = {}
    if start is not None:
        status["startTime"] = now_rfc3339(start)
    if finished is not None:
        status["conditions"] = [{"type": finished, "status": "True"}]
        if finished == "Complete" and completion is not None:
            status["completionTime"] = now_rfc3339(completion)
    return Job.from_dict({**job.to_dict(), "status": status})
