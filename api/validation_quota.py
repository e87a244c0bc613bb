"""Validation of v1 ResourceQuota and LimitRange, in Kubernetes' words."""
from __future__ import annotations

from typing import Any

from api.field import FieldError, invalid, not_supported
from api.quantity import parse_quantity

Obj = dict[str, Any]
SCOPES = ("Terminating", "NotTerminating", "BestEffort", "NotBestEffort", "PriorityClass",
          "CrossNamespacePodAffinity")
LIMIT_TYPES = ("Pod", "Container", "PersistentVolumeClaim")


def _quantities(values: Any, path: str) -> list[FieldError]:
    errs = []
    for k, v in (values or {}).items():
        try:
            q = parse_quantity(v)
        except (ValueError, TypeError):
            errs.append(invalid(f"{path}[{k}]", v, "quantities must match the regular expression "
                                "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"))
            continue
        if q < 0:
            errs.append(invalid(f"{path}[{k}]", v, "must be greater than or equal to 0"))
    return errs


def validate_resource_quota(obj: Obj) -> list[FieldError]:
    spec = obj.get("spec") or {}
    errs = _quantities(spec.get("hard"), "spec.hard")
    for i, s in enumerate(spec.get("scopes") or []):
        if s not in SCOPES:
            errs.append(not_supported(f"spec.scopes[{i}]", s, list(SCOPES)))
    return errs


def validate_limit_range(obj: Obj) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, item in enumerate((obj.get("spec") or {}).get("limits") or []):
        path = f"spec.limits[{i}]"
        if item.get("type") not in LIMIT_TYPES:
            errs.append(not_supported(f"{path}.type", item.get("type") or "", list(LIMIT_TYPES)))
        for f in ("max", "min", "default", "defaultRequest", "maxLimitRequestRatio"):
            errs.extend(_quantities(item.get(f), f"{path}.{f}"))
        if item.get("type") == "Pod" and (item.get("default") or item.get("defaultRequest")):
            errs.append(invalid(f"{path}.default", item.get("default") or item.get("defaultRequest"),
                                "may not be specified when `type` is 'Pod'"))
    return errs
