"""The HPA's replica calculator (pkg/controller/podautoscaler/replica_calculator.go), pure.

Given the pods a scale target selects, their resource metrics (milli-units, as the metrics
API's usage `MilliValue()`), the current replica count and a target, answer the replica
count a metric proposes:

- `group_pods` sorts pods the way upstream does: deleted and Failed pods are ignored;
  Pending pods count as unready; pods without a metric are missing; for CPU a pod is
  unready while it has no Ready condition or start time, or, within the CPU
  initialization period (5 min) of its start, while it is not Ready or its sample
  predates one metric window after its last readiness change, or (later) when it is not
  Ready and never was (it turned unready within 30 s of starting);
- `resource_replicas` (a Utilization target: usage summed over requests) and
  `average_value_replicas` (an AverageValue target) compute the usage ratio over ready
  pods with metrics. Within the tolerance (0.1 unless a behavior says otherwise) nothing
  changes. When pods are missing metrics they count as using 100% (or the target, if
  higher) on a scale down and 0% on a scale up; unready pods count as 0% on a scale up;
  the ratio is recomputed and the count stays when that would flip the direction of
  the change.

Errors (`ReplicaCalcError`) carry upstream's messages; the controller turns them into the
ScalingActive=False condition and a Warning event.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from api.quantity import cpu_millis
from client.metrics import PodMetric

Obj = dict[str, Any]
CPU_INITIALIZATION_PERIOD = timedelta(minutes=5)
DELAY_OF_INITIAL_READINESS_STATUS = timedelta(seconds=30)
DEFAULT_TOLERANCE = 0.1


class ReplicaCalcError(Exception):
    pass


@dataclass(frozen=True)
class Tolerances:
    scale_down: float = DEFAULT_TOLERANCE
    scale_up: float = DEFAULT_TOLERANCE

    def within(self, ratio: float) -> bool:
        return 1.0 - self.scale_down <= ratio <= 1.0 + self.scale_up


@dataclass(frozen=True)
class Proposal:
    replicas: int
    utilization: int | None         # percent of requests (Utilization targets)
    raw_average: int                # milli-units per pod
    timestamp: datetime | None


@dataclass
class PodGroups:
    ready: int
    unready: set[str]
    missing: set[str]
    ignored: set[str]


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _ready_condition(pod: Obj) -> Obj | None:
    for c in (pod.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Ready":
            return c
    return None


def group_pods(pods: list[Obj], metrics: dict[str, PodMetric], resource: str, now: datetime,
               cpu_initialization_period: timedelta = CPU_INITIALIZATION_PERIOD,
               delay_of_initial_readiness: timedelta = DELAY_OF_INITIAL_READINESS_STATUS) -> PodGroups:
    groups = PodGroups(0, set(), set(), set())
    for pod in pods:
        name, status = pod["metadata"]["name"], pod.get("status") or {}
        if pod["metadata"].get("deletionTimestamp") or status.get("phase") == "Failed":
            groups.ignored.add(name)
            continue
        if status.get("phase") == "Pending":
            groups.unready.add(name)
            continue
        metric = metrics.get(name)
        if metric is None:
            groups.missing.add(name)
            continue
        if resource == "cpu":
            cond, start = _ready_condition(pod), _parse_time(status.get("startTime"))
            if cond is None or start is None:
                unready = True
            else:
                changed = _parse_time(cond.get("lastTransitionTime")) or start
                if start + cpu_initialization_period > now:
                    unready = cond.get("status") == "False" or metric.timestamp < changed + metric.window
                else:
                    unready = cond.get("status") == "False" and start + delay_of_initial_readiness > changed
            if unready:
                groups.unready.add(name)
                continue
        groups.ready += 1
    return groups


def _container_request(container: Obj, resource: str) -> int | None:
    requests = ((container.get("resources") or {}).get("requests") or {})
    if resource not in requests:
        return None
    return cpu_millis(requests[resource])          # milli-units of any resource


def pod_requests(pods: list[Obj], resource: str, container: str | None = None) -> dict[str, int]:
    """Each pod's request of `resource` in milli-units (one container's when `container`
    is named); a container without one fails the calculation, as upstream."""
    out: dict[str, int] = {}
    for pod in pods:
        spec, total = pod.get("spec") or {}, 0
        containers = list(spec.get("containers") or [])
        containers += [c for c in spec.get("initContainers") or [] if c.get("restartPolicy") == "Always"]
        for c in containers:
            if container and c.get("name") != container:
                continue
            req = _container_request(c, resource)
            if req is None:
                if container:
                    continue
                raise ReplicaCalcError(f"missing request for {resource} in container {c.get('name')} "
                                       f"of Pod {pod['metadata']['name']}")
            total += req
        out[pod["metadata"]["name"]] = total
    return out


def utilization_ratio(metrics: dict[str, PodMetric], requests: dict[str, int],
                      target_utilization: int) -> tuple[float, int, int]:
    """GetResourceUtilizationRatio: (ratio to target, utilization %, average usage)."""
    used = requested = entries = 0
    for name, metric in metrics.items():
        if name not in requests:
            continue
        used += metric.value
        requested += requests[name]
        entries += 1
    if requested == 0:
        raise ReplicaCalcError("no metrics returned matched known pods")
    utilization = used * 100 // requested
    return utilization / target_utilization, utilization, used // entries


def usage_ratio(metrics: dict[str, PodMetric], target_usage: int) -> tuple[float, int]:
    """GetMetricUsageRatio: (ratio of the average to the target, the average)."""
    average = sum(m.value for m in metrics.values()) // len(metrics)
    return average / target_usage, average


def _replicas(current: int, groups: PodGroups, metrics: dict[str, PodMetric],
              ratio_of: Callable[[dict[str, PodMetric]], float], missing_value: Callable[[str], int],
              tolerances: Tolerances) -> int:
    ratio = ratio_of(metrics)
    scale_up_with_unready = bool(groups.unready) and ratio > 1.0
    if not scale_up_with_unready and not groups.missing:
        return current if tolerances.within(ratio) else math.ceil(ratio * groups.ready)
    metrics = dict(metrics)
    if groups.missing:
        for name in groups.missing:
            if ratio < 1.0:
                metrics[name] = PodMetric(missing_value(name), datetime.min, timedelta())
            elif ratio > 1.0:
                metrics[name] = PodMetric(0, datetime.min, timedelta())
    if scale_up_with_unready:
        for name in groups.unready:
            metrics[name] = PodMetric(0, datetime.min, timedelta())
    new_ratio = ratio_of(metrics)
    if tolerances.within(new_ratio) or (ratio < 1.0 < new_ratio) or (ratio > 1.0 > new_ratio):
        return current
    replicas = math.ceil(new_ratio * len(metrics))
    if (new_ratio < 1.0 and replicas > current) or (new_ratio > 1.0 and replicas < current):
        return current
    return replicas


def _usable(pods: list[Obj], metrics: dict[str, PodMetric], resource: str,
            now: datetime) -> tuple[PodGroups, dict[str, PodMetric]]:
    if not metrics:
        raise ReplicaCalcError(f"unable to get metrics for resource {resource}: "
                               "no metrics returned from resource metrics API")
    if not pods:
        raise ReplicaCalcError("no pods returned by selector while calculating replica count")
    groups = group_pods(pods, metrics, resource, now)
    usable = {n: m for n, m in metrics.items() if n not in groups.ignored and n not in groups.unready}
    if not usable:
        raise ReplicaCalcError("did not receive metrics for targeted pods (pods might be unready)")
    return groups, usable


def _timestamp(metrics: dict[str, PodMetric]) -> datetime | None:
    return next(iter(metrics.values())).timestamp if metrics else None


def resource_replicas(current: int, target_utilization: int, resource: str, pods: list[Obj],
                      metrics: dict[str, PodMetric], now: datetime,
                      tolerances: Tolerances = Tolerances(), container: str | None = None) -> Proposal:
    """GetResourceReplicas: a Utilization target (percent of the pods' requests)."""
    groups, usable = _usable(pods, metrics, resource, now)
    requests = pod_requests(pods, resource, container)
    _, utilization, raw = utilization_ratio(usable, requests, target_utilization)
    fallback = max(100, target_utilization)
    replicas = _replicas(current, groups, usable,
                         lambda ms: utilization_ratio(ms, requests, target_utilization)[0],
                         lambda name: requests.get(name, 0) * fallback // 100, tolerances)
    return Proposal(replicas, utilization, raw, _timestamp(metrics))


def average_value_replicas(current: int, target_average: int, resource: str, pods: list[Obj],
                           metrics: dict[str, PodMetric], now: datetime,
                           tolerances: Tolerances = Tolerances()) -> Proposal:
    """GetRawResourceReplicas: an AverageValue target (milli-units per pod)."""
    groups, usable = _usable(pods, metrics, resource, now)
    _, average = usage_ratio(usable, target_average)
    replicas = _replicas(current, groups, usable, lambda ms: usage_ratio(ms, target_average)[0],
                         lambda name: target_average, tolerances)
    return Proposal(replicas, None, average, _timestamp(metrics))
