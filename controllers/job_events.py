"""The Job controller's informer handlers (Kubernetes' addPod/updatePod/deletePod,
updateJob/deleteJob): they only map events to keys and observe expectations.

A pod event wakes its controlling Job after `sync_batch_period` (so a burst of pod
updates costs one sync); a Job event syncs at once unless only its status changed. Pods
whose Job is gone or finished, or which lost their controller while still holding the
tracking finalizer, are queued as `(ORPHAN, pod key)` so the controller removes the
finalizer. Handlers never do I/O and never mutate cached objects.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from api.meta import controller_ref
from api.models import Pod
from api.models.base import OwnerReference
from api.models.batch import Job
from client.informer import Informer
from client.workqueue import WorkQueue
from controllers import job_logic as logic
from controllers.expectations import Expectations
from controllers.job_tracking import FinalizerExpectations

ORPHAN = "orphan-pod"


class JobEventHandlers:
    """Mixed into JobController, which provides these attributes."""

    queue: WorkQueue
    job_informer: Informer
    pod_informer: Informer
    expectations: Expectations
    finalizer_expectations: FinalizerExpectations
    sync_batch_period: float
    clock: Callable[[], datetime]

    # ---------------------------------------------------------------- job events
    def _enqueue_job(self, job: Job, delay: float = 0.0) -> None:
        if delay > 0:
            self.queue.add_after(job.key, delay)
        else:
            self.queue.add(job.key)

    def _job_added(self, job: Job) -> None:
        self._enqueue_job(job)

    def _job_updated(self, old: Job, new: Job) -> None:
        same_spec = old.metadata.generation == new.metadata.generation
        self._enqueue_job(new, self.sync_batch_period if same_spec else 0.0)
        if logic.is_finished(new):
            self._cleanup_pod_finalizers(new)
        remaining = logic.deadline_remaining(new, self.clock())
        old_deadline = old.spec.active_deadline_seconds if old.spec else None
        new_deadline = new.spec.active_deadline_seconds if new.spec else None
        if remaining is not None and old_deadline != new_deadline:
            self.queue.add_after(new.key, max(0.0, remaining))

    def _job_deleted(self, job: Job) -> None:
        self._enqueue_job(job)
        self._cleanup_pod_finalizers(job)

    def _cleanup_pod_finalizers(self, job: Job) -> None:
        selector = logic.job_selector(job)
        for pod in self.pod_informer.store.by_index("namespace", job.namespace or ""):
            ref = controller_ref(pod)
            if ref is not None and ref.uid == job.metadata.uid and \
                    logic.has_tracking_finalizer(pod) and selector.matches(pod.metadata.labels or {}):
                self.queue.add((ORPHAN, pod.key))

    # ---------------------------------------------------------------- pod events
    def _resolve(self, namespace: str | None, ref: OwnerReference | None) -> Job | None:
        if ref is None or ref.kind != "Job":
            return None
        job = self.job_informer.store.get_by_name(namespace, ref.name)
        return job if job is not None and job.metadata.uid == ref.uid else None

    def _matching_jobs(self, pod: Pod) -> list[Job]:
        labels = pod.metadata.labels or {}
        return [j for j in self.job_informer.store.by_index("namespace", pod.namespace or "")
                if logic.job_selector(j).matches(labels)]

    def _pod_added(self, pod: Pod) -> None:
        if pod.metadata.deletion_timestamp:
            self._pod_deleted(pod, final=False)
            return
        ref = controller_ref(pod)
        if ref is not None:
            job = self._resolve(pod.namespace, ref)
            if job is not None:
                self.expectations.creation_observed(job.key)
                self._enqueue_job(job, self.sync_batch_period)
            return
        if logic.has_tracking_finalizer(pod):
            self.queue.add((ORPHAN, pod.key))
        for job in self._matching_jobs(pod):
            self._enqueue_job(job, self.sync_batch_period)

    def _pod_updated(self, old: Pod, new: Pod) -> None:
        if old.metadata.resource_version == new.metadata.resource_version:
            return
        if new.metadata.deletion_timestamp:
            self._pod_deleted(new, final=False)
            return
        removed = not logic.has_tracking_finalizer(new)
        old_ref, new_ref = controller_ref(old), controller_ref(new)
        if old_ref is not None and old_ref != new_ref:
            job = self._resolve(old.namespace, old_ref)
            if job is not None:
                if removed:
                    self.finalizer_expectations.observed(job.key, new.metadata.uid or "")
                self._enqueue_job(job, self.sync_batch_period)
        if new_ref is not None:
            job = self._resolve(new.namespace, new_ref)
            if job is not None:
                if removed:
                    self.finalizer_expectations.observed(job.key, new.metadata.uid or "")
                self._enqueue_job(job, self.sync_batch_period)
            return
        if logic.has_tracking_finalizer(new):
            self.queue.add((ORPHAN, new.key))
        if old.metadata.labels != new.metadata.labels or old_ref != new_ref:
            for job in self._matching_jobs(new):
                self._enqueue_job(job, self.sync_batch_period)

    def _pod_deleted(self, pod: Pod, final: bool = True) -> None:
        ref = controller_ref(pod)
        has_finalizer = logic.has_tracking_finalizer(pod)
        job = self._resolve(pod.namespace, ref)
        if job is None or logic.is_finished(job):
            if has_finalizer:
                self.queue.add((ORPHAN, pod.key))
            return
        self.expectations.deletion_observed(job.key, pod.key)
        if final or not has_finalizer:
            self.finalizer_expectations.observed(job.key, pod.metadata.uid or "")
        self._enqueue_job(job, self.sync_batch_period)



__all__ = ["JobEventHandlers", "ORPHAN"]
