"""The pods/eviction subresource: a pod delete that honours PodDisruptionBudgets
(kube-apiserver's pkg/registry/core/pod/storage/eviction.go).

An eviction of a pod that is not running (Pending, Succeeded, Failed) or already being
deleted is a plain delete. Otherwise the one budget covering the pod decides (several: 500,
as Kubernetes does not support that): an unready pod may go when the budget's policy is
AlwaysAllow, or (IfHealthyBudget, the default) when the budget is met; else the budget
must allow a disruption - its status is current (observedGeneration) and
disruptionsAllowed > 0 - and the eviction takes one: disruptionsAllowed - 1 and the pod
in disruptedPods (the disruption controller drops it once the pod is gone), written to the
budget's status compare-and-swap before the pod is deleted. A refusal is 429
TooManyRequests "Cannot evict pod as it would violate the pod's disruption budget." with
the reason in a `DisruptionBudget` cause. `dryRun=All` checks without writing.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from api.meta import now_rfc3339
from api.resources import by_kind
from api.selectors import selector_from_model
from apiserver import errors
from apiserver.registry import DeleteOptions
from apiserver.request import json_response, parse_object_body, read_body

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

    from apiserver.handlers import Handlers
    from apiserver.request import Target

Obj = dict[str, Any]
PDBS = by_kind("policy/v1", "PodDisruptionBudget")
REFUSED = "Cannot evict pod as it would violate the pod's disruption budget."
MAX_DISRUPTED_PODS = 2000


def can_ignore_budget(pod: Obj) -> bool:
    phase = (pod.get("status") or {}).get("phase")
    return phase in ("Pending", "Succeeded", "Failed") or bool(pod["metadata"].get("deletionTimestamp"))


def is_ready(pod: Obj) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (pod.get("status") or {}).get("conditions") or [])


def covering(pod: Obj, budgets: list[Obj]) -> list[Obj]:
    """The budgets whose selector picks the pod (policy/v1: `{}` picks all, none picks none)."""
    labels = pod["metadata"].get("labels") or {}
    out = []
    for pdb in budgets:
        sel = (pdb.get("spec") or {}).get("selector")
        if sel is None:
            continue
        try:
            if selector_from_model(sel).matches(labels):
                out.append(pdb)
        except ValueError:
            continue
    return out


def too_many_requests(cause: str) -> errors.APIError:
    return errors.APIError(429, "TooManyRequests", REFUSED,
                           {"causes": [{"reason": "DisruptionBudget", "message": cause}]})


def take_disruption(pod_name: str, dry_run: bool):  # type: ignore[no-untyped-def]
    """checkAndDecrement, as a mutation of the budget's current version."""
    def mutate(pdb: Obj) -> Obj:
        meta, st = pdb["metadata"], pdb.setdefault("status", {})
        name = meta.get("name", "")
        if int(st.get("observedGeneration") or 0) < int(meta.get("generation") or 0):
            raise too_many_requests(f"The disruption budget {name} is still being processed by the server.")
        allowed = int(st.get("disruptionsAllowed") or 0)
        if allowed < 0:
            raise errors.forbidden(f'poddisruptionbudgets.policy "{name}" is forbidden: pdb disruptions allowed is negative',
                                   PDBS, name)
        if len(st.get("disruptedPods") or {}) > MAX_DISRUPTED_PODS:
            raise errors.forbidden(f'poddisruptionbudgets.policy "{name}" is forbidden: DisruptedPods map too big - '
                                   "too many evictions not confirmed by PDB controller", PDBS, name)
        if allowed == 0:
            raise too_many_requests(f"The disruption budget {name} needs {int(st.get('desiredHealthy') or 0)} "
                                    f"healthy pods and has {int(st.get('currentHealthy') or 0)} currently")
        st["disruptionsAllowed"] = allowed - 1
        if allowed - 1 == 0:
            for c in st.get("conditions") or []:
                if c.get("type") == "DisruptionAllowed" and c.get("status") == "True":
                    c.update({"status": "False", "reason": "InsufficientPods", "lastTransitionTime": now_rfc3339()})
        if not dry_run:
            st.setdefault("disruptedPods", {})[pod_name] = now_rfc3339()
        return pdb
    return mutate


async def evict(h: "Handlers", request: "Request", t: "Target", q: dict[str, str]) -> "Response":
    raw = await read_body(request)
    body = parse_object_body(raw, request.headers.get("content-type", "")) if raw.strip() else {}
    opts = DeleteOptions.from_body(body.get("deleteOptions") or {}, q)
    assert t.name is not None
    ns = t.namespace or "default"
    pod = await h.registry.get(t.resource, ns, t.name)
    if not can_ignore_budget(pod):
        await h.cache.sync()
        budgets = covering(pod, [co.obj for co in h.cache.cache(PDBS).select(ns, None)])
        if len(budgets) > 1:
            raise errors.APIError(500, "InternalError", "Internal error occurred: This pod has more than one "
                                  "PodDisruptionBudget, which the eviction subresource does not support.",
                                  {"causes": [{"message": "This pod has more than one PodDisruptionBudget, which "
                                               "the eviction subresource does not support."}]})
        if budgets and not _unhealthy_may_go(pod, budgets[0]):
            await h.registry.guaranteed_update(PDBS, ns, budgets[0]["metadata"]["name"],
                                               take_disruption(t.name, opts.dry_run), "status",
                                               dry_run=opts.dry_run)
    await h.registry.delete(t.resource, ns, t.name, opts)
    from apiserver.subresources import success
    return json_response(success(201), 201)


def _unhealthy_may_go(pod: Obj, pdb: Obj) -> bool:
    """An unready pod is evicted without taking from the budget when the policy says
    AlwaysAllow, or (IfHealthyBudget) when the budget is already met."""
    if is_ready(pod):
        return False
    policy = (pdb.get("spec") or {}).get("unhealthyPodEvictionPolicy") or "IfHealthyBudget"
    if policy == "AlwaysAllow":
        return True
    st = pdb.get("status") or {}
    observed = int(st.get("observedGeneration") or 0) >= int(pdb["metadata"].get("generation") or 0)
    desired = int(st.get("desiredHealthy") or 0)
    return observed and desired > 0 and int(st.get("currentHealthy") or 0) >= desired
