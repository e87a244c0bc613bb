"""PriorityClass validation (kube's ValidatePriorityClass and its update rule), pure.

Names starting with `system-` are reserved for the two built-in classes with their exact
values; a user-defined value is at most 1000000000; value and preemptionPolicy never change.
"""
from __future__ import annotations

from typing import Any

from api.field import FieldError, forbidden, invalid, not_supported
from api.validation_meta import immutable

HIGHEST_USER_DEFINABLE_PRIORITY = 1_000_000_000
SYSTEM_CLUSTER_CRITICAL, SYSTEM_NODE_CRITICAL = "system-cluster-critical", "system-node-critical"
SYSTEM_PRIORITY_CLASSES = {SYSTEM_CLUSTER_CRITICAL: 2_000_000_000, SYSTEM_NODE_CRITICAL: 2_000_001_000}
PREEMPTION_POLICIES = ("Never", "PreemptLowerPriority")
Obj = dict[str, Any]


def validate_priority_class(obj: Obj) -> list[FieldError]:
    errs: list[FieldError] = []
    name = (obj.get("metadata") or {}).get("name") or ""
    value = obj.get("value")
    if name.startswith("system-"):
        known = SYSTEM_PRIORITY_CLASSES.get(name)
        why = (f"{name} is not a known system priority class" if known is None else
               f"value of {name} PriorityClass must be {known}" if value != known else "")
        if why:
            errs.append(forbidden("metadata.name", "priority class names with 'system-' prefix are reserved "
                                                   f"for system use only. error: {why}"))
    elif isinstance(value, int) and value > HIGHEST_USER_DEFINABLE_PRIORITY:
        errs.append(forbidden("value", f"maximum allowed value of a user defined priority is "
                                       f"{HIGHEST_USER_DEFINABLE_PRIORITY}"))
    if value is not None and not isinstance(value, int):
        errs.append(invalid("value", value, "must be an integer"))
    policy = obj.get("preemptionPolicy")
    if policy is not None and policy not in PREEMPTION_POLICIES:
        errs.append(not_supported("preemptionPolicy", policy, PREEMPTION_POLICIES))
    return errs


def validate_priority_class_update(new: Obj, old: Obj) -> list[FieldError]:
    return [*immutable(new.get("value"), old.get("value"), "value"),
            *immutable(new.get("preemptionPolicy"), old.get("preemptionPolicy"), "preemptionPolicy")]
