"""Resource quota and limit range decisions, pure (Kubernetes' pkg/quota/v1/evaluator/core
and plugin/pkg/admission/limitranger, on wire dicts).

- `usage(resource, obj)`: what one object counts against a quota: `pods`, `requests.cpu`,
  `limits.memory`, `cpu`/`memory` (= requests), `services`, `services.nodeports`,
  `services.loadbalancers`, `configmaps`, `secrets`, `count/<plural>.<group>`, ...;
  a terminated pod counts nothing.
- `matches_scopes(quota, obj)`: BestEffort / NotBestEffort / Terminating / NotTerminating /
  PriorityClass / CrossNamespacePodAffinity, from `scopes` and `scopeSelector`.
- `exceeded(...)`: the `exceeded quota: ...` and `failed quota: ... must specify ...`
  texts of Kubernetes, or None.
- `apply_limit_ranges(pod, ranges)`: the defaults a LimitRange fills into containers, and
  the min/max/ratio violations, worded as Kubernetes words them.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from api.quantity import format_quantity, parse_quantity, quantity_format

Obj = dict[str, Any]
COMPUTE = ("cpu", "memory", "ephemeral-storage")
_LEGACY_COUNTS = {("", "pods"): "pods", ("", "services"): "services", ("", "configmaps"): "configmaps",
                  ("", "secrets"): "secrets", ("", "replicationcontrollers"): "replicationcontrollers",
                  ("", "persistentvolumeclaims"): "persistentvolumeclaims",
                  ("", "resourcequotas"): "resourcequotas"}


def _containers(pod: Obj) -> list[Obj]:
    spec = pod.get("spec") or {}
    return list(spec.get("containers") or [])


def pod_terminal(pod: Obj) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


def pod_resources(pod: Obj) -> dict[str, Decimal]:
    """Requests and limits of a pod: the sum over its containers, at least the largest init
    container's (as Kubernetes computes a pod's effective request)."""
    out: dict[str, Decimal] = {}
    spec = pod.get("spec") or {}
    for kind in ("requests", "limits"):
        for res in COMPUTE:
            total = sum((parse_quantity(((c.get("resources") or {}).get(kind) or {}).get(res, 0))
                         for c in _containers(pod)), Decimal(0))
            init = max((parse_quantity(((c.get("resources") or {}).get(kind) or {}).get(res, 0))
                        for c in spec.get("initContainers") or []), default=Decimal(0))
            value = max(total, init)
            if value:
                out[f"{kind}.{res}"] = value
    for res in COMPUTE:
        if f"requests.{res}" in out:
            out[res] = out[f"requests.{res}"]
    return out


def usage(group: str, plural: str, obj: Obj) -> dict[str, Decimal]:
    """What `obj` (of the resource group/plural) counts against a quota."""
    out: dict[str, Decimal] = {f"count/{plural}.{group}" if group else f"count/{plural}": Decimal(1)}
    legacy = _LEGACY_COUNTS.get((group, plural))
    if legacy:
        out[legacy] = Decimal(1)
    if group == "" and plural == "pods":
        if pod_terminal(obj):
            return {}
        out.update(pod_resources(obj))
    elif group == "" and plural == "services":
        spec = obj.get("spec") or {}
        typ = spec.get("type") or "ClusterIP"
        if typ in ("NodePort", "LoadBalancer"):
            out["services.nodeports"] = Decimal(len(spec.get("ports") or []))
        if typ == "LoadBalancer":
            out["services.loadbalancers"] = Decimal(1)
    elif group == "" and plural == "persistentvolumeclaims":
        req = ((obj.get("spec") or {}).get("resources") or {}).get("requests") or {}
        if req.get("storage"):
            out["requests.storage"] = parse_quantity(req["storage"])
    return out


def _best_effort(pod: Obj) -> bool:
    return not any((c.get("resources") or {}).get(k) for c in _containers(pod) for k in ("requests", "limits"))


def _cross_namespace_affinity(pod: Obj) -> bool:
    affinity = (pod.get("spec") or {}).get("affinity") or {}
    for kind in ("podAffinity", "podAntiAffinity"):
        rules = affinity.get(kind) or {}
        terms = [*(rules.get("requiredDuringSchedulingIgnoredDuringExecution") or []),
                 *((t.get("podAffinityTerm") or {}) for t in rules.get("preferredDuringSchedulingIgnoredDuringExecution") or [])]
        if any(t.get("namespaces") or t.get("namespaceSelector") is not None for t in terms):
            return True
    return False


def _scope_matches(scope: str, operator: str, values: list[str], pod: Obj) -> bool:
    """One scope (or scopeSelector expression) against a pod: kube's podMatchesScopeFunc."""
    spec = pod.get("spec") or {}
    if scope == "PriorityClass":
        name = spec.get("priorityClassName") or ""
        return {"Exists": bool(name), "DoesNotExist": not name, "In": name in values,
                "NotIn": name not in values}.get(operator, False)
    deadline = spec.get("activeDeadlineSeconds") is not None
    matched = {"BestEffort": _best_effort(pod), "NotBestEffort": not _best_effort(pod),
               "Terminating": deadline, "NotTerminating": not deadline,
               "CrossNamespacePodAffinity": _cross_namespace_affinity(pod)}.get(scope, False)
    return matched if operator in ("Exists", "In") else not matched


def matches_scopes(quota: Obj, group: str, plural: str, obj: Obj) -> bool:
    """Whether `obj` counts against a quota with `spec.scopes` and `spec.scopeSelector`
    (every scope and every selector expression must match; only pods have scopes)."""
    spec = quota.get("spec") or {}
    selectors: list[tuple[str, str, list[str]]] = [(s, "Exists", []) for s in spec.get("scopes") or []]
    selectors += [(e.get("scopeName") or "", e.get("operator") or "", e.get("values") or [])
                  for e in (spec.get("scopeSelector") or {}).get("matchExpressions") or []]
    if not selectors:
        return True
    if not (group == "" and plural == "pods"):
        return False
    return all(_scope_matches(scope, op, values, obj) for scope, op, values in selectors)


def _fmt(name: str, value: Decimal, like: str | None = None) -> str:
    return f"{name}={format_quantity(value, quantity_format(like) if like else None)}"


def missing_limits(quota: Obj, group: str, plural: str, obj: Obj) -> str | None:
    """`failed quota: NAME: must specify limits.cpu for: c; ...` when the quota constrains a
    compute resource the pod's containers do not state."""
    if not (group == "" and plural == "pods"):
        return None
    hard = (quota.get("spec") or {}).get("hard") or {}
    parts = []
    for key in sorted(hard):
        kind, _, res = key.partition(".")
        if key in COMPUTE:
            kind, res = "requests", key
        if kind not in ("requests", "limits") or res not in COMPUTE:
            continue
        names = [c.get("name", "") for c in _containers(obj)
                 if not ((c.get("resources") or {}).get(kind) or {}).get(res)]
        if names:
            parts.append(f"{key} for: {','.join(names)}")
    if not parts:
        return None
    return f"failed quota: {quota['metadata']['name']}: must specify {'; '.join(parts)}"


def exceeded(quota: Obj, used: dict[str, Decimal], delta: dict[str, Decimal]) -> str | None:
    """`exceeded quota: NAME, requested: X=1, used: X=4, limited: X=4`, or None."""
    hard = (quota.get("spec") or {}).get("hard") or {}
    over = sorted(k for k in hard if k in delta and delta[k] > 0 and
                  used.get(k, Decimal(0)) + delta[k] > parse_quantity(hard[k]))
    if not over:
        return None
    req = ",".join(_fmt(k, delta[k], hard[k]) for k in over)
    use = ",".join(_fmt(k, used.get(k, Decimal(0)), hard[k]) for k in over)
    lim = ",".join(f"{k}={hard[k]}" for k in over)
    return f"exceeded quota: {quota['metadata']['name']}, requested: {req}, used: {use}, limited: {lim}"


def add(total: dict[str, Decimal], more: dict[str, Decimal]) -> None:
    for k, v in more.items():
        total[k] = total.get(k, Decimal(0)) + v


def used_for(quota: Obj, used: dict[str, Decimal]) -> dict[str, str]:
    """status.used: the quota's hard keys, formatted like their limits."""
    hard = (quota.get("spec") or {}).get("hard") or {}
    return {k: format_quantity(used.get(k, Decimal(0)), quantity_format(hard[k])) for k in hard}


# ---------------------------------------------------------------- limit ranges
def apply_limit_ranges(pod: Obj, ranges: list[Obj]) -> list[str]:
    """Fill container defaults from every `Container` limit; return the violations of
    min / max / maxLimitRequestRatio (Container and Pod limits) in Kubernetes' words."""
    errors: list[str] = []
    for lr in ranges:
        for item in (lr.get("spec") or {}).get("limits") or []:
            if item.get("type") != "Container":
                continue
            for c in _containers(pod) + list((pod.get("spec") or {}).get("initContainers") or []):
                res = c.setdefault("resources", {})
                for key, src in (("limits", "default"), ("requests", "defaultRequest")):
                    for name, value in (item.get(src) or {}).items():
                        res.setdefault(key, {}).setdefault(name, value)
                # with only a default (limit), the request defaults to it, as Kubernetes does
                for name, value in (item.get("default") or {}).items():
                    if name not in (item.get("defaultRequest") or {}):
                        res.setdefault("requests", {}).setdefault(name, value)
    for lr in ranges:
        for item in (lr.get("spec") or {}).get("limits") or []:
            typ = item.get("type")
            if typ == "Container":
                for c in _containers(pod):
                    errors.extend(_check(item, "Container", (c.get("resources") or {}).get("requests") or {},
                                         (c.get("resources") or {}).get("limits") or {}))
            elif typ == "Pod":
                totals = pod_resources(pod)
                reqs = {k[9:]: v for k, v in totals.items() if k.startswith("requests.")}
                lims = {k[7:]: v for k, v in totals.items() if k.startswith("limits.")}
                errors.extend(_check(item, "Pod", reqs, lims))
    return errors


def _check(item: Obj, what: str, requests: dict[str, Any], limits: dict[str, Any]) -> list[str]:
    errs = []
    for name, lo in (item.get("min") or {}).items():
        for label, have in (("request", requests.get(name)), ("limit", limits.get(name))):
            if have is not None and parse_quantity(have) < parse_quantity(lo):
                errs.append(f"minimum {name} usage per {what} is {lo}, but {label} is "
                            f"{format_quantity(parse_quantity(have), quantity_format(str(lo)))}")
    for name, hi in (item.get("max") or {}).items():
        have = limits.get(name)
        if have is None:
            errs.append(f"maximum {name} usage per {what} is {hi}.  No limit is specified")
        elif parse_quantity(have) > parse_quantity(hi):
            errs.append(f"maximum {name} usage per {what} is {hi}, but limit is "
                        f"{format_quantity(parse_quantity(have), quantity_format(str(hi)))}")
    for name, ratio in (item.get("maxLimitRequestRatio") or {}).items():
        lim, req = limits.get(name), requests.get(name)
        if lim is not None and req is not None and parse_quantity(req) > 0:
            actual = parse_quantity(lim) / parse_quantity(req)
            if actual > parse_quantity(ratio):
                errs.append(f"{name} max limit to request ratio per {what} is {ratio}, but provided ratio is "
                            f"{actual:.6f}")
    return errs
