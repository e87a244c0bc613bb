"""The CronJob controller on hollow nodes with a fake clock: a `*/1 * * * *` CronJob with
concurrencyPolicy Forbid starts one Job per minute, does not start the next minute's Job
while the previous one runs (JobAlreadyActive), and starts it - late, as Kubernetes does
without startingDeadlineSeconds - once that Job completed; then the following minute runs
on time. Its status (active, lastScheduleTime, lastSuccessfulTime) and events say so."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from api.meta import parse_rfc3339
from api.models import Event
from api.models.batch import CRONJOB_SCHEDULED_TIMESTAMP, CronJob, Job
from client.rest import Client
from tests.support.apps_cluster import eventually
from tests.support.batch_cluster import BatchCluster
from tests.support.batch_objects import FakeClock


def cronjob_body(name: str, command: str) -> CronJob:
    return CronJob.from_dict({
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"schedule": "*/1 * * * *", "concurrencyPolicy": "Forbid",
                 "jobTemplate": {"spec": {"template": {"spec": {
                     "restartPolicy": "Never",
                     "containers": [{"name": "tick", "image": "busybox",
                                     "command": ["sh", "-c", command]}]}}}}}})


async def cron_events(kube: Client, name: str) -> list[tuple[str, str]]:
    return [(e.reason or "", e.message or "") for e in (await kube.list(Event, "default")).items
            if e.involved_object and e.involved_object.kind == "CronJob"
            and e.involved_object.name == name]


async def test_every_minute_with_forbid_on_a_fake_clock(kube: Client, tmp_path: Path) -> None:
    clock = FakeClock(datetime.now(UTC))
    async with BatchCluster(kube, tmp_path / "nodes", cronjob_clock=clock) as cluster:
        controller = cluster["cronjob"]
        cj = await kube.create(cronjob_body("every", "sleep 2"))
        created = parse_rfc3339(cj.metadata.creation_timestamp or "")
        tick = created.replace(second=0) + timedelta(minutes=1)

        async def jobs() -> list[Job]:
            items = (await kube.list(Job, "default")).items
            return sorted((j for j in items if j.name.startswith("every-")), key=lambda j: j.name)

        assert await jobs() == []
        clock.now = tick + timedelta(seconds=1)
        controller.resync()
        first, = await eventually(jobs, what="the first minute's Job")
        assert first.name == f"every-{int(tick.timestamp()) // 60}"
        assert (first.metadata.annotations or {})[CRONJOB_SCHEDULED_TIMESTAMP] == \
            tick.strftime("%Y-%m-%dT%H:%M:%SZ")

        async def status_active() -> CronJob | None:
            cur = await kube.get(CronJob, "every", "default")
            return cur if cur.status and cur.status.active else None
        cur = await eventually(status_active, what="status.active")
        assert [r.name for r in cur.status.active] == [first.name]  # type: ignore[union-attr]
        assert cur.status.last_schedule_time == tick.strftime("%Y-%m-%dT%H:%M:%SZ")  # type: ignore[union-attr]

        clock.now = tick + timedelta(minutes=1, seconds=1)     # the first Job still runs
        controller.resync()

        async def skipped() -> bool:
            return ("JobAlreadyActive", "Not starting job because prior execution is running "
                    "and concurrency policy is Forbid") in await cron_events(kube, "every")
        await eventually(skipped, what="JobAlreadyActive")
        assert [j.name for j in await jobs()] == [first.name]
        first_now = await kube.get(Job, first.name, "default")
        assert not any(c.type == "Complete" for c in (first_now.status.conditions or []))  # type: ignore[union-attr]

        async def done(job: str) -> CronJob | None:
            c = await kube.get(CronJob, "every", "default")
            active = {r.name for r in (c.status.active if c.status else None) or []}
            return c if c.status and c.status.last_successful_time and job not in active else None
        cur = await eventually(lambda: done(first.name), timeout=30, what="the first Job completed")

        async def saw_completed() -> bool:   # events are written after the status, asynchronously
            return ("SawCompletedJob", f"Saw completed job: {first.name}, condition: Complete") in \
                await cron_events(kube, "every")
        await eventually(saw_completed, what="the SawCompletedJob event")

        async def second() -> list[Job]:
            js = await jobs()
            return js if len(js) == 2 else []
        js = await eventually(second, what="the held-back minute's Job")
        assert js[1].name == f"every-{int((tick + timedelta(minutes=1)).timestamp()) // 60}"
        first_now = await kube.get(Job, first.name, "default")
        assert any(c.type == "Complete" for c in (first_now.status.conditions or []))  # type: ignore[union-attr]
        async def created_second() -> bool:
            return ("SuccessfulCreate", f"Created job {js[1].name}") in await cron_events(kube, "every")
        await eventually(created_second, what="the SuccessfulCreate event of the second Job")

        await eventually(lambda: done(js[1].name), timeout=30, what="the second Job completed")
        clock.now = tick + timedelta(minutes=2, seconds=1)
        controller.resync()

        async def third() -> list[Job]:
            js = await jobs()
            return js if len(js) == 3 else []
        js = await eventually(third, what="the third minute's Job, on time")
        assert js[2].name == f"every-{int((tick + timedelta(minutes=2)).timestamp()) // 60}"
        cur = await kube.get(CronJob, "every", "default")
        assert cur.status is not None
        assert cur.status.last_schedule_time == (tick + timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
        assert [r.name for r in cur.status.active or []] == [js[2].name]
