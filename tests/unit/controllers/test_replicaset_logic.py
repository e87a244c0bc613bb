"""ReplicaSet decisions (controllers.replicaset_logic, controllers.expectations) and one
controller sync over seeded caches with a FakePodControl (Kubernetes' test style)."""
from __future__ import annotations

from datetime import UTC, datetime

from api.models import ReplicaSet
from client.errors import APIError
from controllers import replicaset_logic as logic
from controllers.expectations import Expectations
from controllers.replicaset import FakePodControl, ReplicaSetController
from tests.support.apps_objects import FakeClient, fake_informers, make_pod, make_rs, seed

NOW = datetime(2026, 1, 1, 0, 10, tzinfo=UTC)


# ---------------------------------------------------------------- claiming
def test_claim_keeps_adopts_releases_and_ignores_others() -> None:
    rs = make_rs("web", 3)
    other = make_rs("other", 1)
    mine = make_pod("mine", {"app": "web"}, owner=rs)
    orphan = make_pod("orphan", {"app": "web"})
    stray = make_pod("stray", {"app": "db"}, owner=rs)
    theirs = make_pod("theirs", {"app": "web"}, owner=other)
    unrelated = make_pod("unrelated", {"app": "db"})
    claim = logic.claim_pods(rs, [mine, orphan, stray, theirs, unrelated])
    assert [p.name for p in claim.owned] == ["mine", "orphan"]
    assert [p.name for p in claim.adopt] == ["orphan"]
    assert [p.name for p in claim.release] == ["stray"]


def test_deleting_replicaset_neither_adopts_nor_releases() -> None:
    rs = make_rs("web", 3, deleting=True)
    claim = logic.claim_pods(rs, [make_pod("o", {"app": "web"}),
                                  make_pod("s", {"app": "x"}, owner=rs)])
    assert claim.owned == [] and claim.adopt == [] and claim.release == []


def test_terminating_orphan_is_not_adopted() -> None:
    rs = make_rs("web", 3)
    assert logic.claim_pods(rs, [make_pod("o", {"app": "web"}, deleting=True)]).adopt == []


# ---------------------------------------------------------------- managing
def test_manage_creates_missing_and_caps_at_burst() -> None:
    rs = make_rs("web", 10)
    assert logic.manage_replicas(rs, []).create == 10
    assert logic.manage_replicas(rs, [], burst=4).create == 4
    assert logic.manage_replicas(rs, [make_pod(str(i), {"app": "web"}, owner=rs)
                                      for i in range(10)]) == logic.ReplicaPlan()


def test_manage_deletes_surplus() -> None:
    rs = make_rs("web", 1)
    pods = [make_pod("ready", {"app": "web"}, owner=rs),
            make_pod("pending", {"app": "web"}, owner=rs, phase="Pending", ready=False)]
    plan = logic.manage_replicas(rs, pods)
    assert plan.create == 0 and [p.name for p in plan.delete] == ["pending"]


def test_slow_start_batches() -> None:
    assert logic.slow_start_batches(10) == [1, 2, 4, 3]
    assert logic.slow_start_batches(1) == [1]
    assert logic.slow_start_batches(0) == []
    assert sum(logic.slow_start_batches(500)) == 500



def test_deletion_order_kubernetes_preference() -> None:
    labels = {"app": "web"}
    unscheduled = make_pod("unscheduled", labels, node=None, phase="Pending", ready=False)
    pending = make_pod("pending", labels, phase="Pending", ready=False, node="a")
    unknown = make_pod("unknown", labels, phase="Unknown", ready=False, node="b")
    not_ready = make_pod("not-ready", labels, ready=False, node="c")
    ready_new = make_pod("ready-recently", labels, node="d", ready_since="2026-01-01T00:05:00Z")
    ready_old = make_pod("ready-long", labels, node="e", ready_since="2026-01-01T00:01:00Z")
    pods = [ready_old, ready_new, not_ready, unknown, pending, unscheduled]
    got = [p.name for p in logic.pods_to_delete(pods, 6)]
    assert got == ["unscheduled", "pending", "unknown", "not-ready", "ready-recently",
                   "ready-long"]
    assert [p.name for p in logic.pods_to_delete(pods, 2)] == ["unscheduled", "pending"]


def test_deletion_order_restarts_then_creation_then_rank_and_cost() -> None:
    labels = {"app": "web"}
    a = make_pod("restarts", labels, node="a", restarts=3)
    b = make_pod("newer", labels, node="b", created="2026-01-01T00:02:00Z")
    c = make_pod("older", labels, node="c")
    assert [p.name for p in logic.pods_to_delete([c, b, a], 3)] == ["restarts", "newer", "older"]
    doubled = [make_pod("d1", labels, node="x"), make_pod("d2", labels, node="x"),
               make_pod("single", labels, node="y", created="2026-01-01T00:09:00Z")]
    assert logic.pods_to_delete(doubled, 1)[0].name in ("d1", "d2")
    cheap = make_pod("cheap", labels, node="z",
                     annotations={logic.POD_DELETION_COST: "-10"})
    assert logic.pods_to_delete([*doubled, cheap], 1)[0].name == "cheap"


# ---------------------------------------------------------------- pods and status
def test_pod_from_template_carries_labels_and_controller_ref() -> None:
    rs = make_rs("web-abc", 1, {"app": "web", "pod-template-hash": "abc"})
    pod = logic.pod_from_template(rs)
    assert pod.metadata.generate_name == "web-abc-"
    assert pod.metadata.name is None
    assert pod.metadata.labels == {"app": "web", "pod-template-hash": "abc"}
    ref = pod.metadata.owner_references[0]  # type: ignore[index]
    assert (ref.kind, ref.name, ref.uid, ref.controller, ref.block_owner_deletion) == \
        ("ReplicaSet", "web-abc", rs.metadata.uid, True, True)
    assert pod.spec is not None and pod.spec.containers[0].image == "nginx:1"
    assert rs.spec.template.spec is not pod.spec  # type: ignore[union-attr]


def test_status_counts_and_min_ready_seconds() -> None:
    rs = make_rs("web", 4, generation=3, min_ready=60)
    pods = [make_pod("a", {"app": "web"}, ready_since="2026-01-01T00:00:00Z"),
            make_pod("b", {"app": "web"}, ready_since="2026-01-01T00:09:30Z"),
            make_pod("c", {"app": "web"}, ready=False),
            make_pod("d", {"other": "x"})]
    st = logic.calculate_status(rs, pods, now=NOW)
    assert (st.replicas, st.fully_labeled_replicas, st.ready_replicas,
            st.available_replicas, st.observed_generation) == (4, 3, 3, 2, 3)
    assert logic.status_changed(rs, st)
    assert not logic.status_changed(rs.model_copy(update={"status": st}), st)


def test_status_replica_failure_condition_set_and_cleared() -> None:
    rs = make_rs("web", 2)
    st = logic.calculate_status(rs, [], manage_error="quota exceeded", now=NOW)
    cond = st.conditions[0]  # type: ignore[index]
    assert (cond.type, cond.status, cond.reason, cond.message) == \
        ("ReplicaFailure", "True", "FailedCreate", "quota exceeded")
    failed = rs.model_copy(update={"status": st})
    assert logic.calculate_status(failed, [], now=NOW).conditions is None


def test_min_ready_recheck() -> None:
    rs = make_rs("web", 1, min_ready=5)
    st = logic.calculate_status(rs, [make_pod("a", {"app": "web"},
                                              ready_since="2026-01-01T00:09:58Z")], now=NOW)
    assert logic.min_ready_recheck(rs, st) == 5.0
    assert logic.min_ready_recheck(make_rs("x", 1), st) is None


# ---------------------------------------------------------------- expectations
def test_expectations_lifecycle_and_timeout() -> None:
    clock = [0.0]
    exp = Expectations(timeout=300, clock=lambda: clock[0])
    assert exp.satisfied("ns/web")
    exp.expect_creations("ns/web", 2)
    assert not exp.satisfied("ns/web")
    exp.creation_observed("ns/web")
    assert not exp.satisfied("ns/web")
    exp.creation_observed("ns/web")
    assert exp.satisfied("ns/web")
    exp.expect_deletions("ns/web", ["ns/a", "ns/b"])
    exp.deletion_observed("ns/web", "ns/a")
    exp.deletion_observed("ns/web", "ns/a")      # the same pod twice counts once
    assert exp.pending("ns/web") == (0, 1)
    clock[0] = 301
    assert exp.satisfied("ns/web")               # expired
    exp.delete("ns/web")
    assert exp.pending("ns/web") == (0, 0)


# ---------------------------------------------------------------- one sync, fake seams
def _controller(*objs: object, pod_control: FakePodControl | None = None
                ) -> tuple[ReplicaSetController, FakePodControl, FakeClient]:
    client = FakeClient()
    informers = fake_informers(client)
    control = pod_control or FakePodControl()
    ctrl = ReplicaSetController(client, informers, None, pod_control=control)  # type: ignore[arg-type]
    seed(informers, *objs)
    client.seed(*[o for o in objs if isinstance(o, ReplicaSet)])  # type: ignore[arg-type]
    return ctrl, control, client


async def test_sync_creates_then_waits_for_expectations() -> None:
    rs = make_rs("web", 3)
    ctrl, control, client = _controller(rs)
    await ctrl.reconcile(rs.key)
    assert len(control.created) == 3
    assert all(p.metadata.owner_references[0].uid == rs.metadata.uid  # type: ignore[index]
               for p in control.created)
    await ctrl.reconcile(rs.key)                 # the cache has not shown them yet
    assert len(control.created) == 3
    for p in control.created:                    # the informer catches up
        ctrl.pod_informer.store.put(p)
        ctrl._pod_added(p)
    assert ctrl.expectations.satisfied(rs.key)
    await ctrl.reconcile(rs.key)
    assert len(control.created) == 3


async def test_sync_deletes_surplus_and_adopts_orphans() -> None:
    rs = make_rs("web", 1)
    owned = make_pod("owned", {"app": "web"}, owner=rs)
    orphan = make_pod("orphan", {"app": "web"}, phase="Pending", ready=False)
    ctrl, control, client = _controller(rs, owned, orphan)
    await ctrl.reconcile(rs.key)
    assert [k for k, _ in control.patches] == ["default/orphan"]
    refs = control.patches[0][1]["metadata"]["ownerReferences"]
    assert refs[0]["uid"] == rs.metadata.uid and refs[0]["controller"] is True
    assert control.deleted == ["default/orphan"]
    status = client.verbs("update_status")[-1][2].status
    assert status.replicas == 1 and status.ready_replicas == 1


async def test_sync_stops_after_failed_batch_and_lowers_expectations() -> None:
    rs = make_rs("web", 10)
    control = FakePodControl(create_error=APIError({"code": 403, "reason": "Forbidden",
                                                    "message": "quota"}))
    control.create_limit = 2                     # batches 1, 2: the second half fails
    ctrl, control, client = _controller(rs, pod_control=control)
    try:
        await ctrl.reconcile(rs.key)
    except RuntimeError:
        pass
    assert len(control.created) == 2             # batch 1 (1) + batch 2 (1 of 2), no batch 3
    assert ctrl.expectations.pending(rs.key) == (2, 0)
    cond = client.verbs("update_status")[-1][2].status.conditions[0]
    assert cond.type == "ReplicaFailure" and cond.reason == "FailedCreate"


async def test_sync_of_missing_replicaset_forgets_expectations() -> None:
    ctrl, control, client = _controller()
    ctrl.expectations.expect_creations("default/gone", 3)
    await ctrl.reconcile("default/gone")
    assert ctrl.expectations.satisfied("default/gone") and client.actions == []
