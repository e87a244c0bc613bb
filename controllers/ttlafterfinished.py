"""The TTL-after-finished controller: deletes a finished Job `ttlSecondsAfterFinished`
after it finished (Kubernetes' pkg/controller/ttlafterfinished).

A Job is due when it has the field and a true `Complete` or `Failed` condition; its
finish time is that condition's lastTransitionTime. Before deleting, the controller reads
the Job again from the apiserver (the TTL may have changed) and deletes it with
propagationPolicy Foreground and a uid precondition, so its pods go first and a Job
re-created under the same name is never touched. Jobs not yet due are re-queued for the
moment they expire. The clock is a seam for tests.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from api.meta import parse_rfc3339
from api.models.batch import Job
from client.errors import NotFound
from client.events import EventRecorder
from client.rest import Client
from controllers.base import Controller, SharedInformers


def needs_cleanup(job: Job) -> bool:
    return job.spec is not None and job.spec.ttl_seconds_after_finished is not None \
        and finish_time(job) is not None


def finish_time(job: Job) -> datetime | None:
    for c in (job.status.conditions if job.status else None) or []:
        if c.type in ("Complete", "Failed") and c.status == "True" and c.last_transition_time:
            return parse_rfc3339(c.last_transition_time)
    return None


def time_left(job: Job, now: datetime) -> float | None:
    """Seconds until `job` expires (<= 0: expired); None when it needs no cleanup."""
    if job.metadata.deletion_timestamp or not needs_cleanup(job):
        return None
    finished = finish_time(job)
    assert finished is not None and job.spec is not None and job.spec.ttl_seconds_after_finished is not None
    return job.spec.ttl_seconds_after_finished - (now - finished).total_seconds()


class TTLAfterFinishedController(Controller):
    NAME = "ttl-after-finished-controller"

    def __init__(self, client: Client, informers: SharedInformers,
                 recorder: EventRecorder | None = None, *,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        super().__init__(client, informers, recorder)
        self.clock = clock
        self.job_informer = self.watch(
            Job, lambda j: j.key if needs_cleanup(j) and not j.metadata.deletion_timestamp else None)

    async def reconcile(self, key: str) -> None:
        job: Job | None = self.job_informer.store.get(key)
        if job is None or not self._expired(job):
            return
        try:
            fresh = await self.client.get(Job, job.name, job.namespace)
        except NotFound:
            return
        if not self._expired(fresh):
            return
        try:
            await self.client.delete(Job, fresh.name, fresh.namespace,
                                     propagation_policy="Foreground",
                                     preconditions={"uid": fresh.metadata.uid or ""})
        except NotFound:
            pass

    def _expired(self, job: Job) -> bool:
        left = time_left(job, self.clock())
        if left is None:
            return False
        if left > 0:
            self.queue.add_after(job.key, left)
            return False
        return True
