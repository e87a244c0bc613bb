"""The horizontal pod autoscaler controller (pkg/controller/podautoscaler/horizontal.go).

Owns the I/O around controllers.hpa_replicas and controllers.hpa_behavior. Every
HorizontalPodAutoscaler is synced when it changes and again every `sync_period` (15 s,
--horizontal-pod-autoscaler-sync-period). One sync:

1. reads the target's `scale` subresource (the kind named by spec.scaleTargetRef):
   AbleToScale=False/FailedGetScale when it cannot;
2. outside [minReplicas, maxReplicas] the count is brought inside; a target scaled to 0
   is left alone (ScalingActive=False/ScalingDisabled); otherwise each metric proposes a
   count (Resource and ContainerResource metrics from metrics.k8s.io through
   client.metrics, against the requests of the pods the scale's selector picks, from the
   shared pod cache) and the largest wins; a metric that fails sets
   ScalingActive=False with its reason and a Warning event; no scale down happens while
   some metric is failing;
3. the proposal is normalized (stabilization windows, rate limits, min/max:
   ScalingLimited) with the history this controller keeps in memory per autoscaler;
4. a changed count is written to the scale subresource (event SuccessfulRescale
   `New size: N; reason: ...`, status.lastScaleTime), and the status (currentReplicas,
   desiredReplicas, currentMetrics, conditions, observedGeneration) is written when it
   changed.

Pods, Object and External metrics need a custom or external metrics API, which pykube
does not serve: they fail with FailedGetPodsMetric / FailedGetObjectMetric /
FailedGetExternalMetric, as they would on a cluster without such an adapter.
"""
from __future__ import annotations

import copy
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from api.meta import now_rfc3339
from api.models import HorizontalPodAutoscaler, Pod
from api.quantity import cpu_millis, format_quantity, parse_quantity
from api.resources import UnknownResourceError, by_kind
from api.selectors import parse_label_selector
from client.errors import ApiError, ConnectionFailed, NotFound
from client.events import EventRecorder
from client.metrics import MetricsUnavailable, PodMetric, pod_resource_metrics
from client.rest import Client
from controllers import hpa_behavior as behavior
from controllers import hpa_replicas as calc
from controllers.base import Controller, SharedInformers

log = logging.getLogger(__name__)
Obj = dict[str, Any]
MetricsSource = Callable[[str, str, str, "str | None"], Awaitable[dict[str, PodMetric]]]
FAILED_REASONS = {"Pods": "FailedGetPodsMetric", "Object": "FailedGetObjectMetric",
                  "External": "FailedGetExternalMetric"}


class MetricError(Exception):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def set_condition(status: Obj, type_: str, value: str, reason: str, message: str, now: datetime) -> None:
    """setCondition: lastTransitionTime moves only when the status changes."""
    conditions = status.setdefault("conditions", [])
    for c in conditions:
        if c.get("type") == type_:
            if c.get("status") != value:
                c["lastTransitionTime"] = now_rfc3339(now)
            c.update(status=value, reason=reason, message=message)
            return
    conditions.append({"type": type_, "status": value, "lastTransitionTime": now_rfc3339(now),
                       "reason": reason, "message": message})


def milli_quantity(milli: int) -> str:
    """resource.NewMilliQuantity(v, DecimalSI).String()."""
    return format_quantity(Decimal(milli) / 1000, "DecimalSI")


class HorizontalController(Controller):
    NAME = "horizontal-pod-autoscaler"

    def __init__(self, client: Client, informers: SharedInformers,
                 recorder: EventRecorder | None = None, *, sync_period: float = 15.0,
                 downscale_stabilization: float = 300.0, tolerance: float = calc.DEFAULT_TOLERANCE,
                 clock: Callable[[], datetime] | None = None,
                 metrics: MetricsSource | None = None) -> None:
        super().__init__(client, informers, recorder)
        self.sync_period = sync_period
        self.window = timedelta(seconds=downscale_stabilization)
        self.tolerance = tolerance
        self.clock = clock or (lambda: datetime.now(UTC))
        self.metrics: MetricsSource = metrics or (
            lambda resource, ns, sel, container: pod_resource_metrics(client, resource, ns, sel, container))
        self.hpas = self.watch(HorizontalPodAutoscaler)
        self.pods = informers.get(Pod)
        self._watched.append(self.pods)
        self.history: dict[str, behavior.History] = {}

    async def reconcile(self, key: str) -> None:
        hpa: HorizontalPodAutoscaler | None = self.hpas.store.get(key)
        if hpa is None:
            self.history.pop(key, None)
            return
        try:
            await self._sync(key, hpa.to_dict())
        finally:
            self.queue.add_after(key, self.sync_period)

    # ---------------------------------------------------------------- one sync
    async def _sync(self, key: str, hpa: Obj) -> None:
        now = self.clock()
        spec, original = hpa.get("spec") or {}, hpa.get("status") or {}
        status = copy.deepcopy(original)
        ref = spec.get("scaleTargetRef") or {}
        ns = hpa["metadata"]["namespace"]
        reference = f"{ref.get('kind')}/{ref.get('name')}"
        try:
            target = by_kind(ref.get("apiVersion") or "v1", ref.get("kind") or "")
            if "scale" not in target.subresources:
                raise UnknownResourceError(f'{target.group_resource} has no scale subresource')
            scale = await self.client.get_scale(target, ref.get("name") or "", ns)
        except (UnknownResourceError, ApiError, ConnectionFailed) as e:
            message = f"the HPA controller was unable to get the target's current scale: {e}"
            self.record(hpa, "Warning", "FailedGetScale", str(e))
            set_condition(status, "AbleToScale", "False", "FailedGetScale", message, now)
            await self._write_status(hpa, original, status)
            return
        set_condition(status, "AbleToScale", "True", "SucceededGetScale",
                      "the HPA controller was able to get the target's current scale", now)
        current = int((scale.get("spec") or {}).get("replicas") or 0)
        history = self.history.setdefault(key, behavior.History())
        if not history.recommendations:
            history.recommendations.append(behavior.Recommendation(current, now))
        min_replicas = spec.get("minReplicas") if spec.get("minReplicas") is not None else 1
        max_replicas = spec.get("maxReplicas") or 0
        statuses: list[Obj] = []
        reason, rescale = "", True
        if current == 0 and min_replicas != 0:
            desired, rescale = 0, False
            set_condition(status, "ScalingActive", "False", "ScalingDisabled",
                          "scaling is disabled since the replica count of the target is zero", now)
        elif current > max_replicas:
            desired, reason = max_replicas, "Current number of replicas above Spec.MaxReplicas"
        elif current < min_replicas:
            desired, reason = min_replicas, "Current number of replicas below Spec.MinReplicas"
        else:
            proposal, metric_name, statuses = await self._compute(hpa, scale, current, status, now)
            if proposal < 0:
                status.update(currentReplicas=current, currentMetrics=statuses or None)
                await self._write_status(hpa, original, status)
                return
            desired = max(proposal, 0)
            if desired > current:
                reason = f"{metric_name} above target"
            elif desired < current:
                reason = "All metrics below target"
            normalized = self._normalize(history, spec, current, desired, min_replicas, max_replicas, now)
            desired = normalized.replicas
            for c in normalized.conditions:
                set_condition(status, c.type, c.status, c.reason, c.message, now)
            rescale = desired != current
        if rescale:
            try:
                await self.client.patch_scale(target, ref.get("name") or "", desired, ns)
            except (ApiError, ConnectionFailed) as e:
                self.record(hpa, "Warning", "FailedRescale", f"New size: {desired}; reason: {reason}; error: {e}")
                set_condition(status, "AbleToScale", "False", "FailedUpdateScale",
                              f"the HPA controller was unable to update the target scale: {e}", now)
                status.update(currentReplicas=current, currentMetrics=statuses or None)
                await self._write_status(hpa, original, status)
                raise
            set_condition(status, "AbleToScale", "True", "SucceededRescale",
                          f"the HPA controller was able to update the target scale to {desired}", now)
            self.record(hpa, "Normal", "SuccessfulRescale", f"New size: {desired}; reason: {reason}")
            behavior.store_scale_event(history, spec.get("behavior"), current, desired, now)
            log.info("%s: scaled %s from %d to %d (%s)", key, reference, current, desired, reason)
            status["lastScaleTime"] = now_rfc3339(now)
        else:
            desired = current
        status.update(currentReplicas=current, desiredReplicas=desired, currentMetrics=statuses or None)
        await self._write_status(hpa, original, status)

    def _normalize(self, history: behavior.History, spec: Obj, current: int, desired: int,
                   min_replicas: int, max_replicas: int, now: datetime) -> behavior.Normalized:
        if spec.get("behavior") is None:
            return behavior.normalize(history, current, desired, min_replicas, max_replicas, now, self.window)
        return behavior.normalize_with_behaviors(history, current, desired, min_replicas, max_replicas,
                                                 spec["behavior"], now, self.window)

    # ---------------------------------------------------------------- metrics
    async def _compute(self, hpa: Obj, scale: Obj, current: int, status: Obj,
                       now: datetime) -> tuple[int, str, list[Obj]]:
        """computeReplicasForMetrics: (the largest proposal or -1, its metric, statuses)."""
        selector = (scale.get("status") or {}).get("selector") or ""
        if not selector:
            self.record(hpa, "Warning", "SelectorRequired", "selector is required")
            set_condition(status, "ScalingActive", "False", "InvalidSelector",
                          "the HPA target's scale is missing a selector", now)
            return -1, "", []
        try:
            match = parse_label_selector(selector)
        except ValueError as e:
            self.record(hpa, "Warning", "InvalidSelector", str(e))
            set_condition(status, "ScalingActive", "False", "InvalidSelector",
                          "the HPA target's scale has an invalid selector", now)
            return -1, "", []
        ns = hpa["metadata"]["namespace"]
        pods = [p.to_dict() for p in self.pods.store.by_index("namespace", ns)
                if match.matches(p.metadata.labels or {})]
        specs = (hpa.get("spec") or {}).get("metrics") or []
        replicas, name, statuses = -1, "", []
        invalid: tuple[str, str] | None = None
        invalid_count = 0
        for spec in specs:
            try:
                proposal, metric_name, metric_status = await self._metric(hpa, spec, selector, pods, current, now)
            except MetricError as e:
                invalid_count += 1
                statuses.append({"type": ""})
                self.record(hpa, "Warning", e.reason, str(e))
                if invalid is None:
                    invalid = (e.reason, f"the HPA was unable to compute the replica count: {e}")
                continue
            statuses.append(metric_status)
            if proposal > replicas:
                replicas, name = proposal, metric_name
        if invalid is not None and (invalid_count >= len(specs) or replicas < current):
            set_condition(status, "ScalingActive", "False", invalid[0], invalid[1], now)
            return -1, "", statuses
        set_condition(status, "ScalingActive", "True", "ValidMetricFound",
                      f"the HPA was able to successfully calculate a replica count from {name}", now)
        return replicas, name, statuses

    def _tolerances(self, hpa: Obj) -> calc.Tolerances:
        b = (hpa.get("spec") or {}).get("behavior") or {}

        def one(rules: Obj | None) -> float:
            t = (rules or {}).get("tolerance")
            return float(parse_quantity(t)) if t is not None else self.tolerance
        return calc.Tolerances(one(b.get("scaleDown")), one(b.get("scaleUp")))

    async def _metric(self, hpa: Obj, spec: Obj, selector: str, pods: list[Obj], current: int,
                      now: datetime) -> tuple[int, str, Obj]:
        typ = spec.get("type")
        if typ not in ("Resource", "ContainerResource"):
            raise MetricError(FAILED_REASONS.get(typ or "", "InvalidMetricSourceType"),
                              f"unable to get metric for {typ}: no custom or external metrics API is served"
                              if typ in FAILED_REASONS else f"invalid metric source type {typ!r}")
        field = "resource" if typ == "Resource" else "containerResource"
        failed = "FailedGetResourceMetric" if typ == "Resource" else "FailedGetContainerResourceMetric"
        source = spec.get(field) or {}
        resource, container = source.get("name") or "", source.get("container") if typ != "Resource" else None
        target = source.get("target") or {}
        ns = hpa["metadata"]["namespace"]
        tolerances = self._tolerances(hpa)
        what = f"{resource} container resource" if container else f"{resource} resource"
        if target.get("averageValue") is not None:
            try:
                metrics = await self.metrics(resource, ns, selector, container)
                p = calc.average_value_replicas(current, cpu_millis(target["averageValue"]), resource, pods,
                                                metrics, now, tolerances)
            except (MetricsUnavailable, calc.ReplicaCalcError) as e:
                raise MetricError(failed, f"failed to get {resource} usage: {e}") from e
            current_value = {"averageValue": milli_quantity(p.raw_average)}
            metric_name = what
        elif target.get("averageUtilization") is not None:
            try:
                metrics = await self.metrics(resource, ns, selector, container)
                p = calc.resource_replicas(current, target["averageUtilization"], resource, pods, metrics,
                                           now, tolerances, container)
            except (MetricsUnavailable, calc.ReplicaCalcError) as e:
                raise MetricError(failed, f"failed to get {resource} utilization: {e}") from e
            current_value = {"averageUtilization": p.utilization, "averageValue": milli_quantity(p.raw_average)}
            metric_name = f"{what} utilization (percentage of request)"
        else:
            raise MetricError(failed, "invalid resource metric source: neither an average utilization "
                                      "target nor an average value (usage) target was set")
        body: Obj = {"name": resource, "current": current_value}
        if container:
            body["container"] = container
        return p.replicas, metric_name, {"type": typ, field: body}

    # ---------------------------------------------------------------- status
    async def _write_status(self, hpa: Obj, original: Obj, status: Obj) -> None:
        status["observedGeneration"] = hpa["metadata"].get("generation")
        status = {k: v for k, v in status.items() if v is not None}
        status.setdefault("desiredReplicas", original.get("desiredReplicas", 0))
        if status == original:
            return
        target = copy.deepcopy(hpa)
        target["status"] = status
        try:
            await self.client.update_status(target)
        except NotFound:
            return
