"""Pure taint rules: condition taints, toleration matching, eviction times."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from api.models.core import Taint, Toleration
from controllers.taints import (NOT_READY, UNREACHABLE, condition_taints, eviction_time,
                                min_toleration_seconds, reconcile_taints, tolerates)

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def taint(key: str = UNREACHABLE, effect: str = "NoExecute", added: str | None = None,
          value: str | None = None) -> Taint:
    return Taint(key=key, effect=effect, time_added=added, value=value)


def tol(key: str | None = UNREACHABLE, op: str | None = "Exists", effect: str | None = "NoExecute",
        seconds: int | None = None, value: str | None = None) -> Toleration:
    return Toleration(key=key, operator=op, effect=effect, toleration_seconds=seconds, value=value)


def test_condition_taints() -> None:
    assert condition_taints("True") == set() and condition_taints(None) == set()
    assert condition_taints("False") == {(NOT_READY, "NoExecute"), (NOT_READY, "NoSchedule")}
    assert condition_taints("Unknown") == {(UNREACHABLE, "NoExecute"), (UNREACHABLE, "NoSchedule")}


def test_reconcile_taints_keeps_other_taints_and_stamps_no_execute() -> None:
    other = Taint(key="dedicated", value="gpu", effect="NoSchedule")
    out = reconcile_taints([other, taint(NOT_READY)], condition_taints("Unknown"), T0)
    assert out is not None
    assert [(t.key, t.effect) for t in out] == [
        ("dedicated", "NoSchedule"), (UNREACHABLE, "NoExecute"), (UNREACHABLE, "NoSchedule")]
    assert out[1].time_added == "2026-01-01T00:00:00Z" and out[2].time_added is None
    assert reconcile_taints(out, condition_taints("Unknown")) is None
    assert reconcile_taints(out, set()) == [other]


def test_tolerates() -> None:
    t = taint(value="x")
    assert tolerates(tol(), t)
    assert tolerates(Toleration(operator="Exists"), t)                # wildcard
    assert not tolerates(tol(effect="NoSchedule"), t)
    assert tolerates(tol(op="Equal", value="x"), t)
    assert not tolerates(tol(op="Equal", value="y"), t)
    assert not tolerates(tol(key="other"), t)
    assert tolerates(tol(effect=None), t)


def test_min_toleration_seconds() -> None:
    assert min_toleration_seconds([]) == 0
    assert min_toleration_seconds([tol()]) is None
    assert min_toleration_seconds([tol(seconds=300), tol(seconds=30)]) == 30
    assert min_toleration_seconds([tol(seconds=0)]) == 0


def test_eviction_time() -> None:
    added = "2026-01-01T00:00:10Z"
    start = T0 + timedelta(seconds=10)
    assert eviction_time([taint(effect="NoSchedule")], [], T0) is None
    assert eviction_time([taint(added=added)], [], T0 + timedelta(hours=1)) == start
    assert eviction_time([taint(added=added)], [tol(seconds=300)], T0) == start + timedelta(seconds=300)
    assert eviction_time([taint(added=added)], [tol()], T0) is None
    assert eviction_time([taint(added=added)], [tol(seconds=300)], T0, cap_seconds=5) == \
        start + timedelta(seconds=5)
    assert eviction_time([taint()], [tol(seconds=3)], T0) == T0 + timedelta(seconds=3)
