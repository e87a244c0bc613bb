"""Deployment rollout math (deployment_logic, deployment_util, deployment_status) and one
DeploymentController sync over seeded caches: seed objects, run one decision, assert."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from api.models import Deployment, ReplicaSet
from api.models.apps import ReplicaSetStatus
from controllers import deployment_logic as logic
from controllers import deployment_status as dstatus
from controllers import deployment_util as util
from controllers.deployment import DeploymentController
from tests.support.apps_objects import (FakeClient, fake_informers, make_deployment, make_pod,
                                        seed, uid)

NOW = datetime(2026, 1, 1, 0, 10, tzinfo=UTC)


def rs_for(d: Deployment, replicas: int, *, image: str | None = None, revision: int = 1,
           available: int | None = None, created: str = "2026-01-01T00:00:00Z",
           desired: int | None = None, max_replicas: int | None = None) -> ReplicaSet:
    """A ReplicaSet of `d` as the controller makes it (optionally for another image)."""
    src = d
    if image is not None:
        src = d.model_copy(deep=True)
        src.spec.template.spec.containers[0].image = image  # type: ignore[union-attr]
    rs = util.new_replica_set(src, replicas, revision)
    rs.metadata.uid = uid("rs")
    rs.metadata.creation_timestamp = created
    rs.metadata.generation = 1
    rs.metadata.resource_version = "1"
    ann = dict(rs.metadata.annotations or {})
    if desired is not None:
        ann[util.DESIRED_REPLICAS] = str(desired)
    if max_replicas is not None:
        ann[util.MAX_REPLICAS] = str(max_replicas)
    rs.metadata.annotations = ann
    avail = replicas if available is None else available
    rs.status = ReplicaSetStatus(replicas=replicas, ready_replicas=avail,
                                 available_replicas=avail, observed_generation=1)
    return rs


def sizes(steps: list[logic.Scale]) -> dict[str, int]:
    return {s.rs.name: s.replicas for s in steps}


# ---------------------------------------------------------------- fenceposts
@pytest.mark.parametrize("surge,unavail,desired,want", [
    ("25%", "25%", 5, (2, 1)),          # surge rounds up, unavailable down
    ("25%", "25%", 4, (1, 1)),
    (0, 0, 5, (0, 1)),                  # both zero: unavailable 1
    ("10%", "10%", 5, (1, 0)),
    (1, "50%", 5, (1, 2)),
    ("0%", "0%", 10, (0, 1)),
    (3, 2, 10, (3, 2)),
])
def test_resolve_fenceposts(surge: Any, unavail: Any, desired: int, want: tuple[int, int]) -> None:
    assert util.resolve_fenceposts(surge, unavail, desired) == want


def test_max_unavailable_and_surge_by_strategy() -> None:
    d = make_deployment(replicas=2, strategy={"type": "RollingUpdate", "rollingUpdate":
                                              {"maxSurge": 0, "maxUnavailable": 5}})
    assert util.max_unavailable(d) == 2                  # capped at replicas
    assert util.max_unavailable(make_deployment(replicas=0)) == 0
    recreate = make_deployment(replicas=5, strategy={"type": "Recreate"})
    assert util.max_surge(recreate) == 0 and util.max_unavailable(recreate) == 0


# ---------------------------------------------------------------- new and old RSs
def test_new_replica_set_shape() -> None:
    d = make_deployment("web", 5, annotations={"team": "a", util.LAST_APPLIED: "{}",
                                               util.REVISION: "7"})
    rs = util.new_replica_set(d, 3, 4)
    h = util.pod_template_hash(d)
    assert rs.name == f"web-{h}"
    assert rs.metadata.labels == {"app": "web", util.HASH_LABEL: h}
    assert rs.spec.selector.match_labels == {"app": "web", util.HASH_LABEL: h}  # type: ignore[union-attr]
    assert rs.spec.template.metadata.labels == {"app": "web", util.HASH_LABEL: h}  # type: ignore[union-attr]
    assert d.spec.template.metadata.labels == {"app": "web"}  # type: ignore[union-attr]
    ann = rs.metadata.annotations or {}
    assert ann == {"team": "a", util.REVISION: "4", util.DESIRED_REPLICAS: "5",
                   util.MAX_REPLICAS: "7"}
    ref = rs.metadata.owner_references[0]  # type: ignore[index]
    assert (ref.kind, ref.uid, ref.controller, ref.block_owner_deletion) == \
        ("Deployment", d.metadata.uid, True, True)


def test_restarted_at_annotation_changes_the_hash() -> None:
    d = make_deployment("web")
    restarted = d.model_copy(deep=True)
    restarted.spec.template.metadata.annotations = {util.RESTARTED_AT: "2026-01-01T00:00:00Z"}  # type: ignore[union-attr]
    assert util.pod_template_hash(d) != util.pod_template_hash(restarted)
    assert util.find_new_rs(restarted, [rs_for(d, 5)]) is None


def test_rollback_template_makes_old_rs_new_with_next_revision() -> None:
    d1 = make_deployment("web", 5, image="nginx:1")
    rs1 = rs_for(d1, 0, revision=1)
    rs2 = rs_for(d1, 5, image="nginx:2", revision=2, created="2026-01-01T00:05:00Z")
    undone = d1                                  # template patched back to nginx:1
    new = util.find_new_rs(undone, [rs2, rs1])
    assert new is rs1
    old = util.find_old_rss([rs1, rs2], new)
    assert old == [rs2]
    ann, changed = util.new_rs_annotations(undone, rs1, util.max_revision(old) + 1, exists=True)
    assert changed and ann[util.REVISION] == "3" and ann[util.REVISION_HISTORY] == "1"


def test_cleanup_respects_history_limit_and_skips_busy() -> None:
    d = make_deployment("web", 5, history=1)
    old = [rs_for(d, 0, image=f"nginx:{i}", revision=i) for i in (1, 2, 3)]
    busy = rs_for(d, 1, image="nginx:9", revision=0)
    got = util.rss_to_clean_up(d, [*old, busy])
    assert [util.revision(rs) for rs in got] == [1, 2]


# ---------------------------------------------------------------- rolling update
def test_new_rs_grows_within_surge() -> None:
    d = make_deployment("web", 5)                # surge 2, unavailable 1
    old = rs_for(d, 5, image="nginx:0")
    new = rs_for(d, 0)
    assert logic.new_rs_new_replicas(d, [old, new], new) == 2
    assert sizes([logic.reconcile_new_rs(d, [old, new], new)]) == {new.name: 2}  # type: ignore[list-item]
    full = rs_for(d, 2)
    assert logic.reconcile_new_rs(d, [rs_for(d, 5, image="x"), full], full) is None
    big = rs_for(d, 7)
    assert sizes([logic.reconcile_new_rs(d, [big], big)]) == {big.name: 5}  # type: ignore[list-item]
    recreate = make_deployment("web", 5, strategy={"type": "Recreate"})
    assert logic.new_rs_new_replicas(recreate, [old], None) == 5


def test_old_rs_scaled_down_only_within_max_unavailable() -> None:
    d = make_deployment("web", 5)                # minAvailable 4
    old = rs_for(d, 5, image="nginx:0")
    new = rs_for(d, 2, available=0)
    assert sizes(logic.reconcile_old_rss(d, [old, new], [old], new)) == {old.name: 4}
    new_ready = rs_for(d, 2, available=2)
    assert sizes(logic.reconcile_old_rss(d, [old, new_ready], [old], new_ready)) == {old.name: 2}


def test_unhealthy_old_replicas_go_first() -> None:
    d = make_deployment("web", 5)
    a = rs_for(d, 3, image="a", available=1, created="2026-01-01T00:00:01Z")
    b = rs_for(d, 2, image="b", available=2, created="2026-01-01T00:00:02Z")
    new = rs_for(d, 0)
    assert sizes(logic.reconcile_old_rss(d, [a, b, new], [a, b], new)) == {a.name: 2}


def test_stale_old_status_is_not_trusted_beyond_spec() -> None:
    d = make_deployment("web", 5)                # minAvailable 4
    old = rs_for(d, 2, image="nginx:0", available=5)    # just scaled 5 -> 2, status stale
    new = rs_for(d, 5, available=3)
    # spec+avail says 2 + 3 = 5 available: only 1 more may go, not 2
    assert sizes(logic.reconcile_old_rss(d, [old, new], [old], new)) == {old.name: 1}


# ---------------------------------------------------------------- recreate
def test_recreate_gates() -> None:
    d = make_deployment("web", 3, strategy={"type": "Recreate"})
    old = rs_for(d, 3, image="nginx:0")
    assert sizes(logic.recreate_scale_down([old])) == {old.name: 0}
    drained = rs_for(d, 0, image="nginx:0", available=0)
    pod = make_pod("p", {"app": "web"}, deleting=True)
    assert logic.old_pods_running(None, [drained], {drained.metadata.uid or "": [pod]})
    done = make_pod("q", {"app": "web"}, phase="Succeeded")
    assert not logic.old_pods_running(None, [drained], {drained.metadata.uid or "": [done]})


# ---------------------------------------------------------------- scaling
def test_scaling_event_detected_from_desired_annotation() -> None:
    d = make_deployment("web", 8)
    assert logic.is_scaling_event(d, [rs_for(d, 5, desired=5)])
    assert not logic.is_scaling_event(d, [rs_for(d, 8, desired=8), rs_for(d, 0, desired=3)])


def test_single_active_rs_takes_all_replicas() -> None:
    d = make_deployment("web", 50)
    rs = rs_for(d, 5, desired=5)
    assert sizes(logic.proportional_scale(d, rs, [rs_for(d, 0, image="old")])) == {rs.name: 50}


def test_saturated_new_rs_scales_old_to_zero() -> None:
    d = make_deployment("web", 5)
    new = rs_for(d, 5, desired=5)
    old = rs_for(d, 1, image="old")
    assert sizes(logic.proportional_scale(d, new, [old])) == {old.name: 0}


def test_proportional_scaling_mid_rollout() -> None:
    d = make_deployment("web", 20)               # surge 25% of 20 = 5: room for 25
    old = rs_for(d, 8, image="old", desired=10, max_replicas=13, created="2026-01-01T00:00:00Z")
    new = rs_for(d, 5, desired=10, max_replicas=13, available=0,
                 created="2026-01-01T00:01:00Z")
    got = sizes(logic.proportional_scale(d, new, [old]))
    assert got == {old.name: 15, new.name: 10}
    down = make_deployment("web", 5)             # room for 7: remove 6, larger first
    got = sizes(logic.proportional_scale(down, new, [old]))
    assert sum(got.values()) == 7 and got[old.name] == 4


# ---------------------------------------------------------------- status
def test_status_counts_and_available_condition() -> None:
    d = make_deployment("web", 5, generation=4)
    new = rs_for(d, 3, available=2)
    old = rs_for(d, 3, image="old", available=3)
    st = dstatus.calculate_status([old, new], new, d, NOW)
    assert (st.replicas, st.updated_replicas, st.ready_replicas, st.available_replicas,
            st.unavailable_replicas, st.observed_generation) == (6, 3, 5, 5, 1, 4)
    cond = dstatus.get_condition(st, dstatus.AVAILABLE)
    assert cond is not None and (cond.status, cond.reason) == ("True", dstatus.MIN_AVAILABLE)
    low = dstatus.calculate_status([rs_for(d, 5, available=2)], None, d, NOW)
    cond = dstatus.get_condition(low, dstatus.AVAILABLE)
    assert cond is not None and (cond.status, cond.reason) == ("False", dstatus.MIN_UNAVAILABLE)


def test_progressing_then_complete_then_timeout() -> None:
    d = make_deployment("web", 2, progress_deadline=60)
    new = rs_for(d, 2, available=1)
    st = dstatus.rollout_status([new], new, d, NOW)
    cond = dstatus.get_condition(st, dstatus.PROGRESSING)
    assert cond is not None and cond.reason == dstatus.RS_UPDATED
    assert cond.message == f'ReplicaSet "{new.name}" is progressing.'
    d2 = d.model_copy(update={"status": st})
    assert dstatus.stuck_requeue_after(d2, st, NOW) == 60.0
    later = datetime(2026, 1, 1, 0, 12, tzinfo=UTC)
    timed = dstatus.rollout_status([new], new, d2, later)
    cond = dstatus.get_condition(timed, dstatus.PROGRESSING)
    assert cond is not None and (cond.status, cond.reason) == ("False", dstatus.TIMED_OUT)
    done = rs_for(d, 2, available=2)
    st = dstatus.rollout_status([done], done, d2, NOW)
    cond = dstatus.get_condition(st, dstatus.PROGRESSING)
    assert cond is not None and (cond.status, cond.reason) == ("True", dstatus.NEW_RS_AVAILABLE)
    assert dstatus.stuck_requeue_after(d2, st, NOW) is None


def test_paused_and_resumed_conditions() -> None:
    d = make_deployment("web", 2, paused=True)
    st = dstatus.paused_status(d, NOW)
    assert st is not None
    cond = dstatus.get_condition(st, dstatus.PROGRESSING)
    assert cond is not None and cond.reason == dstatus.PAUSED
    assert dstatus.paused_status(d.model_copy(update={"status": st}), NOW) is None
    resumed = make_deployment("web", 2, status=st.to_dict())
    st2 = dstatus.paused_status(resumed, NOW)
    cond = dstatus.get_condition(st2, dstatus.PROGRESSING)
    assert cond is not None and cond.reason == dstatus.RESUMED


# ---------------------------------------------------------------- one sync, fake client
def _controller(*objs: Any) -> tuple[DeploymentController, FakeClient]:
    client = FakeClient()
    informers = fake_informers(client)
    ctrl = DeploymentController(client, informers, None, clock=lambda: NOW)  # type: ignore[arg-type]
    seed(informers, *objs)
    client.seed(*objs)
    return ctrl, client


async def test_sync_creates_first_replica_set_at_full_size() -> None:
    d = make_deployment("web", 5)
    ctrl, client = _controller(d)
    await ctrl.reconcile(d.key)
    created = [a[2] for a in client.verbs("create")]
    assert len(created) == 1 and created[0].name == f"web-{util.pod_template_hash(d)}"
    assert created[0].spec.replicas == 5 and util.revision(created[0]) == 1
    patches = client.verbs("patch")
    assert patches[0][2]["metadata"]["annotations"] == {util.REVISION: "1"}
    status = client.verbs("update_status")[-1][2].status
    cond = dstatus.get_condition(status, dstatus.PROGRESSING)
    assert cond is not None and cond.reason == dstatus.NEW_RS_CREATED


async def test_sync_new_template_surges_new_rs_first() -> None:
    d = make_deployment("web", 5, image="nginx:2")
    old = rs_for(d, 5, image="nginx:1", desired=5, max_replicas=7)
    ctrl, client = _controller(d, old)
    await ctrl.reconcile(d.key)
    created = [a[2] for a in client.verbs("create")]
    assert [rs.spec.replicas for rs in created] == [2]      # maxSurge 2
    updates = [a[2] for a in client.verbs("update")]        # maxUnavailable 1
    assert [(u.name, u.spec.replicas) for u in updates] == [(old.name, 4)]


async def test_sync_paused_deployment_only_scales() -> None:
    d = make_deployment("web", 8, image="nginx:2", paused=True)
    old = rs_for(d, 5, image="nginx:1", desired=5, max_replicas=7)
    ctrl, client = _controller(d, old)
    await ctrl.reconcile(d.key)
    assert client.verbs("create") == []
    updates = [a[2] for a in client.verbs("update")]
    assert [(u.name, u.spec.replicas) for u in updates] == [(old.name, 8)]
