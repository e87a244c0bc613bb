"""api.meta: timestamps, owner references, conditions, pod readiness, template hash."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from api.meta import (
    compute_hash,
    controller_ref,
    fnv32a,
    get_condition,
    is_pod_available,
    is_pod_ready,
    new_controller_ref,
    now_rfc3339,
    parse_rfc3339,
    safe_encode,
    set_condition,
)
from api.models import Deployment, Pod, ReplicaSet
from api.models.apps import DeploymentStatus
from api.models.core import PodCondition, PodStatus

T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_now_rfc3339_format_and_utc() -> None:
    assert now_rfc3339(T0) == "2026-01-02T03:04:05Z"
    plus2 = datetime(2026, 1, 2, 5, 4, 5, 999, tzinfo=timezone(timedelta(hours=2)))
    assert now_rfc3339(plus2) == "2026-01-02T03:04:05Z"
    assert now_rfc3339().endswith("Z") and len(now_rfc3339()) == 20


def test_parse_rfc3339_round_trip() -> None:
    assert parse_rfc3339("2026-01-02T03:04:05Z") == T0
    assert parse_rfc3339("2026-01-02T05:04:05+02:00") == T0
    assert parse_rfc3339(now_rfc3339(T0)) == T0


def _deployment() -> Deployment:
    return Deployment.from_dict({"metadata": {"name": "web", "namespace": "default", "uid": "u-1"}})


def test_new_controller_ref_from_model_and_dict() -> None:
    ref = new_controller_ref(_deployment())
    assert ref.to_dict() == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web",
                             "uid": "u-1", "controller": True, "blockOwnerDeletion": True}
    as_dict = new_controller_ref({"apiVersion": "apps/v1", "kind": "ReplicaSet",
                                  "metadata": {"name": "rs", "uid": "u-2"}})
    assert as_dict.kind == "ReplicaSet" and as_dict.uid == "u-2" and as_dict.controller


def test_new_controller_ref_needs_uid() -> None:
    with pytest.raises(ValueError, match="uid"):
        new_controller_ref({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"}})


def test_controller_ref_finds_the_controller() -> None:
    owner = new_controller_ref(_deployment())
    rs = ReplicaSet.from_dict({"metadata": {"name": "rs", "ownerReferences": [
        {"apiVersion": "v1", "kind": "Other", "name": "o", "uid": "x"}, owner.to_dict()]}})
    assert controller_ref(rs) == owner
    assert controller_ref(rs.to_dict()) == owner
    assert controller_ref(Pod.from_dict({"metadata": {"name": "p"}})) is None
    assert controller_ref({"metadata": {}}) is None


def test_get_condition_on_models_dicts_and_lists() -> None:
    status = PodStatus(conditions=[PodCondition(type="Ready", status="True")])
    assert get_condition(status, "Ready").status == "True"
    assert get_condition(status, "Missing") is None
    status = {"conditions": [{"type": "A", "status": "False"}]}
    assert get_condition(status, "A")["status"] == "False"
    assert get_condition([{"type": "A"}], "A") == {"type": "A"}
    assert get_condition(None, "A") is None


def test_set_condition_keeps_transition_time_when_status_unchanged() -> None:
    status: dict = {}
    assert set_condition(status, {"type": "Available", "status": "True"}, now=T0)
    first = status["conditions"][0]
    assert first["lastTransitionTime"] == "2026-01-02T03:04:05Z"
    later = T0 + timedelta(minutes=5)
    assert set_condition(status, {"type": "Available", "status": "True", "reason": "X"}, now=later)
    assert status["conditions"][0]["lastTransitionTime"] == "2026-01-02T03:04:05Z"
    assert status["conditions"][0]["reason"] == "X"
    assert not set_condition(status, {"type": "Available", "status": "True", "reason": "X"},
                             now=later)
    assert set_condition(status, {"type": "Available", "status": "False"}, now=later)
    assert status["conditions"][0]["lastTransitionTime"] == now_rfc3339(later)
    assert len(status["conditions"]) == 1


def test_set_condition_on_model_status_keeps_position_and_type() -> None:
    status = DeploymentStatus()
    set_condition(status, {"type": "Progressing", "status": "True"}, now=T0)
    set_condition(status, {"type": "Available", "status": "False"}, now=T0)
    set_condition(status, {"type": "Progressing", "status": "False", "reason": "Stuck"}, now=T0)
    assert [c.type for c in status.conditions] == ["Progressing", "Available"]
    assert status.conditions[0].reason == "Stuck"
    assert status.to_dict()["conditions"][0]["lastTransitionTime"] == "2026-01-02T03:04:05Z"


def _pod(ready: str | None, since: str | None = None) -> Pod:
    conds = [] if ready is None else [{"type": "Ready", "status": ready,
                                       "lastTransitionTime": since}]
    return Pod.from_dict({"metadata": {"name": "p"}, "status": {"conditions": conds}})


def test_is_pod_ready() -> None:
    assert is_pod_ready(_pod("True"))
    assert not is_pod_ready(_pod("False"))
    assert not is_pod_ready(_pod(None))
    assert not is_pod_ready(Pod.from_dict({"metadata": {"name": "p"}}))
    assert is_pod_ready({"status": {"conditions": [{"type": "Ready", "status": "True"}]}})


def test_is_pod_available_respects_min_ready_seconds() -> None:
    pod = _pod("True", "2026-01-02T03:04:05Z")
    assert is_pod_available(pod, 0, T0)
    assert not is_pod_available(pod, 10, T0 + timedelta(seconds=10))
    assert is_pod_available(pod, 10, T0 + timedelta(seconds=11))
    assert is_pod_available(pod, 10, "2026-01-02T03:05:00Z")
    assert not is_pod_available(_pod("False", "2026-01-01T00:00:00Z"), 0, T0)
    assert not is_pod_available(_pod("True", None), 5, T0)


def test_fnv32a_and_safe_encode_match_kubernetes() -> None:
    assert fnv32a(b"") == 0x811C9DC5
    assert fnv32a(b"a") == 0xE40C292C
    assert safe_encode("0123456789") == "456789bcdf"


def test_compute_hash_is_stable_and_sensitive() -> None:
    template = {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "c", "image": "nginx:1"}]}}
    reordered = {"spec": {"containers": [{"image": "nginx:1", "name": "c"}]},
                 "metadata": {"labels": {"app": "web"}}}
    h = compute_hash(template)
    assert h == compute_hash(reordered)
    assert set(h) <= set("bcdfghjklmnpqrstvwxz2456789") and 1 <= len(h) <= 10
    changed = {**template, "spec": {"containers": [{"name": "c", "image": "nginx:2"}]}}
    assert compute_hash(changed) != h
    assert compute_hash(template, collision_count=1) != h
    assert compute_hash(template, collision_count=1) == compute_hash(template, collision_count=1)
