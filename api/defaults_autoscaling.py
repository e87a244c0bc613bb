"""Defaulting of autoscaling/v2 HorizontalPodAutoscaler (pkg/apis/autoscaling/v2/defaults.go).

`default_hpa` fills minReplicas 1, the CPU metric at 80% utilization when no metric is
given, and, when spec.behavior is present, every rule it leaves out. `scale_up_rules` and
`scale_down_rules` are GenerateHPAScaleUpRules / GenerateHPAScaleDownRules: scale up by at
most 4 pods or 100% every 15 s (the larger), no up-stabilization; scale down by at most 100%
every 15 s, its stabilization window left unset (the controller's
--horizontal-pod-autoscaler-downscale-stabilization, 300 s, fills it), as Kubernetes does.
"""
from __future__ import annotations

import copy
from typing import Any

Obj = dict[str, Any]
DEFAULT_CPU_UTILIZATION = 80

SCALE_UP_DEFAULTS: Obj = {"stabilizationWindowSeconds": 0, "selectPolicy": "Max", "policies": [
    {"type": "Pods", "value": 4, "periodSeconds": 15},
    {"type": "Percent", "value": 100, "periodSeconds": 15}]}
SCALE_DOWN_DEFAULTS: Obj = {"selectPolicy": "Max", "policies": [
    {"type": "Percent", "value": 100, "periodSeconds": 15}]}


def _rules(given: Obj | None, defaults: Obj) -> Obj:
    out = copy.deepcopy(defaults)
    for fld, value in (given or {}).items():
        if value is not None:
            out[fld] = copy.deepcopy(value)
    return out


def scale_up_rules(given: Obj | None) -> Obj:
    return _rules(given, SCALE_UP_DEFAULTS)


def scale_down_rules(given: Obj | None) -> Obj:
    return _rules(given, SCALE_DOWN_DEFAULTS)


def default_hpa(obj: Obj) -> None:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return
    if spec.get("minReplicas") is None:
        spec["minReplicas"] = 1
    if not spec.get("metrics"):
        spec["metrics"] = [{"type": "Resource", "resource": {"name": "cpu", "target": {
            "type": "Utilization", "averageUtilization": DEFAULT_CPU_UTILIZATION}}}]
    behavior = spec.get("behavior")
    if isinstance(behavior, dict):
        behavior["scaleUp"] = scale_up_rules(behavior.get("scaleUp"))
        behavior["scaleDown"] = scale_down_rules(behavior.get("scaleDown"))
