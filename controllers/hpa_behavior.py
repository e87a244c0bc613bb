"""The HPA's normalization of a proposed replica count (pkg/controller/podautoscaler/
horizontal.go: normalizeDesiredReplicas[WithBehaviors]), pure.

The controller keeps, per autoscaler, its recent recommendations and its recent scale
events in memory (as Kubernetes does) and passes them in with the clock; these functions
answer the count to apply, the new history and the AbleToScale / ScalingLimited
conditions to set:

- Without spec.behavior: the highest recommendation of the downscale stabilization window
  (300 s) wins, then the count is clamped to [minReplicas, maxReplicas] and to at most
  max(2 * current, 4) (`ScaleUpLimit`).
- With spec.behavior (defaulted by api.defaults_autoscaling): recommendations are bounded
  by the lowest one of the scale-up window and the highest of the scale-down window, then
  the rate is limited by the policies of each direction over their periods (the replica
  changes of the last `periodSeconds` subtracted: Pods adds `value` pods, Percent grows by
  `value`%), choosing the largest change (Max), the smallest (Min), or none (Disabled).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from api.defaults_autoscaling import scale_down_rules, scale_up_rules

Obj = dict[str, Any]
DOWNSCALE_STABILIZATION_WINDOW = timedelta(minutes=5)


@dataclass(frozen=True)
class Recommendation:
    replicas: int
    at: datetime


@dataclass(frozen=True)
class ScaleEvent:
    change: int            # replicas added (scale up) or removed (scale down), positive
    at: datetime


@dataclass(frozen=True)
class Condition:
    type: str
    status: str
    reason: str
    message: str


@dataclass
class History:
    """What the controller remembers of one autoscaler between syncs."""

    recommendations: list[Recommendation] = field(default_factory=list)
    scale_up_events: list[ScaleEvent] = field(default_factory=list)
    scale_down_events: list[ScaleEvent] = field(default_factory=list)


@dataclass(frozen=True)
class Normalized:
    replicas: int
    conditions: tuple[Condition, ...]


def _able(reason: str, message: str) -> Condition:
    return Condition("AbleToScale", "True", reason, message)


def _limited(limited: bool, reason: str, message: str) -> Condition:
    return Condition("ScalingLimited", "True" if limited else "False", reason, message)


def _record(history: History, desired: int, now: datetime, old_before: datetime) -> None:
    """Replace one sample older than every window, or append (upstream reuses one slot)."""
    for i, rec in enumerate(history.recommendations):
        if rec.at < old_before:
            history.recommendations[i] = Recommendation(desired, now)
            return
    history.recommendations.append(Recommendation(desired, now))


# ---------------------------------------------------------------- without spec.behavior
def normalize(history: History, current: int, desired: int, min_replicas: int, max_replicas: int,
              now: datetime, window: timedelta = DOWNSCALE_STABILIZATION_WINDOW) -> Normalized:
    cutoff = now - window
    stabilized = max([desired, *(r.replicas for r in history.recommendations if r.at >= cutoff)])
    _record(history, desired, now, cutoff)
    able = (_able("ScaleDownStabilized", "recent recommendations were higher than current one, "
                  "applying the highest recent recommendation") if stabilized != desired
            else _able("ReadyForNewScale", "recommended size matches current size"))
    replicas, reason, message = convert_with_rules(current, stabilized, min_replicas, max_replicas)
    return Normalized(replicas, (able, _limited(replicas != stabilized, reason, message)))


def convert_with_rules(current: int, desired: int, min_replicas: int, max_replicas: int) -> tuple[int, str, str]:
    scale_up_limit = max(2 * current, 4)
    if max_replicas > scale_up_limit:
        maximum, reason, message = scale_up_limit, "ScaleUpLimit", \
            "the desired replica count is increasing faster than the maximum scale rate"
    else:
        maximum, reason, message = max_replicas, "TooManyReplicas", \
            "the desired replica count is more than the maximum replica count"
    if desired < min_replicas:
        return min_replicas, "TooFewReplicas", "the desired replica count is less than the minimum replica count"
    if desired > maximum:
        return maximum, reason, message
    return desired, "DesiredWithinRange", "the desired count is within the acceptable range"


# ---------------------------------------------------------------- with spec.behavior
def _changes(events: list[ScaleEvent], period_seconds: int, now: datetime) -> int:
    cutoff = now - timedelta(seconds=period_seconds)
    return sum(e.change for e in events if e.at > cutoff)


def scale_up_limit(current: int, history: History, rules: Obj, now: datetime) -> int:
    select = rules.get("selectPolicy") or "Max"
    if select == "Disabled":
        return current
    proposals = []
    for p in rules.get("policies") or []:
        start = current - _changes(history.scale_up_events, p["periodSeconds"], now) + \
            _changes(history.scale_down_events, p["periodSeconds"], now)
        if p["type"] == "Pods":
            proposals.append(start + p["value"])
        else:
            proposals.append(math.ceil(start * (1 + p["value"] / 100)))
    if not proposals:
        return current
    return min(proposals) if select == "Min" else max(proposals)


def scale_down_limit(current: int, history: History, rules: Obj, now: datetime) -> int:
    select = rules.get("selectPolicy") or "Max"
    if select == "Disabled":
        return current
    proposals = []
    for p in rules.get("policies") or []:
        start = current - _changes(history.scale_up_events, p["periodSeconds"], now) + \
            _changes(history.scale_down_events, p["periodSeconds"], now)
        if p["type"] == "Pods":
            proposals.append(start - p["value"])
        else:
            proposals.append(int(start * (1 - p["value"] / 100)))
    if not proposals:
        return current
    return max(proposals) if select == "Min" else min(proposals)


def stabilize_with_behaviors(history: History, current: int, desired: int, up: Obj, down: Obj,
                             now: datetime) -> tuple[int, str, str]:
    up_cutoff = now - timedelta(seconds=up.get("stabilizationWindowSeconds") or 0)
    down_cutoff = now - timedelta(seconds=down.get("stabilizationWindowSeconds") or 0)
    up_rec = min([desired, *(r.replicas for r in history.recommendations if r.at > up_cutoff)])
    down_rec = max([desired, *(r.replicas for r in history.recommendations if r.at > down_cutoff)])
    recommendation = min(max(current, up_rec), down_rec)
    _record(history, desired, now, min(up_cutoff, down_cutoff))
    if desired >= current:
        return recommendation, "ScaleUpStabilized", ("recent recommendations were lower than current one, "
                                                     "applying the lowest recent recommendation")
    return recommendation, "ScaleDownStabilized", ("recent recommendations were higher than current one, "
                                                   "applying the highest recent recommendation")


def behavior_rules(behavior: Obj | None, window: timedelta = DOWNSCALE_STABILIZATION_WINDOW) -> tuple[Obj, Obj]:
    """The scale-up and scale-down rules of a behavior, every field filled; the scale-down
    window comes from the controller's flag when the object leaves it out."""
    behavior = behavior or {}
    up, down = scale_up_rules(behavior.get("scaleUp")), scale_down_rules(behavior.get("scaleDown"))
    if down.get("stabilizationWindowSeconds") is None:
        down["stabilizationWindowSeconds"] = int(window.total_seconds())
    return up, down


def normalize_with_behaviors(history: History, current: int, desired: int, min_replicas: int,
                             max_replicas: int, behavior: Obj | None, now: datetime,
                             window: timedelta = DOWNSCALE_STABILIZATION_WINDOW) -> Normalized:
    up, down = behavior_rules(behavior, window)
    stabilized, reason, message = stabilize_with_behaviors(history, current, desired, up, down, now)
    able = _able(reason, message) if stabilized != desired else \
        _able("ReadyForNewScale", "recommended size matches current size")
    replicas, reason, message = stabilized, "DesiredWithinRange", "the desired count is within the acceptable range"
    if stabilized > current:
        limit = max(scale_up_limit(current, history, up, now), current)
        if max_replicas > limit:
            maximum, why, text = limit, "ScaleUpLimit", \
                "the desired replica count is increasing faster than the maximum scale rate"
        else:
            maximum, why, text = max_replicas, "TooManyReplicas", \
                "the desired replica count is more than the maximum replica count"
        if stabilized > maximum:
            replicas, reason, message = maximum, why, text
    elif stabilized < current:
        limit = min(scale_down_limit(current, history, down, now), current)
        if min_replicas < limit:
            minimum, why, text = limit, "ScaleDownLimit", \
                "the desired replica count is decreasing faster than the maximum scale rate"
        else:
            minimum, why, text = min_replicas, "TooFewReplicas", \
                "the desired replica count is less than the minimum replica count"
        if stabilized < minimum:
            replicas, reason, message = minimum, why, text
    return Normalized(replicas, (able, _limited(replicas != stabilized, reason, message)))


def store_scale_event(history: History, behavior: Obj | None, previous: int, new: int, now: datetime) -> None:
    """Remember a rescale for the rate limits; events older than the longest policy
    period of their direction are dropped."""
    if behavior is None:
        return
    up, down = behavior_rules(behavior)
    if new > previous:
        events, rules = history.scale_up_events, up
        events.append(ScaleEvent(new - previous, now))
    else:
        events, rules = history.scale_down_events, down
        events.append(ScaleEvent(previous - new, now))
    longest = max([p["periodSeconds"] for p in rules.get("policies") or []] or [0])
    events[:] = [e for e in events if e.at > now - timedelta(seconds=longest)]
