"""The CronJob controller: cron parsing (robfig/cron's grammar and wording), which
scheduled time is due, and one sync over seeded caches on a fake clock - what Jobs it
creates or deletes and the status and events it writes."""
from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from api import cron
from api.models.batch import CRONJOB_SCHEDULED_TIMESTAMP, CronJob, Job
from controllers import cronjob_logic as logic
from controllers.cronjob import CronJobController
from tests.support.apps_objects import FakeClient, fake_informers, seed
from tests.support.batch_objects import T0, FakeClock, RecordingRecorder, make_cron_child, make_cronjob

M = timedelta(minutes=1)


# ---------------------------------------------------------------- cron grammar
@pytest.mark.parametrize("spec,after,expected", [
    ("*/1 * * * *", T0 + timedelta(seconds=30), T0 + M),
    ("@hourly", T0 + M, T0 + timedelta(hours=1)),
    ("@daily", T0 + M, T0 + timedelta(days=1)),
    ("@weekly", T0, T0 + timedelta(days=3)),                 # 2026-01-01 is a Thursday
    ("@monthly", T0, T0.replace(month=2)),
    ("@yearly", T0, T0.replace(year=2027)),
    ("30 6-16/4 * * 1-5", T0, T0.replace(day=1, hour=6, minute=30)),
    ("0 9 * jan,feb sun", T0, T0.replace(day=4, hour=9)),    # Sunday 4 January
    ("0 0 13 * fri", T0, T0.replace(day=2)),                 # day-of-month OR day-of-week
    ("TZ=Europe/Paris 0 9 * * *", T0, T0.replace(hour=8)),   # 09:00 in Paris is 08:00 UTC
    ("CRON_TZ=America/New_York 0 0 * * *", T0, T0.replace(hour=5)),
    ("@every 90s", T0, T0 + timedelta(seconds=90)),
])
def test_schedules_fire_when_kubernetes_would(spec: str, after: Any, expected: Any) -> None:
    assert cron.parse_standard(spec).next(after) == expected


@pytest.mark.parametrize("spec,message", [
    ("", "empty spec string"),
    ("foo", "expected exactly 5 fields, found 1: [foo]"),
    ("* * * * * *", "expected exactly 5 fields, found 6: [* * * * * *]"),
    ("@often", "unrecognized descriptor: @often"),
    ("60 * * * *", "end of range (60) above maximum (59): 60"),
    ("0 0 0 * *", "beginning of range (0) below minimum (1): 0"),
    ("*/0 * * * *", "step of range should be a positive number: */0"),
    ("5-2 * * * *", "beginning of range (5) beyond end of range (2): 5-2"),
    ("x * * * *", 'failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax'),
    ("TZ=Mars/Base 0 * * * *", "provided bad location Mars/Base: unknown time zone Mars/Base"),
])
def test_bad_schedules_are_refused_in_robfig_words(spec: str, message: str) -> None:
    with pytest.raises(cron.CronError) as e:
        cron.parse_standard(spec)
    assert str(e.value) == message


# ---------------------------------------------------------------- which time is due
def test_most_recent_schedule_time_counts_missed_runs() -> None:
    cj = make_cronjob(created=T0 + timedelta(seconds=30))
    sched = logic.schedule_of(cj)
    assert logic.next_schedule_time(cj, T0 + timedelta(seconds=59), sched)[0] is None
    assert logic.next_schedule_time(cj, T0 + M + timedelta(seconds=1), sched)[0] == T0 + M
    due, missed = logic.next_schedule_time(cj, T0 + 5 * M + timedelta(seconds=10), sched)
    assert due == T0 + 5 * M and missed is logic.Missed.FEW
    _, missed = logic.next_schedule_time(cj, T0 + timedelta(hours=3), sched)
    assert missed is logic.Missed.MANY
    assert logic.next_schedule_delay(cj, T0 + timedelta(seconds=40), sched) == pytest.approx(20.1)
    with pytest.raises(ValueError, match="less than 1 second"):
        logic.next_schedule_time(make_cronjob(schedule="0 0 31 2 *"), T0, logic.schedule_of(
            make_cronjob(schedule="0 0 31 2 *")))


def test_history_limits_delete_the_oldest_finished_jobs() -> None:
    cj = make_cronjob(successful_limit=1, failed_limit=0)
    jobs = [make_cron_child(cj, T0 + i * M, finished="Complete", start=T0 + i * M) for i in range(3)]
    failed = make_cron_child(cj, T0 + 5 * M, finished="Failed", start=T0 + 5 * M)
    running = make_cron_child(cj, T0 + 6 * M)
    out = logic.jobs_to_delete(cj, [jobs[2], failed, jobs[0], running, jobs[1]])
    assert [j.name for j in out] == [jobs[0].name, jobs[1].name, failed.name]


# ---------------------------------------------------------------- one sync
class Harness:
    def __init__(self, cj: CronJob, *jobs: Job, now: Any = T0) -> None:
        self.client = FakeClient()
        self.informers = fake_informers(self.client)
        self.clock = FakeClock(now)
        self.recorder = RecordingRecorder()
        self.ctrl = CronJobController(self.client, self.informers, self.recorder,  # type: ignore[arg-type]
                                      clock=self.clock, local_zone=UTC)
        seed(self.informers, cj, *jobs)
        self.client.seed(cj, *jobs)
        self.cj = cj

    async def sync(self) -> None:
        await self.ctrl.reconcile(self.cj.key)

    def created(self) -> list[Job]:
        return [a[2] for a in self.client.verbs("create")]

    def deleted(self) -> list[str]:
        return [a[1] for a in self.client.verbs("delete")]

    def status(self) -> Any:
        return self.client.verbs("update_status")[-1][2].status


async def test_due_time_creates_a_job_named_for_it() -> None:
    cj = make_cronjob(created=T0 + timedelta(seconds=5))
    h = Harness(cj, now=T0 + M + timedelta(seconds=2))
    await h.sync()
    (job,) = h.created()
    assert job.name == f"hello-{int((T0 + M).timestamp()) // 60}"
    assert job.metadata.annotations == {CRONJOB_SCHEDULED_TIMESTAMP: "2026-01-01T00:01:00Z"}
    assert job.metadata.labels == {"app": "hello"}
    ref = job.metadata.owner_references[0]  # type: ignore[index]
    assert (ref.kind, ref.uid, ref.controller) == ("CronJob", cj.metadata.uid, True)
    assert job.spec.template.spec.restart_policy == "OnFailure"  # type: ignore[union-attr]
    status = h.status()
    assert status.last_schedule_time == "2026-01-01T00:01:00Z"
    assert [(r.kind, r.name, r.api_version) for r in status.active] == [("Job", job.name, "batch/v1")]
    assert ("CronJob/hello", "Normal", "SuccessfulCreate", f"Created job {job.name}") in h.recorder.events


async def test_the_same_time_never_runs_twice() -> None:
    cj = make_cronjob(status={"lastScheduleTime": "2026-01-01T00:01:00Z"})
    h = Harness(cj, now=T0 + M + timedelta(seconds=30))
    await h.sync()
    assert h.created() == [] and h.client.verbs("update_status") == []


async def test_forbid_skips_while_a_job_is_active_and_runs_after_it_completed() -> None:
    cj = make_cronjob(concurrency="Forbid")
    first = make_cron_child(cj, T0 + M)
    active = {"active": [logic.job_reference(first).to_dict()],
              "lastScheduleTime": "2026-01-01T00:01:00Z"}
    cj = CronJob.from_dict({**cj.to_dict(), "status": active})
    h = Harness(cj, first, now=T0 + 2 * M + timedelta(seconds=1))
    await h.sync()
    assert h.created() == []
    assert ("CronJob/hello", "Normal", "JobAlreadyActive", "Not starting job because prior "
            "execution is running and concurrency policy is Forbid") in h.recorder.events

    done = Job.from_dict({**first.to_dict(), "status": {
        "startTime": "2026-01-01T00:01:00Z", "completionTime": "2026-01-01T00:01:30Z",
        "conditions": [{"type": "Complete", "status": "True"}]}})
    h = Harness(cj, done, now=T0 + 2 * M + timedelta(seconds=1))
    await h.sync()
    assert [j.name for j in h.created()] == [f"hello-{int((T0 + 2 * M).timestamp()) // 60}"]
    status = h.status()
    assert [r.name for r in status.active] == [h.created()[0].name]
    assert status.last_successful_time == "2026-01-01T00:01:30Z"
    assert ("CronJob/hello", "Normal", "SawCompletedJob",
            f"Saw completed job: {done.name}, condition: Complete") in h.recorder.events


async def test_replace_deletes_the_running_job_first() -> None:
    cj = make_cronjob(concurrency="Replace")
    first = make_cron_child(cj, T0 + M)
    cj = CronJob.from_dict({**cj.to_dict(), "status": {
        "active": [logic.job_reference(first).to_dict()], "lastScheduleTime": "2026-01-01T00:01:00Z"}})
    h = Harness(cj, first, now=T0 + 2 * M)
    await h.sync()
    assert h.deleted() == [f"Job/{first.name}"]
    assert h.client.verbs("delete")[0][2] == {"propagation_policy": "Background"}
    assert [r.name for r in h.status().active] == [h.created()[0].name]


async def test_allow_runs_concurrently() -> None:
    cj = make_cronjob(concurrency="Allow")
    first = make_cron_child(cj, T0 + M)
    cj = CronJob.from_dict({**cj.to_dict(), "status": {
        "active": [logic.job_reference(first).to_dict()], "lastScheduleTime": "2026-01-01T00:01:00Z"}})
    h = Harness(cj, first, now=T0 + 2 * M)
    await h.sync()
    assert len(h.status().active) == 2 and h.deleted() == []


async def test_starting_deadline_bounds_how_late_a_job_may_start() -> None:
    cj = make_cronjob(deadline=10)
    h = Harness(cj, now=T0 + M + timedelta(seconds=30))
    await h.sync()
    assert h.created() == []                 # 00:01 is more than 10s ago: skipped
    h = Harness(cj, now=T0 + M + timedelta(seconds=5))
    await h.sync()
    assert len(h.created()) == 1


async def test_suspended_cronjob_starts_nothing() -> None:
    h = Harness(make_cronjob(suspend=True), now=T0 + 3 * M)
    await h.sync()
    assert h.created() == []


async def test_missing_active_job_is_dropped() -> None:
    cj = make_cronjob()
    gone = make_cron_child(cj, T0 + M)
    cj = CronJob.from_dict({**cj.to_dict(), "status": {
        "active": [logic.job_reference(gone).to_dict()], "lastScheduleTime": "2026-01-01T00:01:00Z"}})
    h = Harness(cj, now=T0 + M + timedelta(seconds=20))
    await h.sync()
    assert not h.status().active
    assert ("CronJob/hello", "Normal", "MissingJob", f"Active job went missing: {gone.name}") \
        in h.recorder.events


async def test_history_limits_are_applied_on_sync() -> None:
    cj = make_cronjob(successful_limit=1)
    old = [make_cron_child(cj, T0 + i * M, finished="Complete", start=T0 + i * M) for i in (1, 2)]
    h = Harness(cj, *old, now=T0 + 2 * M + timedelta(seconds=20))
    cj2 = CronJob.from_dict({**cj.to_dict(), "status": {"lastScheduleTime": "2026-01-01T00:02:00Z"}})
    seed(h.informers, cj2)
    await h.sync()
    assert h.deleted() == [f"Job/{old[0].name}"]
    assert ("CronJob/hello", "Normal", "SuccessfulDelete", f"Deleted job {old[0].name}") \
        in h.recorder.events


async def test_time_zone_schedules_in_that_zone() -> None:
    cj = make_cronjob(schedule="0 9 * * *", time_zone="Europe/Paris")
    h = Harness(cj, now=T0.replace(hour=8, second=5))
    await h.sync()
    (job,) = h.created()
    assert job.metadata.annotations[CRONJOB_SCHEDULED_TIMESTAMP] == "2026-01-01T09:00:00+01:00"  # type: ignore[index]
    assert T0.replace(hour=8).astimezone(ZoneInfo("Europe/Paris")).hour == 9


async def test_stored_tz_prefix_still_runs_with_a_warning() -> None:
    cj = make_cronjob(schedule="CRON_TZ=Asia/Tokyo 0 9 * * *")
    h = Harness(cj, now=T0 + timedelta(seconds=5))           # 00:00 UTC is 09:00 in Tokyo
    h.cj = CronJob.from_dict({**cj.to_dict(), "metadata": {
        **cj.to_dict()["metadata"], "creationTimestamp": "2025-12-31T23:00:00Z"}})
    seed(h.informers, h.cj)
    await h.sync()
    assert len(h.created()) == 1
    assert "UnsupportedSchedule" in h.recorder.reasons()


async def test_unparseable_schedule_is_reported() -> None:
    h = Harness(make_cronjob(schedule="61 * * * *"), now=T0 + 3 * M)
    await h.sync()
    assert h.created() == []
    assert ("CronJob/hello", "Warning", "UnparseableSchedule",
            'unparseable schedule: "61 * * * *" : end of range (61) above maximum (59): 61') \
        in h.recorder.events


async def test_a_schedule_without_zone_runs_in_the_controllers_zone() -> None:
    cj = make_cronjob(schedule="0 9 * * *")
    h = Harness(cj, now=T0.replace(hour=8, second=5))
    h.ctrl.local_zone = ZoneInfo("Europe/Paris")             # 09:00 in Paris is 08:00 UTC
    await h.sync()
    assert len(h.created()) == 1
