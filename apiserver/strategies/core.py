"""Strategies of the core (v1) kinds that differ from the default.

Pod: starts Pending with its QoS class; a pod bound to a node is deleted gracefully (it
stays, with deletionTimestamp and deletionGracePeriodSeconds, until its kubelet confirms
with grace 0); ephemeral containers come only through `pods/{name}/ephemeralcontainers`,
which changes nothing else (api/validation_ephemeral.py). Namespace: a delete moves it to Terminating and it stays while
`spec.finalizers` (the namespace controller's `kubernetes`) remain. Service: starts with an
empty load-balancer status. Namespace, Service, Node, ConfigMap, Secret, Event, Endpoints and
ServiceAccount have no metadata.generation (as in Kubernetes).
"""
from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone
from typing import Any

from api.defaults import default_pod_spec
from api.field import FieldError
from api.validation_ephemeral import validate_ephemeral_update, validate_pod_create
from apiserver import errors
from apiserver.strategies import Obj, Strategy, builtin


@builtin("", "Pod")
class PodStrategy(Strategy):
    reset_status = True

    def initial_status(self, obj: Obj) -> Obj | None:
        return {"phase": "Pending", "qosClass": qos_class(obj)}

    def validate(self, obj: Obj) -> list[FieldError]:
        return super().validate(obj) + validate_pod_create(obj.get("spec"))

    def prepare_for_subresource_update(self, subresource: str, new: Obj, old: Obj) -> Obj:
        if subresource != "ephemeralcontainers":
            return super().prepare_for_subresource_update(subresource, new, old)
        merged = copy.deepcopy(old)
        spec = merged.setdefault("spec", {})
        spec["ephemeralContainers"] = copy.deepcopy((new.get("spec") or {}).get("ephemeralContainers") or [])
        if not spec["ephemeralContainers"]:
            spec.pop("ephemeralContainers")
        default_pod_spec(spec)
        errs = validate_ephemeral_update(spec, old.get("spec") or {})
        if errs:
            raise errors.invalid(self.resource, "Pod", old["metadata"]["name"], errs)
        return merged

    def begin_delete(self, obj: Obj, grace_period_seconds: int | None) -> bool:
        if not needs_grace(obj) or grace_period_seconds == 0:
            return False
        meta = obj["metadata"]
        grace = grace_period_seconds
        if grace is None:
            grace = (obj.get("spec") or {}).get("terminationGracePeriodSeconds", 30)
        current = meta.get("deletionGracePeriodSeconds")
        if current is None or grace < current:
            meta["deletionGracePeriodSeconds"] = grace
            meta["deletionTimestamp"] = (datetime.now(timezone.utc) + timedelta(seconds=grace)
                                         ).strftime("%Y-%m-%dT%H:%M:%SZ")
        return bool(meta["deletionGracePeriodSeconds"])

    def held(self, obj: Obj) -> bool:
        """A pod marked for graceful deletion stays until its kubelet deletes it with grace 0."""
        return needs_grace(obj) and bool(obj["metadata"].get("deletionGracePeriodSeconds"))


@builtin("", "Namespace")
class NamespaceStrategy(Strategy):
    reset_status = True
    generation = False

    def begin_delete(self, obj: Obj, grace_period_seconds: int | None) -> bool:
        obj.setdefault("status", {})["phase"] = "Terminating"
        return self.held(obj)

    def held(self, obj: Obj) -> bool:
        return bool((obj.get("spec") or {}).get("finalizers"))


@builtin("", "Service")
class ServiceStrategy(Strategy):
    reset_status = True
    generation = False

    def initial_status(self, obj: Obj) -> Obj | None:
        return {"loadBalancer": {}}


class _NoGeneration(Strategy):
    generation = False


for _kind in ("ConfigMap", "Secret", "Event", "Endpoints", "ServiceAccount", "Node"):
    builtin("", _kind)(type(f"{_kind}Strategy", (_NoGeneration,), {}))


def needs_grace(pod: Obj) -> bool:
    """Bound and not yet terminal: its kubelet must stop the containers first."""
    bound = bool((pod.get("spec") or {}).get("nodeName"))
    phase = (pod.get("status") or {}).get("phase")
    return bound and phase not in ("Succeeded", "Failed")


def qos_class(pod: Obj) -> str:
    """Guaranteed (every container has equal cpu and memory limits and requests),
    BestEffort (none has any), else Burstable."""
    containers: list[dict[str, Any]] = (pod.get("spec") or {}).get("containers") or []
    reqs = [((c.get("resources") or {}).get("requests") or {}) for c in containers]
    lims = [((c.get("resources") or {}).get("limits") or {}) for c in containers]
    if not any(reqs) and not any(lims):
        return "BestEffort"
    if all(lim.get("cpu") and lim.get("memory") and (not r or (r.get("cpu") in (None, lim.get("cpu")) and
           r.get("memory") in (None, lim.get("memory")))) for r, lim in zip(reqs, lims)):
        return "Guaranteed"
    return "Burstable"
