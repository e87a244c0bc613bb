"""Normalization of the HPA's proposal: stabilization windows, rate limits and min/max, with
and without spec.behavior (Kubernetes' defaults: up by 4 pods or 100% per 15 s, down after a
300 s window), and the conditions they set."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from controllers import hpa_behavior as b
from controllers.hpa import milli_quantity, set_condition

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def limited(n: b.Normalized) -> tuple[str, str]:
    c = n.conditions[1]
    assert c.type == "ScalingLimited"
    return c.status, c.reason


def able(n: b.Normalized) -> str:
    assert n.conditions[0].type == "AbleToScale"
    return n.conditions[0].reason


def test_default_behavior_scales_up_by_four_pods_or_double() -> None:
    n = b.normalize_with_behaviors(b.History(), 1, 10, 1, 10, {}, NOW)
    assert (n.replicas, limited(n)) == (5, ("True", "ScaleUpLimit"))       # 1 + 4 beats 1 * 2
    n = b.normalize_with_behaviors(b.History(), 6, 20, 1, 20, {}, NOW)
    assert n.replicas == 12                                                  # 6 * 2 beats 6 + 4
    n = b.normalize_with_behaviors(b.History(), 6, 20, 1, 8, {}, NOW)
    assert (n.replicas, limited(n)) == (8, ("True", "TooManyReplicas"))
    n = b.normalize_with_behaviors(b.History(), 2, 3, 1, 8, {}, NOW)
    assert (n.replicas, limited(n), able(n)) == (3, ("False", "DesiredWithinRange"), "ReadyForNewScale")


def test_scale_up_events_of_the_period_count_against_the_limit() -> None:
    h = b.History()
    b.store_scale_event(h, {}, 1, 5, NOW - timedelta(seconds=10))
    # the period started at 1 replica: at most 5 until those 15 s pass
    assert b.normalize_with_behaviors(h, 5, 10, 1, 10, {}, NOW).replicas == 5
    assert b.normalize_with_behaviors(h, 5, 10, 1, 10, {}, NOW + timedelta(seconds=6)).replicas == 10


def test_default_downscale_waits_for_the_stabilization_window() -> None:
    h = b.History()
    assert b.normalize_with_behaviors(h, 4, 4, 1, 10, {}, NOW).replicas == 4
    n = b.normalize_with_behaviors(h, 4, 1, 1, 10, {}, NOW + timedelta(seconds=60))
    assert (n.replicas, able(n)) == (4, "ScaleDownStabilized")              # 4 was recommended 60 s ago
    n = b.normalize_with_behaviors(h, 4, 1, 1, 10, {}, NOW + timedelta(seconds=301))
    assert n.replicas == 1


def test_a_short_window_and_a_pods_policy() -> None:
    behavior = {"scaleDown": {"stabilizationWindowSeconds": 5,
                              "policies": [{"type": "Pods", "value": 1, "periodSeconds": 60}]}}
    h = b.History()
    b.normalize_with_behaviors(h, 4, 4, 1, 10, behavior, NOW)
    n = b.normalize_with_behaviors(h, 4, 1, 1, 10, behavior, NOW + timedelta(seconds=6))
    assert (n.replicas, limited(n)) == (3, ("True", "ScaleDownLimit"))
    b.store_scale_event(h, behavior, 4, 3, NOW + timedelta(seconds=6))
    assert b.normalize_with_behaviors(h, 3, 1, 1, 10, behavior, NOW + timedelta(seconds=30)).replicas == 3
    assert b.normalize_with_behaviors(h, 3, 1, 1, 10, behavior, NOW + timedelta(seconds=70)).replicas == 2


def test_min_and_disabled_select_policies() -> None:
    up = {"scaleUp": {"selectPolicy": "Min"}}
    assert b.normalize_with_behaviors(b.History(), 6, 20, 1, 20, up, NOW).replicas == 10     # 6 + 4
    off = {"scaleDown": {"selectPolicy": "Disabled", "stabilizationWindowSeconds": 0}}
    assert b.normalize_with_behaviors(b.History(), 6, 1, 1, 20, off, NOW).replicas == 6


def test_min_replicas_bounds_a_scale_down() -> None:
    behavior = {"scaleDown": {"stabilizationWindowSeconds": 0}}
    n = b.normalize_with_behaviors(b.History(), 5, 1, 2, 10, behavior, NOW)
    assert (n.replicas, limited(n)) == (2, ("True", "TooFewReplicas"))


def test_without_behavior_the_legacy_rules() -> None:
    h = b.History()
    n = b.normalize(h, 1, 10, 1, 10, NOW)
    assert (n.replicas, limited(n)) == (4, ("True", "ScaleUpLimit"))        # max(2 * 1, 4)
    n = b.normalize(h, 4, 2, 1, 10, NOW + timedelta(seconds=100))
    # 10 was recommended 100 s ago: the window keeps it, the rate (2 * 4) bounds it
    assert (n.replicas, able(n), limited(n)) == (8, "ScaleDownStabilized", ("True", "ScaleUpLimit"))
    assert b.normalize(h, 4, 2, 1, 10, NOW + timedelta(seconds=400)).replicas == 2
    n = b.normalize(b.History(), 3, 0, 1, 10, NOW)
    assert (n.replicas, limited(n)) == (1, ("True", "TooFewReplicas"))


def test_conditions_keep_their_transition_time_while_unchanged() -> None:
    status: dict = {}
    set_condition(status, "AbleToScale", "True", "SucceededGetScale", "m", NOW)
    set_condition(status, "AbleToScale", "True", "ReadyForNewScale", "m2", NOW + timedelta(seconds=5))
    assert status["conditions"] == [{"type": "AbleToScale", "status": "True", "lastTransitionTime": "2026-01-01T12:00:00Z",
                                     "reason": "ReadyForNewScale", "message": "m2"}]
    set_condition(status, "AbleToScale", "False", "FailedGetScale", "m3", NOW + timedelta(seconds=5))
    assert status["conditions"][0]["lastTransitionTime"] == "2026-01-01T12:00:05Z"


def test_metric_values_print_as_kubernetes_quantities() -> None:
    assert [milli_quantity(m) for m in (450, 1000, 1500, 2_000_000, 10485760000)] == \
        ["450m", "1", "1500m", "2k", "10485760"]
