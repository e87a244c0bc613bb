"""The Job controller on hollow nodes (fake runtime) with the real scheduler and garbage
collector against the in-process apiserver: a Job of 5 completions with parallelism 2
completes, a failing Job stops at its backoffLimit with BackoffLimitExceeded, an Indexed
Job runs one pod per index, deleting a Job leaves no pod behind, a finished Job with
ttlSecondsAfterFinished is deleted with its pods, a podFailurePolicy fails a Job on an exit
code, and a pod lost with its node (DisruptionTarget from the pod GC) is replaced without
counting as a failure."""
from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from api.models import Event, Node, Pod
from api.models.batch import JOB_COMPLETION_INDEX, JOB_TRACKING_FINALIZER, Job, PodFailurePolicy
from client.errors import NotFound
from client.rest import Client
from tests.support.apps_cluster import PodWatch, eventually
from tests.support.batch_cluster import BatchCluster


def job_body(name: str, command: str, *, completions: int | None = 1, parallelism: int = 1,
             backoff_limit: int = 6, indexed: bool = False, ttl: int | None = None) -> Job:
    spec: dict[str, Any] = {
        "parallelism": parallelism, "backoffLimit": backoff_limit,
        "template": {"spec": {"restartPolicy": "Never", "containers": [
            {"name": "work", "image": "busybox", "command": ["sh", "-c", command]}]}}}
    if completions is not None:
        spec["completions"] = completions
    if indexed:
        spec["completionMode"] = "Indexed"
    if ttl is not None:
        spec["ttlSecondsAfterFinished"] = ttl
    return Job.from_dict({"metadata": {"name": name, "namespace": "default"}, "spec": spec})


@pytest.fixture
async def cluster(kube: Client, tmp_path: Path) -> AsyncIterator[BatchCluster]:
    async with BatchCluster(kube, tmp_path / "nodes", nodes=2, ttl=True) as c:
        yield c


async def job_condition(kube: Client, name: str, ctype: str) -> Job | None:
    job = await kube.get(Job, name, "default")
    conds = (job.status.conditions if job.status else None) or []
    return job if any(c.type == ctype and c.status == "True" for c in conds) else None


async def events_of(kube: Client, name: str) -> list[tuple[str, str, str]]:
    return [(e.type or "", e.reason or "", e.message or "")
            for e in (await kube.list(Event, "default")).items
            if e.involved_object and e.involved_object.name == name
            and e.involved_object.kind == "Job"]


async def test_job_of_five_completions_two_at_a_time(kube: Client, cluster: BatchCluster) -> None:
    created = await kube.create(job_body("pi", "sleep 0.3", completions=5, parallelism=2))
    uid = created.metadata.uid
    async with PodWatch(kube, f"batch.kubernetes.io/controller-uid={uid}") as watch:
        watch.checks.append(lambda active: f"{len(active)} pods active" if len(active) > 2 else None)
        job = await eventually(lambda: job_condition(kube, "pi", "Complete"), timeout=60,
                               what="Job pi Complete")
    assert watch.violations == []
    st = job.status
    assert st is not None
    assert (st.succeeded, st.failed, st.active, st.ready, st.terminating) == (5, None, 0, 0, 0)
    assert [(c.type, c.reason) for c in st.conditions or []] == \
        [("SuccessCriteriaMet", "CompletionsReached"), ("Complete", "CompletionsReached")]
    assert st.start_time and st.completion_time and st.completion_time >= st.start_time
    assert not (st.uncounted_terminated_pods and (st.uncounted_terminated_pods.succeeded
                                                 or st.uncounted_terminated_pods.failed))
    pods = (await kube.list(Pod, "default", label_selector="job-name=pi")).items
    assert len(pods) == 5 and all(p.status and p.status.phase == "Succeeded" for p in pods)
    assert all(JOB_TRACKING_FINALIZER not in (p.metadata.finalizers or []) for p in pods)
    assert all(p.metadata.name.startswith("pi-") for p in pods)  # type: ignore[union-attr]

    async def completed_event() -> bool:
        return ("Normal", "Completed", "Job completed") in await events_of(kube, "pi")
    await eventually(completed_event, what="Completed event")
    created_events = [e for e in await events_of(kube, "pi") if e[1] == "SuccessfulCreate"]
    assert len(created_events) == 5

    await kube.delete(Job, "pi", "default", propagation_policy="Background")

    async def pods_gone() -> bool:
        return not (await kube.list(Pod, "default", label_selector="job-name=pi")).items
    await eventually(pods_gone, what="the Job's pods deleted with it")


async def test_failing_job_stops_at_its_backoff_limit(kube: Client, cluster: BatchCluster) -> None:
    await kube.create(job_body("fail", "exit 3", backoff_limit=2))
    job = await eventually(lambda: job_condition(kube, "fail", "Failed"), timeout=60,
                           what="Job fail Failed")
    st = job.status
    assert st is not None and st.failed == 3 and not st.succeeded and st.active == 0
    failed = [c for c in st.conditions or [] if c.type in ("FailureTarget", "Failed")]
    assert [(c.type, c.reason, c.message) for c in failed] == [
        ("FailureTarget", "BackoffLimitExceeded", "Job has reached the specified backoff limit"),
        ("Failed", "BackoffLimitExceeded", "Job has reached the specified backoff limit")]
    pods = (await kube.list(Pod, "default", label_selector="job-name=fail")).items
    assert len(pods) == 3 and all(p.status and p.status.phase == "Failed" for p in pods)
    exit_codes = {cs.state.terminated.exit_code for p in pods  # type: ignore[union-attr]
                  for cs in p.status.container_statuses or []}  # type: ignore[union-attr]
    assert exit_codes == {3}

    async def warning() -> bool:
        return ("Warning", "BackoffLimitExceeded", "Job has reached the specified backoff limit") \
            in await events_of(kube, "fail")
    await eventually(warning, what="BackoffLimitExceeded event")


async def test_indexed_job_runs_one_pod_per_index(kube: Client, cluster: BatchCluster) -> None:
    await kube.create(job_body("idx", "sleep 0.2", completions=3, parallelism=3, indexed=True))
    job = await eventually(lambda: job_condition(kube, "idx", "Complete"), timeout=60,
                           what="Indexed Job Complete")
    assert job.status is not None and job.status.completed_indexes == "0-2"
    assert job.status.succeeded == 3
    pods = (await kube.list(Pod, "default", label_selector="job-name=idx")).items
    by_index = {p.metadata.annotations[JOB_COMPLETION_INDEX]: p for p in pods}  # type: ignore[index]
    assert sorted(by_index) == ["0", "1", "2"]
    for index, pod in by_index.items():
        assert pod.metadata.name.startswith(f"idx-{index}-")  # type: ignore[union-attr]
        assert (pod.metadata.labels or {})[JOB_COMPLETION_INDEX] == index
        assert pod.spec is not None and pod.spec.hostname == f"idx-{index}"
        env = {e.name: e for e in pod.spec.containers[0].env or []}
        ref = env["JOB_COMPLETION_INDEX"].value_from.field_ref  # type: ignore[union-attr]
        assert ref.field_path == "metadata.annotations['batch.kubernetes.io/job-completion-index']"  # type: ignore[union-attr]


async def test_finished_job_is_deleted_after_its_ttl(kube: Client, cluster: BatchCluster) -> None:
    deleted_at: list[float] = []
    completed_at: list[float] = []
    created = await kube.create(job_body("brief", "sleep 0.1", ttl=1))
    async with PodWatch(kube, f"batch.kubernetes.io/controller-uid={created.metadata.uid}") as w:
        w.informer.add_handlers(on_delete=lambda p: deleted_at.append(time.time()))

        async def job_gone() -> bool:
            try:
                job = await kube.get(Job, "brief", "default")
            except NotFound:
                return True
            for c in (job.status.conditions if job.status else None) or []:
                if c.type == "Complete" and c.last_transition_time is not None:
                    completed_at.append(datetime.fromisoformat(c.last_transition_time.replace("Z", "+00:00")).timestamp())
            return False
        await eventually(job_gone, timeout=30, what="the Job deleted after its TTL")
    # it finished first: the TTL controller deletes it (foreground, so its pods go before
    # the Job itself) no sooner than a second after the Complete condition's time
    assert completed_at and deleted_at
    assert min(deleted_at) >= completed_at[0]
    assert not (await kube.list(Pod, "default", label_selector="job-name=brief")).items


async def test_pod_failure_policy_fails_the_job_on_an_exit_code(kube: Client,
                                                                cluster: BatchCluster) -> None:
    job = job_body("policy", "exit 42", backoff_limit=6)
    assert job.spec is not None
    job.spec.pod_failure_policy = PodFailurePolicy.from_dict({"rules": [
        {"action": "FailJob", "onExitCodes": {"containerName": "work", "operator": "In",
                                              "values": [42]}}]})
    await kube.create(job)
    failed = await eventually(lambda: job_condition(kube, "policy", "Failed"), timeout=30,
                              what="Job failed by its pod failure policy")
    cond = [c for c in failed.status.conditions or [] if c.type == "Failed"][0]  # type: ignore[union-attr]
    pod, = (await kube.list(Pod, "default", label_selector="job-name=policy")).items
    assert (cond.reason, cond.message) == (
        "PodFailurePolicy", f"Container work for pod default/{pod.name} failed with exit code 42 "
                            "matching FailJob rule at index 0")
    assert failed.status.failed == 1                           # one pod, no retries  # type: ignore[union-attr]


async def test_pod_lost_with_its_node_is_replaced_not_counted(kube: Client, tmp_path: Path) -> None:
    """A pod whose node vanished is failed by the pod GC with DisruptionTarget; a Job that
    ignores disruptions replaces it without spending its backoffLimit (0 here)."""
    podgc = {"quarantine": 0.5, "gc_check_period": 0.2}
    async with BatchCluster(kube, tmp_path / "nodes", nodes=2, podgc=podgc) as cluster:
        job = job_body("sturdy", "sleep 4", backoff_limit=0)
        assert job.spec is not None
        job.spec.pod_failure_policy = PodFailurePolicy.from_dict({"rules": [
            {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]}]})
        await kube.create(job)

        async def running() -> Pod | None:
            pods = (await kube.list(Pod, "default", label_selector="job-name=sturdy")).items
            return next((p for p in pods if p.status and p.status.phase == "Running"), None)
        first = await eventually(running, what="the Job's pod running")
        node = first.spec.node_name  # type: ignore[union-attr]
        index = [k.config.node_name for k in cluster.nodes.kubelets].index(node)
        await cluster.nodes.kubelets[index].stop()
        await kube.delete(Node, node or "")
        done = await eventually(lambda: job_condition(kube, "sturdy", "Complete"), timeout=40,
                                what="the Job completed on the other node")
    assert done.status is not None and done.status.succeeded == 1 and not done.status.failed
    pods = (await kube.list(Pod, "default", label_selector="job-name=sturdy")).items
    assert [p.metadata.uid for p in pods] != [first.metadata.uid]
    assert all(p.spec and p.spec.node_name != node for p in pods)
