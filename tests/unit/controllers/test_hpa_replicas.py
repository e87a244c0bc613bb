"""The HPA's replica calculator over plain pods and metrics (upstream's replica_calculator
cases: scale up and down, tolerance, unready and missing pods, requests)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from client.metrics import PodMetric, pod_metrics_from
from controllers.hpa_replicas import (ReplicaCalcError, Tolerances, average_value_replicas, group_pods,
                                      resource_replicas)

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
LONG_AGO = NOW - timedelta(hours=1)
WINDOW = timedelta(seconds=15)


def pod(name: str, cpu: str | None = "1", ready: bool = True, phase: str = "Running",
        started: datetime = LONG_AGO, transition: datetime | None = None, deleted: bool = False) -> dict[str, Any]:
    resources = {"requests": {"cpu": cpu}} if cpu is not None else {}
    meta: dict[str, Any] = {"name": name, "namespace": "default"}
    if deleted:
        meta["deletionTimestamp"] = "2026-01-01T11:59:00Z"
    return {"metadata": meta, "spec": {"containers": [{"name": "c", "image": "busybox", "resources": resources}]},
            "status": {"phase": phase, "startTime": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
                       "conditions": [{"type": "Ready", "status": "True" if ready else "False",
                                       "lastTransitionTime": (transition or started).strftime("%Y-%m-%dT%H:%M:%SZ")}]}}


def metrics(**usage: int) -> dict[str, PodMetric]:
    return {name: PodMetric(m, NOW - timedelta(seconds=5), WINDOW) for name, m in usage.items()}


def cpu(current: int, target: int, pods: list[dict[str, Any]], ms: dict[str, PodMetric]) -> tuple[int, int | None, int]:
    p = resource_replicas(current, target, "cpu", pods, ms, NOW)
    return p.replicas, p.utilization, p.raw_average


def test_scale_up_by_the_usage_ratio() -> None:
    pods = [pod("a"), pod("b"), pod("c")]
    # 300m + 500m + 700m of 3 cores = 50% against 30%: ceil(3 * 50/30) = 5
    assert cpu(3, 30, pods, metrics(a=300, b=500, c=700)) == (5, 50, 500)


def test_scale_down_by_the_usage_ratio() -> None:
    pods = [pod(n) for n in "abcde"]
    # 100m each of 1 core = 10% against 50%: ceil(5 * 0.2) = 1
    assert cpu(5, 50, pods, metrics(a=100, b=100, c=100, d=100, e=100)) == (1, 10, 100)


def test_within_tolerance_nothing_changes() -> None:
    pods = [pod("a"), pod("b")]
    assert cpu(2, 50, pods, metrics(a=540, b=540))[0] == 2        # 54%: ratio 1.08
    assert cpu(2, 50, pods, metrics(a=560, b=560))[0] == 3        # 56%: ratio 1.12
    tight = resource_replicas(2, 50, "cpu", pods, metrics(a=540, b=540), NOW, Tolerances(0.01, 0.01))
    assert tight.replicas == 3


def test_unready_pods_count_as_idle_on_a_scale_up() -> None:
    pods = [pod("a", ready=False, started=NOW - timedelta(seconds=20)), pod("b"), pod("c")]
    # ready b, c: 60% against 30%; with a at 0: 1200m of 3 cores = 40% -> ceil(3 * 4/3) = 4
    assert cpu(3, 30, pods, metrics(a=300, b=500, c=700)) == (4, 60, 600)


def test_unready_pods_that_would_reverse_the_scale_up_keep_the_count() -> None:
    young = NOW - timedelta(seconds=20)
    pods = [pod("a"), pod("b", ready=False, started=young), pod("c", ready=False, started=young)]
    # a alone: 40% against 30%; with b, c at 0: 13% -> a scale down: keep 3
    assert cpu(3, 30, pods, metrics(a=400, b=500, c=700)) == (3, 40, 400)


def test_missing_metrics_count_as_idle_on_a_scale_up() -> None:
    pods = [pod("a"), pod("b"), pod("c"), pod("d")]
    # a, b at 90% against 50%; c, d missing count as 0: 45% -> ratio 0.9, within tolerance
    assert cpu(4, 50, pods, metrics(a=900, b=900))[0] == 4
    # at 150%: with c, d at 0, 75% -> ceil(4 * 1.5) = 6
    assert cpu(4, 50, pods, metrics(a=1500, b=1500))[0] == 6


def test_missing_metrics_count_as_fully_used_on_a_scale_down() -> None:
    pods = [pod("a"), pod("b"), pod("c"), pod("d")]
    # a, b at 10% against 50%; c, d count as 100%: 55% -> ratio 1.1: no change of direction
    # beyond tolerance -> keep 4
    assert cpu(4, 50, pods, metrics(a=100, b=100))[0] == 4
    # against 80%: 55/80 = 0.6875 -> ceil(4 * 0.6875) = 3
    assert cpu(4, 80, pods, metrics(a=100, b=100))[0] == 3


def test_deleted_failed_and_pending_pods_are_left_out() -> None:
    pods = [pod("a"), pod("b", deleted=True), pod("c", phase="Failed"), pod("d", phase="Pending")]
    groups = group_pods(pods, metrics(a=500, b=500, c=500), "cpu", NOW)
    assert (groups.ready, groups.ignored, groups.unready, groups.missing) == (1, {"b", "c"}, {"d"}, set())


def test_cpu_readiness_rules() -> None:
    young = NOW - timedelta(minutes=1)
    pods = [pod("fresh", started=young, transition=NOW - timedelta(seconds=2)),   # sample before window
            pod("settled", started=young, transition=young),
            pod("never-ready", ready=False, started=LONG_AGO, transition=LONG_AGO + timedelta(seconds=10)),
            pod("was-ready", ready=False, started=LONG_AGO, transition=LONG_AGO + timedelta(minutes=10))]
    ms = metrics(**{"fresh": 100, "settled": 100, "never-ready": 100, "was-ready": 100})
    groups = group_pods(pods, ms, "cpu", NOW)
    assert groups.unready == {"fresh", "never-ready"}
    assert groups.ready == 2
    assert group_pods(pods, ms, "memory", NOW).ready == 4       # readiness matters for CPU only


def test_errors_say_what_is_missing() -> None:
    with pytest.raises(ReplicaCalcError, match="missing request for cpu in container c of Pod a"):
        resource_replicas(1, 50, "cpu", [pod("a", cpu=None)], metrics(a=100), NOW)
    with pytest.raises(ReplicaCalcError, match="no pods returned by selector"):
        resource_replicas(1, 50, "cpu", [], metrics(a=100), NOW)
    with pytest.raises(ReplicaCalcError, match="did not receive metrics for targeted pods"):
        resource_replicas(1, 50, "cpu", [pod("a", phase="Pending")], metrics(a=100), NOW)
    with pytest.raises(ReplicaCalcError, match="no metrics returned from resource metrics API"):
        resource_replicas(1, 50, "cpu", [pod("a")], {}, NOW)


def test_average_value_target() -> None:
    pods = [pod("a"), pod("b")]
    p = average_value_replicas(2, 200, "cpu", pods, metrics(a=400, b=400), NOW)
    assert (p.replicas, p.utilization, p.raw_average) == (4, None, 400)


def test_pod_metrics_from_the_metrics_api() -> None:
    items = [{"metadata": {"name": "a"}, "timestamp": "2026-01-01T11:59:55Z", "window": "10.5s",
              "containers": [{"name": "c", "usage": {"cpu": "250000001n", "memory": "10Mi"}},
                             {"name": "side", "usage": {"cpu": "5m", "memory": "1Mi"}}]},
             {"metadata": {"name": "b"}, "timestamp": "2026-01-01T11:59:55Z", "window": "10s", "containers": []}]
    got = pod_metrics_from(items, "cpu")
    assert list(got) == ["a"]
    assert got["a"].value == 256 and got["a"].window == timedelta(seconds=10.5)    # 250.000001m rounds up, + 5m
    assert pod_metrics_from(items, "cpu", "side")["a"].value == 5
    assert pod_metrics_from(items, "memory")["a"].value == 11 * 1024 * 1024 * 1000
