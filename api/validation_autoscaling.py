"""Validation of autoscaling/v2 HorizontalPodAutoscaler with Kubernetes' paths and wording
(pkg/apis/autoscaling/validation): the scale target, min/max replicas, each metric source
and its target, and the scaling behavior. Registered in api.validation.
"""
from __future__ import annotations

from typing import Any

from api.field import FieldError, child, index, invalid, not_supported, required
from api.names import is_path_segment_name
from api.quantity import parse_quantity

Obj = dict[str, Any]
METRIC_TYPES = ("ContainerResource", "External", "Object", "Pods", "Resource")
SOURCE_FIELDS = {"Resource": "resource", "ContainerResource": "containerResource", "Pods": "pods",
                 "Object": "object", "External": "external"}
TARGET_TYPES = ("AverageValue", "Utilization", "Value")
POLICY_TYPES = ("Percent", "Pods")
SELECT_POLICIES = ("Disabled", "Max", "Min")
MAX_PERIOD_SECONDS, MAX_STABILIZATION_WINDOW = 1800, 3600


def _dict(value: Any) -> Obj:
    return value if isinstance(value, dict) else {}


def _positive_quantity(value: Any, path: str) -> list[FieldError]:
    try:
        q = parse_quantity(value)
    except (ValueError, TypeError):
        return [invalid(path, value, "must be a valid quantity")]
    return [] if q > 0 else [invalid(path, value, "must be positive")]


def _target(target: Obj, path: str, resource_source: bool) -> list[FieldError]:
    typ = target.get("type")
    if not typ:
        return [required(child(path, "type"), "must specify a metric target type")]
    if typ not in TARGET_TYPES:
        return [not_supported(child(path, "type"), typ, TARGET_TYPES)]
    errs: list[FieldError] = []
    if typ == "Utilization":
        util = target.get("averageUtilization")
        if util is None:
            errs.append(required(child(path, "averageUtilization"),
                                 "must set either a target raw value or a target utilization"))
        elif util < 1:
            errs.append(invalid(child(path, "averageUtilization"), util, "must be greater than 0"))
    elif typ == "AverageValue":
        if target.get("averageValue") is None:
            errs.append(required(child(path, "averageValue"), "must set a target average value"))
        else:
            errs.extend(_positive_quantity(target["averageValue"], child(path, "averageValue")))
    elif typ == "Value":
        if resource_source:
            errs.append(invalid(child(path, "type"), typ, "must be either Utilization or AverageValue"))
        elif target.get("value") is None:
            errs.append(required(child(path, "value"), "must set a target value"))
        else:
            errs.extend(_positive_quantity(target["value"], child(path, "value")))
    return errs


def _metric(spec: Obj, path: str) -> list[FieldError]:
    typ = spec.get("type")
    if not typ:
        return [required(child(path, "type"), "must specify a metric source type")]
    if typ not in METRIC_TYPES:
        return [not_supported(child(path, "type"), typ, METRIC_TYPES)]
    errs: list[FieldError] = []
    own = SOURCE_FIELDS[typ]
    for other in SOURCE_FIELDS.values():
        if other != own and spec.get(other) is not None:
            errs.append(invalid(child(path, other), spec[other], "must populate the given metric source only"))
    source = spec.get(own)
    if not isinstance(source, dict):
        return [*errs, required(child(path, own), "must populate information for the given metric source")]
    sp = child(path, own)
    if typ in ("Resource", "ContainerResource"):
        if not source.get("name"):
            errs.append(required(child(sp, "name"), "must specify a resource name"))
        if typ == "ContainerResource" and not source.get("container"):
            errs.append(required(child(sp, "container"), "must specify a container"))
        errs.extend(_target(_dict(source.get("target")), child(sp, "target"), True))
    else:
        if not _dict(source.get("metric")).get("name"):
            errs.append(required(child(child(sp, "metric"), "name"), "must specify a metric name"))
        errs.extend(_target(_dict(source.get("target")), child(sp, "target"), False))
    return errs


def _rules(rules: Any, path: str) -> list[FieldError]:
    if rules is None:
        return []
    rules = _dict(rules)
    errs: list[FieldError] = []
    window = rules.get("stabilizationWindowSeconds")
    if window is not None and not 0 <= window <= MAX_STABILIZATION_WINDOW:
        errs.append(invalid(child(path, "stabilizationWindowSeconds"), window,
                            f"must be less than or equal to {MAX_STABILIZATION_WINDOW}" if window > 0
                            else "must be greater than or equal to zero"))
    select = rules.get("selectPolicy")
    if select is not None and select not in SELECT_POLICIES:
        errs.append(not_supported(child(path, "selectPolicy"), select, SELECT_POLICIES))
    policies = rules.get("policies")
    if policies is not None and not policies:
        errs.append(required(child(path, "policies"), "must specify at least one Policy"))
    for i, policy in enumerate(policies or []):
        pp = index(child(path, "policies"), i)
        policy = _dict(policy)
        if policy.get("type") not in POLICY_TYPES:
            errs.append(not_supported(child(pp, "type"), policy.get("type"), POLICY_TYPES))
        if (policy.get("value") or 0) <= 0:
            errs.append(invalid(child(pp, "value"), policy.get("value"), "must be greater than zero"))
        period = policy.get("periodSeconds") or 0
        if period <= 0:
            errs.append(invalid(child(pp, "periodSeconds"), period, "must be greater than zero"))
        elif period > MAX_PERIOD_SECONDS:
            errs.append(invalid(child(pp, "periodSeconds"), period,
                                f"must be less than or equal to {MAX_PERIOD_SECONDS}"))
    return errs


def validate_horizontal_pod_autoscaler(obj: Obj) -> list[FieldError]:
    spec = _dict(obj.get("spec"))
    errs: list[FieldError] = []
    ref = _dict(spec.get("scaleTargetRef"))
    for fld in ("kind", "name"):
        path = f"spec.scaleTargetRef.{fld}"
        if not ref.get(fld):
            errs.append(required(path))
        else:
            errs.extend(invalid(path, ref[fld], msg) for msg in is_path_segment_name(str(ref[fld])))
    min_replicas, max_replicas = spec.get("minReplicas"), spec.get("maxReplicas") or 0
    if min_replicas is not None and min_replicas < 1:
        errs.append(invalid("spec.minReplicas", min_replicas, "must be greater than or equal to 1"))
    if max_replicas < 1:
        errs.append(invalid("spec.maxReplicas", max_replicas, "must be greater than 0"))
    if min_replicas is not None and max_replicas < min_replicas:
        errs.append(invalid("spec.maxReplicas", max_replicas, "must be greater than or equal to `minReplicas`"))
    for i, metric in enumerate(spec.get("metrics") or []):
        errs.extend(_metric(_dict(metric), index("spec.metrics", i)))
    behavior = _dict(spec.get("behavior"))
    errs.extend(_rules(behavior.get("scaleUp"), "spec.behavior.scaleUp"))
    errs.extend(_rules(behavior.get("scaleDown"), "spec.behavior.scaleDown"))
    return errs
