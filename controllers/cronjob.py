"""The CronJob controller: creates a Job for each scheduled time (Kubernetes'
pkg/controller/cronjob/cronjob_controllerv2.go).

Owns the I/O around `controllers.cronjob_logic`: Job events wake the owning CronJob; a
CronJob whose schedule or time zone changed is looked at again when its next time comes;
`reconcile(key)` cleans up finished Jobs beyond the history limits, reconciles
`status.active` with the Jobs that exist, starts the Job that is due (honouring suspend,
startingDeadlineSeconds and the concurrency policy Allow / Forbid / Replace), writes
`lastScheduleTime` / `lastSuccessfulTime` / `active` in one status update, and re-queues
itself for the next scheduled time.

The clock is a seam (`clock=`): tests step a fake clock and call `resync()` where a real
controller would have been woken by its timer. Schedules naming no zone run in
`local_zone` (default: the process' zone, $TZ or /etc/localtime, as Kubernetes').
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, tzinfo

from api import cron
from api.meta import controller_ref, now_rfc3339
from api.models.batch import CronJob, CronJobStatus, Job
from client.errors import AlreadyExists, APIError, NotFound
from client.events import NORMAL, WARNING, EventRecorder
from client.rest import Client
from controllers import cronjob_logic as logic
from controllers.base import Controller, SharedInformers

log = logging.getLogger(__name__)


class CronJobController(Controller):
    NAME = "cronjob-controller"

    def __init__(self, client: Client, informers: SharedInformers,
                 recorder: EventRecorder | None = None, *,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 local_zone: tzinfo | None = None) -> None:
        super().__init__(client, informers, recorder)
        self.clock = clock
        self.local_zone = local_zone or cron.local_zone()
        self.cj_informer = informers.get(CronJob)
        self.cj_informer.add_handlers(lambda cj: self.queue.add(cj.key), self._cronjob_updated,
                                      lambda cj: self.queue.add(cj.key))
        self.job_informer = informers.get(Job)
        self.job_informer.add_handlers(self._job_added, self._job_updated, self._job_deleted)
        self._watched += [self.cj_informer, self.job_informer]

    def resync(self) -> None:
        """Look at every CronJob now (what the timers do when the clock reaches them)."""
        for cj in self.cj_informer.store.list():
            self.queue.add(cj.key)

    # ---------------------------------------------------------------- events
    def _cronjob_updated(self, old: CronJob, new: CronJob) -> None:
        changed = (old.spec.schedule if old.spec else None) != (new.spec.schedule if new.spec else None) \
            or (old.spec.time_zone if old.spec else None) != (new.spec.time_zone if new.spec else None)
        if not changed:
            self.queue.add(new.key)
            return
        try:
            sched = logic.schedule_of(new, self.local_zone)
        except cron.CronError:
            self.record(new, WARNING, "UnParseableCronJobSchedule",
                        f"unparseable schedule for cronjob: {new.spec.schedule if new.spec else ''}")
            return
        self.queue.add_after(new.key, max(0.0, logic.next_schedule_delay(new, self.clock(), sched)))

    def _owner(self, job: Job) -> CronJob | None:
        ref = controller_ref(job)
        if ref is None or ref.kind != "CronJob":
            return None
        cj = self.cj_informer.store.get_by_name(job.namespace, ref.name)
        return cj if cj is not None and cj.metadata.uid == ref.uid else None

    def _job_added(self, job: Job) -> None:
        if (cj := self._owner(job)) is not None:
            self.queue.add(cj.key)

    def _job_updated(self, old: Job, new: Job) -> None:
        for j in (old, new):
            if (cj := self._owner(j)) is not None:
                self.queue.add(cj.key)

    def _job_deleted(self, job: Job) -> None:
        self._job_added(job)

    # ---------------------------------------------------------------- reconcile
    async def reconcile(self, key: str) -> None:
        cached: CronJob | None = self.cj_informer.store.get(key)
        if cached is None:
            return
        cj = cached.model_copy(deep=True)
        if cj.status is None:
            cj.status = CronJobStatus()
        jobs = [j for j in self.job_informer.store.by_index("namespace", cj.namespace or "")
                if (ref := controller_ref(j)) is not None and ref.uid == cj.metadata.uid]
        changed = await self._cleanup_finished(cj, jobs)
        requeue, synced = await self._sync(cj, jobs)
        if changed or synced:
            await self.client.update_status(cj)
        if requeue is not None:
            self.queue.add_after(key, max(0.0, requeue))

    async def _cleanup_finished(self, cj: CronJob, jobs: list[Job]) -> bool:
        changed = False
        for job in logic.jobs_to_delete(cj, jobs):
            changed |= await self._delete_job(cj, job)
        return changed

    async def _delete_job(self, cj: CronJob, job: Job) -> bool:
        try:
            await self.client.delete(Job, job.name, job.namespace, propagation_policy="Background")
        except APIError as e:
            self.record(cj, WARNING, "FailedDelete", f"Deleted job: {e}")
            return False
        self._forget(cj, job.metadata.uid)
        self.record(cj, NORMAL, "SuccessfulDelete", f"Deleted job {job.name}")
        return True

    @staticmethod
    def _forget(cj: CronJob, uid: str | None) -> None:
        assert cj.status is not None
        active = [r for r in cj.status.active or [] if r.uid != uid]
        cj.status.active = active or None

    async def _reconcile_active(self, cj: CronJob, jobs: list[Job]) -> bool:
        """status.active against the Jobs that exist; lastSuccessfulTime."""
        assert cj.status is not None
        changed = False
        for job in jobs:
            finished = logic.finished_type(job)
            found = logic.in_active_list(cj, job.metadata.uid)
            if not found and finished is None:
                fresh = await self.client.get(CronJob, cj.name, cj.namespace)
                if logic.in_active_list(fresh, job.metadata.uid):
                    cj.status = (fresh.status or CronJobStatus()).model_copy(deep=True)
                    continue
                self.record(cj, WARNING, "UnexpectedJob",
                            f"Saw a job that the controller did not create or forgot: {job.name}")
            elif found and finished is not None:
                self._forget(cj, job.metadata.uid)
                self.record(cj, NORMAL, "SawCompletedJob",
                            f"Saw completed job: {job.name}, condition: {finished}")
                changed = True
            if finished == "Complete" and job.status and job.status.completion_time:
                last = cj.status.last_successful_time
                if last is None or job.status.completion_time > last:
                    cj.status.last_successful_time = job.status.completion_time
                    changed = True
        existing = {j.metadata.uid for j in jobs}
        for ref in list(cj.status.active or []):
            if ref.uid in existing:
                continue
            try:
                await self.client.get(Job, ref.name or "", ref.namespace)
            except NotFound:
                self.record(cj, NORMAL, "MissingJob", f"Active job went missing: {ref.name}")
                self._forget(cj, ref.uid)
                changed = True
        return changed

    async def _sync(self, cj: CronJob, jobs: list[Job]) -> tuple[float | None, bool]:
        """syncCronJob: (seconds until the next look, whether the status changed)."""
        assert cj.spec is not None and cj.status is not None
        now = self.clock()
        changed = await self._reconcile_active(cj, jobs)
        if cj.metadata.deletion_timestamp:
            return None, changed
        if cj.spec.time_zone is not None:
            try:
                cron.load_location(cj.spec.time_zone)
            except cron.CronError as e:
                self.record(cj, WARNING, "UnknownTimeZone",
                            f'invalid timeZone: "{cj.spec.time_zone}": {e}')
                return None, changed
        if cj.spec.suspend:
            return None, changed
        text, unsupported = logic.schedule_text(cj)
        if unsupported:
            self.record(cj, WARNING, "UnsupportedSchedule",
                        f'CRON_TZ or TZ used in schedule "{cj.spec.schedule}" is not officially '
                        "supported, see https://kubernetes.io/docs/concepts/workloads/controllers/"
                        "cron-jobs/ for more details")
        try:
            sched = logic.with_zone(cron.parse_standard(text), self.local_zone)
        except cron.CronError as e:
            self.record(cj, WARNING, "UnparseableSchedule",
                        f'unparseable schedule: "{cj.spec.schedule}" : {e}')
            return None, changed
        try:
            scheduled, missed = logic.next_schedule_time(cj, now, sched)
        except ValueError as e:
            self.record(cj, WARNING, "InvalidSchedule", f"invalid schedule: {cj.spec.schedule} : {e}")
            return None, changed
        if missed is logic.Missed.MANY:
            self.record(cj, WARNING, "TooManyMissedTimes", "too many missed start times. Set or "
                        "decrease .spec.startingDeadlineSeconds or check clock skew")
        delay = logic.next_schedule_delay(cj, now, sched)
        if scheduled is None:
            return delay, changed
        deadline = cj.spec.starting_deadline_seconds
        if deadline is not None and (now - scheduled).total_seconds() > deadline:
            self.record(cj, WARNING, "MissSchedule", "Missed scheduled time to start a job: "
                        f"{logic.rfc1123z(scheduled)}")
            return delay, changed
        name = logic.job_name(cj, scheduled)
        last = cj.status.last_schedule_time
        if any(r.name == name for r in cj.status.active or []) or \
                (last is not None and last == now_rfc3339(scheduled)):
            return delay, changed
        if cj.spec.concurrency_policy == "Forbid" and cj.status.active:
            self.record(cj, NORMAL, "JobAlreadyActive", "Not starting job because prior execution "
                        "is running and concurrency policy is Forbid")
            return delay, changed
        if cj.spec.concurrency_policy == "Replace":
            for ref in list(cj.status.active or []):
                try:
                    job = await self.client.get(Job, ref.name or "", ref.namespace)
                except APIError as e:
                    self.record(cj, WARNING, "FailedGet", f"Get job: {e}")
                    raise
                if not await self._delete_job(cj, job):
                    raise RuntimeError(f"could not replace job {job.namespace}/{job.name}")
                changed = True
        created = await self._create_job(cj, scheduled)
        if created is None:
            return None, changed
        cj.status.active = [*(cj.status.active or []), logic.job_reference(created)]
        cj.status.last_schedule_time = now_rfc3339(scheduled)
        return delay, True

    async def _create_job(self, cj: CronJob, scheduled: datetime) -> Job | None:
        """Create the Job for `scheduled`; None when one exists that is not ours to track."""
        request = logic.job_from_template(cj, scheduled)
        try:
            created = await self.client.create(request)
        except AlreadyExists:
            existing = await self.client.get(Job, request.name, cj.namespace)
            ref = controller_ref(existing)
            if ref is None or ref.uid != cj.metadata.uid or logic.in_active_list(cj, existing.metadata.uid):
                return None
            return existing
        except APIError as e:
            self.record(cj, WARNING, "FailedCreate", f"Error creating job: {e}")
            raise
        self.record(cj, NORMAL, "SuccessfulCreate", f"Created job {created.name}")
        return created
