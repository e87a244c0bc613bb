"""The CronJob controller's decisions, pure (Kubernetes' pkg/controller/cronjob/utils.go).

Owns:
- `schedule_of`: the schedule a CronJob runs on (its `timeZone` becomes a `TZ=` prefix,
  a `TZ=`/`CRON_TZ=` already in the schedule is honoured with a warning, and without
  either it runs in the controller's own zone, as kube-controller-manager's);
- `most_recent_schedule_time` / `next_schedule_time` / `next_schedule_delay`: which
  scheduled time is due now (counting missed ones, honouring startingDeadlineSeconds), and
  how long until the next one (plus 100 ms, as Kubernetes' nextScheduleDelta);
- `job_name`, `job_from_template`: the Job a CronJob creates for a scheduled time (named
  `<cronjob>-<minutes since the epoch>`, so one time is never run twice);
- `finished_type`, `jobs_to_delete`: finished Jobs beyond the history limits, oldest first.
Inputs are never mutated.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta, tzinfo
from enum import Enum

from api import cron
from api.meta import new_controller_ref, parse_rfc3339
from api.models.base import ObjectMeta
from api.models.batch import CRONJOB_SCHEDULED_TIMESTAMP, CronJob, Job
from api.models.core import ObjectReference

NEXT_SCHEDULE_DELTA = 0.1
Schedule = cron.Schedule | cron.ConstantDelay


class Missed(Enum):
    NONE = 0
    FEW = 1
    MANY = 2


def schedule_text(cj: CronJob) -> tuple[str, bool]:
    """(the schedule to parse, whether it carries an unsupported TZ prefix) - formatSchedule."""
    spec = cj.spec
    schedule = spec.schedule if spec else ""
    if "TZ" in schedule:
        return schedule, True
    if spec and spec.time_zone is not None:
        try:
            cron.load_location(spec.time_zone)
        except cron.CronError:
            return schedule, False
        return f"TZ={spec.time_zone} {schedule}", False
    return schedule, False


def schedule_of(cj: CronJob, local: tzinfo | None = None) -> Schedule:
    """The parsed schedule; one naming no zone runs in `local`, the controller's own zone
    (the time of the given instant when None). Raises cron.CronError."""
    return with_zone(cron.parse_standard(schedule_text(cj)[0]), local)


def with_zone(sched: Schedule, local: tzinfo | None) -> Schedule:
    if isinstance(sched, cron.Schedule) and sched.location is None and local is not None:
        return replace(sched, location=local)
    return sched


def _time(value: str | None) -> datetime | None:
    return parse_rfc3339(value) if value else None


def most_recent_schedule_time(cj: CronJob, now: datetime, sched: Schedule,
                              include_deadline: bool) -> tuple[datetime, datetime | None, Missed]:
    """(earliest time considered, the most recent due time or None, how many were missed).
    Raises ValueError for a schedule that never fires twice a second apart."""
    created = _time(cj.metadata.creation_timestamp) or now
    last = _time(cj.status.last_schedule_time if cj.status else None)
    earliest = last or created
    deadline = cj.spec.starting_deadline_seconds if cj.spec else None
    if include_deadline and deadline is not None:
        earliest = max(earliest, now - timedelta(seconds=deadline))
    t1 = sched.next(earliest)
    t2 = sched.next(t1) if t1 is not None else None
    if t1 is None or t2 is None:        # robfig's zero time: the schedule never fires
        raise ValueError("time difference between two schedules is less than 1 second")
    if now < t1:
        return earliest, None, Missed.NONE
    if now < t2:
        return earliest, t1, Missed.NONE
    between = round((t2 - t1).total_seconds())
    if between < 1:
        raise ValueError("time difference between two schedules is less than 1 second")
    missed = int((now - t1).total_seconds()) // between + 1
    most_recent: datetime | None = None
    t: datetime | None = sched.next(t1 + timedelta(seconds=(missed - 2) * between))
    while t is not None and t <= now:
        most_recent = t
        t = sched.next(t)
    kind = Missed.MANY if missed > 100 else Missed.FEW
    return earliest, most_recent, kind


def next_schedule_time(cj: CronJob, now: datetime, sched: Schedule) -> tuple[datetime | None, Missed]:
    """The scheduled time that is due and not yet run, or None (nextScheduleTime)."""
    _, most_recent, missed = most_recent_schedule_time(cj, now, sched, True)
    if most_recent is None or most_recent > now:
        return None, missed
    return most_recent, missed


def next_schedule_delay(cj: CronJob, now: datetime, sched: Schedule) -> float:
    """Seconds until the controller should look again (nextScheduleTimeDuration)."""
    try:
        earliest, most_recent, missed = most_recent_schedule_time(cj, now, sched, False)
        base = most_recent or (earliest if missed is Missed.NONE else now)
    except ValueError:
        base = now
    upcoming = sched.next(base)
    if upcoming is None:
        return 365 * 24 * 3600.0
    return (upcoming - now).total_seconds() + NEXT_SCHEDULE_DELTA


# ---------------------------------------------------------------- the jobs a CronJob makes
def job_name(cj: CronJob, scheduled: datetime) -> str:
    return f"{cj.name}-{int(scheduled.timestamp()) // 60}"


def job_from_template(cj: CronJob, scheduled: datetime) -> Job:
    """getJobFromTemplate2: the template's labels and annotations, the scheduled-time
    annotation (in the CronJob's zone), a controller ref to the CronJob."""
    assert cj.spec is not None
    template = cj.spec.job_template
    tz = cron.load_location(cj.spec.time_zone or "")
    annotations = dict(template.metadata.annotations or {})
    local = scheduled.astimezone(tz)
    stamp = local.isoformat(timespec="seconds").replace("+00:00", "Z")
    annotations[CRONJOB_SCHEDULED_TIMESTAMP] = stamp
    meta = ObjectMeta(name=job_name(cj, scheduled), namespace=cj.namespace,
                      labels=dict(template.metadata.labels or {}) or None,
                      annotations=annotations, owner_references=[new_controller_ref(cj)])
    spec = template.spec.model_copy(deep=True) if template.spec else None
    return Job(metadata=meta, spec=spec)


def job_reference(job: Job) -> ObjectReference:
    return ObjectReference(kind="Job", namespace=job.namespace, name=job.name,
                           uid=job.metadata.uid, api_version="batch/v1",
                           resource_version=job.metadata.resource_version)


# ---------------------------------------------------------------- finished jobs
def finished_type(job: Job) -> str | None:
    """`Complete` or `Failed` when the Job has finished."""
    for c in (job.status.conditions if job.status else None) or []:
        if c.type in ("Complete", "Failed") and c.status == "True":
            return c.type
    return None


def in_active_list(cj: CronJob, uid: str | None) -> bool:
    return any(ref.uid == uid for ref in (cj.status.active if cj.status else None) or [])


def _start_key(job: Job) -> tuple[int, datetime, str]:
    start = _time(job.status.start_time if job.status else None)
    return (1, datetime.max.replace(tzinfo=UTC), job.name) if start is None else (0, start, job.name)


def jobs_to_delete(cj: CronJob, jobs: Sequence[Job]) -> list[Job]:
    """Finished Jobs beyond successfulJobsHistoryLimit / failedJobsHistoryLimit, oldest
    (by start time, then name) first (cleanupFinishedJobs)."""
    spec = cj.spec
    if spec is None:
        return []
    out: list[Job] = []
    for kind, limit in (("Complete", spec.successful_jobs_history_limit),
                        ("Failed", spec.failed_jobs_history_limit)):
        if limit is None:
            continue
        done = sorted((j for j in jobs if finished_type(j) == kind), key=_start_key)
        out.extend(done[:max(0, len(done) - limit)])
    return out


def rfc1123z(t: datetime) -> str:
    """Go's time.RFC1123Z in UTC: `Mon, 02 Jan 2006 15:04:05 +0000`."""
    return t.astimezone(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")


__all__ = [
    "Missed", "NEXT_SCHEDULE_DELTA", "finished_type", "in_active_list", "job_from_template",
    "job_name", "job_reference", "jobs_to_delete", "most_recent_schedule_time",
    "next_schedule_delay", "next_schedule_time", "rfc1123z", "schedule_of", "schedule_text",
]
