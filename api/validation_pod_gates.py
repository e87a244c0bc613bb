"""Validation of the pod fields that gate a pod's life: scheduling gates, readiness gates,
sidecar (restartable init) containers and host aliases; kube's ValidatePodSpec rules for
them, plus the update rule that scheduling gates may only be removed. Pure."""
from __future__ import annotations

from typing import Any

from api.field import FieldError, child, duplicate, forbidden, index, invalid, not_supported, required
from api.names import is_qualified_name

SCHEDULING_GATED = "SchedulingGated"
SCHEDULING_GATED_MESSAGE = "Scheduling is blocked due to non-empty scheduling gates"


def _gate_names(spec: dict[str, Any]) -> list[str]:
    return [g.get("name") or "" for g in spec.get("schedulingGates") or [] if isinstance(g, dict)]


def validate_gates(spec: dict[str, Any], path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    seen: set[str] = set()
    for i, name in enumerate(_gate_names(spec)):
        p = child(index(child(path, "schedulingGates"), i), "name")
        errs.extend(invalid(p, name, m) for m in is_qualified_name(name))
        if name in seen:
            errs.append(duplicate(p, name))
        seen.add(name)
    for i, gate in enumerate(spec.get("readinessGates") or []):
        p = child(index(child(path, "readinessGates"), i), "conditionType")
        ctype = (gate or {}).get("conditionType") or ""
        errs.extend(invalid(p, ctype, m) for m in is_qualified_name(ctype))
    for i, c in enumerate(spec.get("initContainers") or []):
        policy = (c or {}).get("restartPolicy")
        if policy is not None and policy != "Always":
            errs.append(not_supported(child(index(child(path, "initContainers"), i), "restartPolicy"),
                                      policy, ("Always",)))
    for i, c in enumerate(spec.get("containers") or []):
        if (c or {}).get("restartPolicy") is not None:
            errs.append(forbidden(child(index(child(path, "containers"), i), "restartPolicy"),
                                  "may not be set for non-init containers"))
    for i, alias in enumerate(spec.get("hostAliases") or []):
        p = index(child(path, "hostAliases"), i)
        if not (alias or {}).get("ip"):
            errs.append(required(child(p, "ip")))
    return errs


def validate_gates_on_create(spec: dict[str, Any], path: str = "spec") -> list[FieldError]:
    if _gate_names(spec) and spec.get("nodeName"):
        return [forbidden(child(path, "nodeName"), "cannot be set until all schedulingGates have been cleared")]
    return []


def validate_gates_update(new_spec: dict[str, Any], old_spec: dict[str, Any],
                          path: str = "spec") -> list[FieldError]:
    """Scheduling gates may only be removed, never added or renamed."""
    old = set(_gate_names(old_spec))
    for name in _gate_names(new_spec):
        if name not in old:
            return [forbidden(child(path, "schedulingGates"),
                              f"only deletion is allowed, but found new scheduling gate '{name}'")]
    return []


def gated_condition(spec: dict[str, Any], now: str) -> dict[str, Any] | None:
    """The PodScheduled condition a new gated pod starts with."""
    if not _gate_names(spec):
        return None
    return {"type": "PodScheduled", "status": "False", "lastProbeTime": None, "lastTransitionTime": now,
            "reason": SCHEDULING_GATED, "message": SCHEDULING_GATED_MESSAGE}


def is_sidecar(container: dict[str, Any] | Any) -> bool:
    """A restartable init container (`restartPolicy: Always`): a sidecar."""
    policy = container.get("restartPolicy") if isinstance(container, dict) else getattr(container, "restart_policy", None)
    return policy == "Always"
