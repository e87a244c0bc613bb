"""One Job controller sync over seeded caches, with a FakePodControl, a recording client
and a fake clock (Kubernetes' job_controller_test.go style): what pods it creates and
deletes, which finalizers it removes, and the status and events it writes."""
from __future__ import annotations

from typing import Any

import pytest

from api.models import Pod
from api.models.batch import JOB_COMPLETION_INDEX, JOB_TRACKING_FINALIZER, Job
from client.errors import APIError
from controllers.job import ORPHAN, REMOVE_FINALIZER, JobController
from controllers.replicaset import FakePodControl
from tests.support.apps_objects import FakeClient, fake_informers, seed
from tests.support.batch_objects import T0, FakeClock, RecordingRecorder, make_job, make_job_pod


class SnapshotClient(FakeClient):
    """Keeps a copy of every status written, as the server would have stored it."""

    async def update_status(self, obj: Any) -> Any:
        self.actions.append(("update_status", obj.kind, obj.model_copy(deep=True)))
        return obj.model_copy(deep=True)


class Harness:
    def __init__(self, *objs: Any, backoff: float = 10.0) -> None:
        self.client = SnapshotClient()
        self.informers = fake_informers(self.client)
        self.control = FakePodControl()
        self.clock = FakeClock(T0)
        self.recorder = RecordingRecorder()
        self.ctrl = JobController(self.client, self.informers, self.recorder,  # type: ignore[arg-type]
                                  pod_control=self.control, clock=self.clock,
                                  backoff_base=backoff)
        seed(self.informers, *objs)
        self.client.seed(*[o for o in objs if isinstance(o, Job)])

    async def sync(self, job: Job) -> None:
        await self.ctrl.sync_job(job.key)

    def statuses(self) -> list[Any]:
        return [a[2].status.model_copy(deep=True) for a in self.client.verbs("update_status")]

    def last_status(self) -> Any:
        return self.client.verbs("update_status")[-1][2].status

    def removed_finalizers(self) -> list[str]:
        return [k for k, p in self.control.patches if p == REMOVE_FINALIZER]

    def observe_created(self) -> list[Pod]:
        """The informer shows the pods the last sync created."""
        for p in self.control.created:
            if self.ctrl.pod_informer.store.get(p.key) is None:
                p.metadata.uid = p.metadata.uid or f"uid-{p.metadata.name}"
                self.ctrl.pod_informer.store.put(p)
                self.ctrl._pod_added(p)
        return self.control.created


# ---------------------------------------------------------------- creating pods
async def test_new_job_creates_parallelism_pods_with_finalizer_and_owner() -> None:
    job = make_job(completions=5, parallelism=2)
    h = Harness(job)
    await h.sync(job)
    assert len(h.control.created) == 2
    for pod in h.control.created:
        assert pod.metadata.generate_name == "pi-"
        assert pod.metadata.finalizers == [JOB_TRACKING_FINALIZER]
        ref = pod.metadata.owner_references[0]  # type: ignore[index]
        assert (ref.kind, ref.uid, ref.controller, ref.block_owner_deletion) == \
            ("Job", job.metadata.uid, True, True)
        assert pod.metadata.labels == job.spec.template.metadata.labels  # type: ignore[union-attr]
    status = h.last_status()
    assert (status.active, status.ready, status.terminating) == (2, 0, 0)
    assert status.start_time == "2026-01-01T00:00:00Z"
    await h.sync(job)                        # the cache has not shown them: nothing more
    assert len(h.control.created) == 2


async def test_completions_cap_parallelism_and_finished_pods_are_counted_once() -> None:
    job = make_job(completions=3, parallelism=2, status={"succeeded": 2, "active": 1,
                                                         "uncountedTerminatedPods": {}})
    running = make_job_pod(job, "pi-a")
    h = Harness(job, running)
    await h.sync(job)
    assert h.control.created == []           # 3 - 2 succeeded = 1 wanted, 1 active
    done = make_job_pod(job, "pi-b", "Succeeded")
    h = Harness(job, done)
    await h.sync(job)
    first, *_, last = h.statuses()
    assert first.uncounted_terminated_pods.succeeded == [done.metadata.uid]
    assert h.removed_finalizers() == ["default/pi-b"]
    assert last.succeeded == 3 and not last.uncounted_terminated_pods.succeeded
    conds = [(c.type, c.reason) for c in last.conditions]
    assert conds == [("SuccessCriteriaMet", "CompletionsReached"), ("Complete", "CompletionsReached")]
    assert last.completion_time == "2026-01-01T00:00:00Z"
    assert ("Job/pi", "Normal", "Completed", "Job completed") in h.recorder.events


async def test_pod_whose_finalizer_removal_is_pending_is_not_counted_again() -> None:
    job = make_job(completions=2, parallelism=1)
    done = make_job_pod(job, "pi-a", "Succeeded")
    h = Harness(job, done)
    await h.sync(job)
    assert h.last_status().succeeded == 1
    counted = h.last_status().model_copy(deep=True)
    job2 = Job.from_dict({**job.to_dict(), "status": counted.to_dict()})
    seed(h.informers, job2)                  # the status write came back; the pod update not
    await h.sync(job2)
    assert h.last_status().succeeded == 1
    assert h.removed_finalizers() == ["default/pi-a"]


# ---------------------------------------------------------------- failing
async def test_failures_past_backoff_limit_fail_the_job_after_its_pods_are_gone() -> None:
    job = make_job(completions=1, parallelism=2, backoff_limit=1,
                   status={"failed": 1, "uncountedTerminatedPods": {}})
    failed = make_job_pod(job, "pi-f", "Failed", exit_code=1)
    running = make_job_pod(job, "pi-r", ready=True)
    h = Harness(job, failed, running)
    await h.sync(job)
    assert h.control.deleted == ["default/pi-r"]
    statuses = h.statuses()
    target = statuses[0].conditions[-1]
    assert (target.type, target.reason, target.message) == \
        ("FailureTarget", "BackoffLimitExceeded", "Job has reached the specified backoff limit")
    # the running pod counts as failed too: a failing Job's unfinished pods are failures
    assert statuses[-1].failed == 3 and statuses[-1].terminating == 1
    assert not any(c.type == "Failed" for c in statuses[-1].conditions)   # pi-r still terminating

    synced = Job.from_dict({**job.to_dict(), "status": statuses[-1].to_dict()})
    gone = make_job_pod(job, "pi-r", "Failed", exit_code=137, finalizer=False)
    h2 = Harness(synced, gone)
    await h2.sync(synced)
    final = h2.last_status()
    assert [c.type for c in final.conditions] == ["FailureTarget", "Failed"]
    assert final.conditions[-1].reason == "BackoffLimitExceeded"
    assert ("Job/pi", "Warning", "BackoffLimitExceeded",
            "Job has reached the specified backoff limit") in h2.recorder.events


async def test_failed_pod_is_replaced_after_exponential_backoff() -> None:
    job = make_job(completions=1, backoff_limit=6, status={"active": 1, "uncountedTerminatedPods": {}})
    failed = make_job_pod(job, "pi-f", "Failed", exit_code=2, finished=T0)
    h = Harness(job, failed, backoff=10.0)
    await h.sync(job)
    assert h.control.created == []           # 10s backoff after the first failure
    assert h.last_status().failed == 1
    h.clock.step(10)
    counted = Job.from_dict({**job.to_dict(), "status": h.last_status().to_dict()})
    seed(h.informers, counted)
    h.ctrl.pod_informer.store.remove(failed.key)   # finalizer removed, pod deleted
    await h.sync(counted)
    assert len(h.control.created) == 1


async def test_on_failure_restarts_count_toward_backoff_limit() -> None:
    job = make_job(backoff_limit=2, restart="OnFailure", status={"active": 1})
    pod = make_job_pod(job, "pi-a", restarts=2)
    h = Harness(job, pod)
    await h.sync(job)
    assert h.control.deleted == ["default/pi-a"]
    assert h.statuses()[0].conditions[-1].reason == "BackoffLimitExceeded"


async def test_active_deadline_exceeded() -> None:
    job = make_job(deadline=30, status={"startTime": "2026-01-01T00:00:00Z", "active": 1})
    pod = make_job_pod(job, "pi-a")
    h = Harness(job, pod)
    h.clock.step(29)
    await h.sync(job)
    assert h.control.deleted == []
    h.clock.step(1)
    await h.sync(job)
    assert h.control.deleted == ["default/pi-a"]
    cond = h.last_status().conditions[-1]
    assert (cond.type, cond.reason) == ("FailureTarget", "DeadlineExceeded")


# ---------------------------------------------------------------- pod failure policy
POLICY = {"rules": [{"action": "FailJob", "onExitCodes": {"operator": "In", "values": [42]}},
                    {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget",
                                                              "status": "True"}]}]}


async def test_pod_failure_policy_fail_job_on_exit_code() -> None:
    job = make_job(completions=2, parallelism=2, pod_failure_policy=POLICY)
    bad = make_job_pod(job, "pi-x", "Failed", exit_code=42)
    other = make_job_pod(job, "pi-y")
    h = Harness(job, bad, other)
    await h.sync(job)
    cond = h.statuses()[0].conditions[-1]
    assert (cond.type, cond.reason) == ("FailureTarget", "PodFailurePolicy")
    assert cond.message == ("Container c for pod default/pi-x failed with exit code 42 "
                            "matching FailJob rule at index 0")
    assert h.control.deleted == ["default/pi-y"]


async def test_pod_failure_policy_ignores_disruptions() -> None:
    job = make_job(completions=1, backoff_limit=0, pod_failure_policy=POLICY,
                   status={"active": 1, "uncountedTerminatedPods": {}})
    evicted = make_job_pod(job, "pi-e", "Failed", exit_code=137, conditions=[
        {"type": "DisruptionTarget", "status": "True", "reason": "EvictionByEvictionAPI"}])
    h = Harness(job, evicted)
    await h.sync(job)
    assert h.removed_finalizers() == ["default/pi-e"]
    status = h.last_status()
    assert not status.failed and not any(c.type == "FailureTarget" for c in status.conditions or [])
    assert h.control.created == []           # the failure backoff applies all the same
    h.clock.step(10)
    await h.sync(job)
    assert len(h.control.created) == 1       # replaced; not counted, so backoffLimit 0 holds
    assert not any(c.type == "FailureTarget" for c in h.last_status().conditions or [])


# ---------------------------------------------------------------- indexed jobs
async def test_indexed_job_creates_lowest_pending_indexes() -> None:
    job = make_job("idx", completions=4, parallelism=2, indexed=True,
                   status={"completedIndexes": "0", "succeeded": 1, "uncountedTerminatedPods": {}})
    running = make_job_pod(job, "idx-1-a", index=1)
    h = Harness(job, running)
    await h.sync(job)
    (pod,) = h.control.created
    assert pod.metadata.generate_name == "idx-2-"
    assert pod.metadata.annotations == {JOB_COMPLETION_INDEX: "2"}
    assert pod.metadata.labels[JOB_COMPLETION_INDEX] == "2"  # type: ignore[index]
    assert pod.spec.hostname == "idx-2"  # type: ignore[union-attr]
    env = pod.spec.containers[0].env[0]  # type: ignore[union-attr,index]
    assert env.name == "JOB_COMPLETION_INDEX"
    assert env.value_from.field_ref.field_path == \
        "metadata.annotations['batch.kubernetes.io/job-completion-index']"  # type: ignore[union-attr]


async def test_indexed_job_tracks_completed_indexes_and_completes() -> None:
    job = make_job("idx", completions=3, parallelism=3, indexed=True,
                   status={"completedIndexes": "1", "succeeded": 1, "uncountedTerminatedPods": {}})
    pods = [make_job_pod(job, f"idx-{i}", "Succeeded", index=i) for i in (0, 2)]
    h = Harness(job, *pods)
    await h.sync(job)
    status = h.last_status()
    assert status.completed_indexes == "0-2" and status.succeeded == 3
    assert [c.type for c in status.conditions] == ["SuccessCriteriaMet", "Complete"]


async def test_indexed_job_removes_duplicate_index_pods() -> None:
    job = make_job("idx", completions=2, parallelism=2, indexed=True, status={"active": 3})
    a = make_job_pod(job, "idx-0-a", index=0, ready=True)
    b = make_job_pod(job, "idx-0-b", index=0, ready=False)
    c = make_job_pod(job, "idx-1-a", index=1, ready=True)
    h = Harness(job, a, b, c)
    await h.sync(job)
    assert h.control.deleted == ["default/idx-0-b"]
    assert "default/idx-0-b" in h.removed_finalizers()       # deleted pods are not failures


async def test_success_policy_ends_the_job_early() -> None:
    job = make_job("sp", completions=5, parallelism=5, indexed=True,
                   success_policy={"rules": [{"succeededIndexes": "0"}]})
    leader = make_job_pod(job, "sp-0", "Succeeded", index=0)
    workers = [make_job_pod(job, f"sp-{i}", index=i) for i in (1, 2)]
    h = Harness(job, leader, *workers)
    await h.sync(job)
    assert sorted(h.control.deleted) == ["default/sp-1", "default/sp-2"]
    cond = h.statuses()[0].conditions[-1]
    assert (cond.type, cond.reason, cond.message) == \
        ("SuccessCriteriaMet", "SuccessPolicy", "Matched rules at index 0")


# ---------------------------------------------------------------- suspend, scale down
async def test_suspend_deletes_pods_without_counting_them_and_resume_resets_start() -> None:
    job = make_job(completions=3, parallelism=2, suspend=True,
                   status={"startTime": "2025-12-31T00:00:00Z", "active": 2})
    pods = [make_job_pod(job, f"pi-{i}") for i in range(2)]
    h = Harness(job, *pods)
    await h.sync(job)
    assert sorted(h.control.deleted) == ["default/pi-0", "default/pi-1"]
    assert sorted(h.removed_finalizers()) == ["default/pi-0", "default/pi-1"]
    status = h.last_status()
    assert status.active == 0 and not status.failed
    assert [(c.type, c.status, c.reason) for c in status.conditions] == \
        [("Suspended", "True", "JobSuspended")]
    assert "Suspended" in h.recorder.reasons()

    resumed = Job.from_dict({**job.to_dict(), "spec": {**job.to_dict()["spec"], "suspend": False},
                             "status": status.to_dict()})
    h2 = Harness(resumed)
    h2.clock.step(60)
    await h2.sync(resumed)
    status = h2.last_status()
    assert [(c.type, c.status, c.reason) for c in status.conditions] == \
        [("Suspended", "False", "JobResumed")]
    assert status.start_time == "2026-01-01T00:01:00Z" and len(h2.control.created) == 2
    assert "Resumed" in h2.recorder.reasons()


async def test_terminating_pods_are_not_replaced_when_only_failed_pods_are() -> None:
    job = make_job(completions=2, parallelism=2, replacement="Failed", status={"active": 1})
    running = make_job_pod(job, "pi-a")
    leaving = make_job_pod(job, "pi-b", deleting=True)
    h = Harness(job, running, leaving)
    await h.sync(job)
    assert h.control.created == []
    assert h.last_status().terminating == 1


# ---------------------------------------------------------------- ownership
async def test_managed_by_another_controller_is_left_alone() -> None:
    job = make_job(managed_by="example.com/queue")
    h = Harness(job)
    await h.sync(job)
    assert h.control.created == [] and h.client.actions == []


async def _queued(ctrl: JobController) -> list[Any]:
    keys = []
    while len(ctrl.queue) > 0:
        keys.append(await ctrl.queue.get())
        ctrl.queue.done(keys[-1])
    return keys


async def test_pods_of_a_deleted_job_lose_their_finalizer() -> None:
    job = make_job(completions=2, parallelism=2)
    done = make_job_pod(job, "pi-a", "Succeeded")
    running = make_job_pod(job, "pi-b")
    h = Harness(job, done, running)
    h.ctrl.job_informer.store.remove(job.key)
    h.ctrl._job_deleted(job)                  # background deletion: the Job goes first
    assert set(await _queued(h.ctrl)) == {job.key, (ORPHAN, done.key), (ORPHAN, running.key)}
    await h.ctrl.reconcile(job.key)           # a Job that is gone forgets its state
    await h.ctrl.reconcile((ORPHAN, done.key))
    assert h.removed_finalizers() == ["default/pi-a"]
    deleting = running.model_copy(deep=True)  # the garbage collector deletes the pod
    deleting.metadata.deletion_timestamp = "2026-01-01T00:00:01Z"
    deleting.metadata.resource_version = "9999"
    h.ctrl.pod_informer.store.put(deleting)
    h.ctrl._pod_updated(running, deleting)
    assert (ORPHAN, running.key) in await _queued(h.ctrl)
    await h.ctrl.reconcile((ORPHAN, running.key))
    assert h.removed_finalizers() == ["default/pi-a", "default/pi-b"]


async def test_pods_of_a_running_job_keep_their_finalizer() -> None:
    job = make_job()
    pod = make_job_pod(job, "pi-a")
    h = Harness(job, pod)
    await h.ctrl.reconcile((ORPHAN, pod.key))
    assert h.control.patches == []


async def test_matching_orphan_is_adopted_with_the_tracking_finalizer() -> None:
    job = make_job(completions=1, status={"active": 0})
    stray = make_job_pod(job, "stray", owned=False, finalizer=False)
    h = Harness(job, stray)
    await h.sync(job)
    (key, patch), *_ = h.control.patches
    assert key == "default/stray"
    assert patch["metadata"]["finalizers"] == [JOB_TRACKING_FINALIZER]
    assert patch["metadata"]["ownerReferences"][0]["uid"] == job.metadata.uid
    assert h.control.created == []            # the adopted pod is the one active pod


async def test_failed_finalizer_removal_is_retried() -> None:
    job = make_job(completions=1, status={"active": 1, "uncountedTerminatedPods": {}})
    done = make_job_pod(job, "pi-a", "Succeeded")
    h = Harness(job, done)
    h.control.patch_error = APIError({"code": 500, "reason": "InternalError", "message": "boom"})
    with pytest.raises(APIError):
        await h.sync(job)
    status = h.last_status()
    assert status.uncounted_terminated_pods.succeeded == [done.metadata.uid]
    assert not status.succeeded and not any(c.type == "Complete" for c in status.conditions or [])
