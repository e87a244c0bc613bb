"""The ReplicationController manager (the ReplicaSet machinery behind an adapter), the pod
garbage collector's decisions and passes, and the TTL-after-finished controller - each as
one sync over seeded caches with fakes."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from api.models import Node, Pod, ReplicationController
from api.models.batch import Job
from controllers import podgc
from controllers.podgc import PodGCController
from controllers.replicaset import FakePodControl
from controllers.replication import ReplicationManager, rc_to_rs
from controllers.ttlafterfinished import TTLAfterFinishedController, time_left
from tests.support.apps_objects import FakeClient, fake_informers, make_pod, seed
from tests.support.batch_objects import T0, FakeClock, make_job


# ---------------------------------------------------------------- replication controllers
def make_rc(name: str = "frontend", replicas: int = 2) -> ReplicationController:
    labels = {"name": name}
    return ReplicationController.from_dict({
        "metadata": {"name": name, "namespace": "default", "uid": f"rc-{name}",
                     "generation": 1, "resourceVersion": "7"},
        "spec": {"replicas": replicas, "selector": labels,
                 "template": {"metadata": {"labels": labels},
                              "spec": {"containers": [{"name": "nginx", "image": "nginx"}]}}}})


def test_rc_is_seen_as_a_replicaset_that_keeps_its_kind() -> None:
    rs = rc_to_rs(make_rc())
    assert (rs.api_version, rs.kind) == ("v1", "ReplicationController")
    assert rs.spec is not None and rs.spec.selector.match_labels == {"name": "frontend"}  # type: ignore[union-attr]


async def test_replication_manager_creates_pods_owned_by_the_rc_and_writes_its_status() -> None:
    rc = make_rc(replicas=2)
    client, control = FakeClient(), FakePodControl()
    informers = fake_informers(client)
    ctrl = ReplicationManager(client, informers, None, pod_control=control)  # type: ignore[arg-type]
    orphan = make_pod("stray", {"name": "frontend"})
    seed(informers, rc, orphan)
    client.seed(rc)
    await ctrl.reconcile(rc.key)
    (key, patch), = control.patches                        # the matching orphan is adopted
    assert key == "default/stray"
    ref = patch["metadata"]["ownerReferences"][0]
    assert (ref["apiVersion"], ref["kind"], ref["uid"]) == ("v1", "ReplicationController", "rc-frontend")
    assert len(control.created) == 1                       # 2 wanted, 1 adopted
    pod = control.created[0]
    assert pod.metadata.generate_name == "frontend-"
    ref2 = pod.metadata.owner_references[0]  # type: ignore[index]
    assert (ref2.api_version, ref2.kind, ref2.controller) == ("v1", "ReplicationController", True)
    (_, kind, written), = client.verbs("update_status")
    assert kind == "ReplicationController" and isinstance(written, ReplicationController)
    assert written.status.replicas == 1 and written.status.observed_generation == 1  # type: ignore[union-attr]


# ---------------------------------------------------------------- pod garbage collector
def pod_on(name: str, node: str | None, phase: str = "Running", *, created: str = "2026-01-01T00:00:00Z",
           deleting: bool = False, reason: str | None = None) -> Pod:
    pod = make_pod(name, {"app": "x"}, phase=phase, node=node, created=created, deleting=deleting)
    if reason:
        pod.status.reason = reason  # type: ignore[union-attr]
    return pod


def test_terminated_pods_over_the_threshold_go_evicted_first_then_oldest() -> None:
    pods = [pod_on("new", "n1", "Succeeded", created="2026-01-03T00:00:00Z"),
            pod_on("old", "n1", "Failed", created="2026-01-01T00:00:00Z"),
            pod_on("evicted", "n1", "Failed", created="2026-01-05T00:00:00Z", reason="Evicted"),
            pod_on("running", "n1", "Running")]
    assert [p.name for p in podgc.terminated_over_threshold(pods, 1)] == ["evicted", "old"]
    assert podgc.terminated_over_threshold(pods, 3) == []
    assert podgc.terminated_over_threshold(pods, 0) == []              # 0 disables


class GCHarness:
    def __init__(self, *objs: Any, threshold: int = 100) -> None:
        self.client = FakeClient()
        self.informers = fake_informers(self.client)
        self.now = [0.0]
        self.ctrl = PodGCController(self.client, self.informers, None,  # type: ignore[arg-type]
                                    terminated_pod_threshold=threshold, quarantine=40.0,
                                    clock=lambda: self.now[0])
        seed(self.informers, *objs)

    def deleted(self) -> list[tuple[str, Any]]:
        return [(a[1], a[2]) for a in self.client.verbs("delete")]


async def test_pods_on_a_vanished_node_are_failed_and_force_deleted_after_quarantine() -> None:
    node = Node.from_dict({"metadata": {"name": "n1"}})
    stuck = pod_on("stuck", "gone", deleting=True)
    fine = pod_on("fine", "n1")
    h = GCHarness(node, stuck, fine)
    await h.ctrl.gc()
    assert h.deleted() == []                                          # quarantined first
    h.now[0] = 41.0
    await h.ctrl.gc()
    assert h.deleted() == [("Pod/stuck", {"grace_period_seconds": 0})]
    (_, target, patch), = h.client.verbs("patch")
    cond = patch["status"]["conditions"][0]
    assert target == "Pod/stuck" and patch["status"]["phase"] == "Failed"
    assert (cond["type"], cond["reason"], cond["message"]) == \
        ("DisruptionTarget", "DeletionByPodGC", "PodGC: node no longer exists")


async def test_a_node_that_comes_back_ends_the_quarantine() -> None:
    pod = pod_on("p", "late")
    h = GCHarness(pod)
    await h.ctrl.gc()
    seed(h.informers, Node.from_dict({"metadata": {"name": "late"}}))
    h.now[0] = 100.0
    await h.ctrl.gc()
    assert h.deleted() == []


async def test_terminated_and_unscheduled_terminating_pods_are_collected() -> None:
    node = Node.from_dict({"metadata": {"name": "n1"}})
    done = [pod_on(f"done-{i}", "n1", "Succeeded", created=f"2026-01-0{i + 1}T00:00:00Z")
            for i in range(3)]
    unscheduled = pod_on("nowhere", None, "Pending", deleting=True)
    h = GCHarness(node, *done, unscheduled, threshold=2)
    await h.ctrl.gc()
    assert [d[0] for d in h.deleted()] == ["Pod/done-0", "Pod/nowhere"]
    assert [a[1] for a in h.client.verbs("patch")] == ["Pod/nowhere"]   # terminal pods stay as they are


async def test_terminating_pods_on_an_out_of_service_node() -> None:
    node = Node.from_dict({"metadata": {"name": "n1"}, "spec": {"taints": [
        {"key": "node.kubernetes.io/out-of-service", "effect": "NoExecute"}]},
        "status": {"conditions": [{"type": "Ready", "status": "False"}]}})
    h = GCHarness(node, pod_on("t", "n1", deleting=True), pod_on("r", "n1"))
    await h.ctrl.gc()
    assert [d[0] for d in h.deleted()] == ["Pod/t"]


# ---------------------------------------------------------------- ttl after finished
def finished_job(ttl: int | None, when: str = "2026-01-01T00:00:00Z") -> Job:
    job = make_job(status={"conditions": [{"type": "Complete", "status": "True",
                                           "lastTransitionTime": when}]})
    assert job.spec is not None
    job.spec.ttl_seconds_after_finished = ttl
    return job


def test_time_left_counts_from_the_finish_condition() -> None:
    assert time_left(finished_job(60), T0 + timedelta(seconds=20)) == 40
    assert time_left(finished_job(None), T0) is None
    assert time_left(make_job(), T0) is None                           # not finished


async def test_expired_job_is_deleted_foreground_with_a_uid_precondition() -> None:
    job = finished_job(30)
    client = FakeClient()
    informers = fake_informers(client)
    clock = FakeClock(T0 + timedelta(seconds=10))
    ctrl = TTLAfterFinishedController(client, informers, None, clock=clock)  # type: ignore[arg-type]
    seed(informers, job)
    client.seed(job)
    await ctrl.reconcile(job.key)
    assert client.verbs("delete") == []                               # 20s to go: re-queued
    clock.step(20)
    await ctrl.reconcile(job.key)
    (_, target, kw), = client.verbs("delete")
    assert target == "Job/pi"
    assert kw == {"propagation_policy": "Foreground", "preconditions": {"uid": job.metadata.uid}}
