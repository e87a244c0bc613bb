"""Subresource handlers: status, scale, binding, eviction, a namespace's finalize, log and exec.

Owns what each subresource means over the generic registry:
- `status`: GET, and PUT/PATCH that change only `.status`; a CSR's `approval` likewise
  changes only its Approved/Denied conditions (both through the kind's strategy);
- `ephemeralcontainers`: a pod's `spec.ephemeralContainers` (GET, PUT, PATCH), likewise;
- `scale`: an `autoscaling/v1` Scale view of the replicas the kind's strategy names
  (`spec.replicas`, or a CRD's specReplicasPath) (GET, PUT, merge/JSON PATCH);
- `binding`: the scheduler's POST that sets a pod's `spec.nodeName` (409 if already bound);
- `eviction`: a pod delete carrying the Eviction's deleteOptions, refused (429) when it would
  break the pod's PodDisruptionBudget (apiserver/eviction.py);
- `finalize`: a namespace's `spec.finalizers`;
- `token`: a ServiceAccount's TokenRequest, answered with a signed, bound JWT;
- `log`, `exec`, `attach`, `portforward`, `proxy`: handed to the kubelet proxy (kubeletproxy.py).
Every write honours `dryRun=All`.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from api import patch as api_patch
from api.resources import ResourceInfo, by_kind
from apiserver import errors, strategies
from apiserver.registry import is_dry_run, now
from apiserver.request import PATCH_TYPES, Target, json_response, parse_object, parse_object_body, read_body

if TYPE_CHECKING:
    from apiserver.handlers import Handlers


async def handle(h: "Handlers", request: Request, t: Target, q: dict[str, str]) -> Response:
    sub, method = t.subresource, request.method
    assert t.name is not None
    if sub in ("status", "approval", "ephemeralcontainers"):   # the strategy says what each may change
        if method == "GET":
            return json_response(await h.registry.get(t.resource, t.namespace, t.name))
        if method == "PUT":
            return await h.update(request, t, q, sub)
        if method == "PATCH":
            return await h.patch(request, t, q, sub)
    elif sub == "scale":
        return await scale(h, request, t, q)
    elif sub == "binding" and method == "POST":
        return await bind(h, request, t, q)
    elif sub == "eviction" and method == "POST":
        return await evict(h, request, t, q)
    elif sub == "finalize" and method == "PUT":
        body = parse_object_body(await read_body(request), request.headers.get("content-type", ""))
        fins = _field(body, "spec").get("finalizers") or []
        if not isinstance(fins, list) or not all(isinstance(f, str) for f in fins):
            raise errors.APIError(422, "Invalid", f'Namespace "{t.name}" is invalid: spec.finalizers: '
                                  "Invalid value: must be a list of strings")

        def set_fins(cur: dict[str, Any]) -> dict[str, Any]:
            cur.setdefault("spec", {})["finalizers"] = fins
            return cur
        return json_response(await h.registry.guaranteed_update(
            t.resource, None, t.name, set_fins, "finalize", dry_run=is_dry_run(q.get("dryRun"))))
    elif sub == "token" and method == "POST" and h.token_signer is not None:
        return await token_request(h, request, t)
    elif sub in ("log", "exec", "attach", "portforward", "proxy") and h.kubelet_proxy is not None:
        return await h.kubelet_proxy(request, t)
    raise errors.method_not_allowed()


async def scale(h: "Handlers", request: Request, t: Target, q: dict[str, str]) -> Response:
    assert t.name is not None
    if request.method == "GET":
        return json_response(to_scale(t.resource, await h.registry.get(t.resource, t.namespace, t.name)))
    if request.method not in ("PUT", "PATCH"):
        raise errors.method_not_allowed()
    dry_run = is_dry_run(q.get("dryRun"))
    raw = await read_body(request)
    ctype = request.headers.get("content-type", "")

    strategy = strategies.for_resource(t.resource)

    def mutate(cur: dict[str, Any]) -> dict[str, Any]:
        current = to_scale(t.resource, cur)
        if request.method == "PUT":
            new_scale = parse_object_body(raw, ctype)
            meta = new_scale.get("metadata")
            want_rv = meta.get("resourceVersion") if isinstance(meta, dict) else None
            if want_rv and want_rv != cur["metadata"]["resourceVersion"]:
                raise errors.conflict(t.resource, t.name or "")
        else:
            p = parse_object(raw, "application/json")
            pt = PATCH_TYPES.get(ctype.split(";")[0].strip())
            if pt is None:
                raise errors.unsupported_media_type(ctype)
            if pt == "json" and not isinstance(p, list):
                raise errors.bad_request("a JSON patch must be a list of operations")
            try:
                new_scale = (api_patch.json_patch(current, p) if pt == "json"
                             else api_patch.json_merge_patch(current, p))
            except (ValueError, KeyError, IndexError, TypeError) as e:
                raise errors.APIError(422 if pt == "json" else 400, "Invalid" if pt == "json" else "BadRequest",
                                      f"the server rejected our request due to an error in our request: {e}") from None
            if not isinstance(new_scale, dict):
                raise errors.bad_request("the patch produced something that is not an object")
        spec = new_scale.get("spec")
        replicas = spec.get("replicas") if isinstance(spec, dict) else None
        if not isinstance(replicas, int) or replicas < 0:
            raise errors.APIError(422, "Invalid", f'Scale.autoscaling "{t.name}" is invalid: '
                                  f"spec.replicas: Invalid value: {replicas}: must be greater than or equal to 0")
        strategy.set_replicas(cur, replicas)
        return cur
    out = await h.registry.guaranteed_update(t.resource, t.namespace, t.name, mutate, dry_run=dry_run)
    return json_response(to_scale(t.resource, out))


def _field(body: dict[str, Any], name: str) -> dict[str, Any]:
    """`body[name]` when it is an object (or absent: {}); 400 BadRequest otherwise."""
    value = body.get(name) or {}
    if not isinstance(value, dict):
        raise errors.bad_request(f"{name} must be an object")
    return value


async def bind(h: "Handlers", request: Request, t: Target, q: dict[str, str]) -> Response:
    body = parse_object_body(await read_body(request), request.headers.get("content-type", ""))
    node = _field(body, "target").get("name")
    if not node or not isinstance(node, str):
        raise errors.APIError(422, "Invalid", "Binding is invalid: target.name: Required value")
    assert t.name is not None

    def assign(pod: dict[str, Any]) -> dict[str, Any]:
        spec = pod.setdefault("spec", {})
        if pod["metadata"].get("deletionTimestamp"):
            raise errors.conflict(t.resource, t.name or "", "pod is being deleted, cannot be assigned to a host")
        if spec.get("nodeName"):
            raise errors.conflict(t.resource, t.name or "",
                                  f"pod {t.name} is already assigned to node \"{spec['nodeName']}\"")
        spec["nodeName"] = node
        status = pod.setdefault("status", {})
        conds = [c for c in status.get("conditions") or [] if c.get("type") != "PodScheduled"]
        conds.append({"type": "PodScheduled", "status": "True", "lastTransitionTime": now()})
        status["conditions"] = conds
        return pod
    # binding changes spec.nodeName, which plain updates may not; the "binding" path of the
    # registry skips pod-spec immutability
    await h.registry.guaranteed_update(t.resource, t.namespace, t.name, assign, "binding",
                                       dry_run=is_dry_run(q.get("dryRun")))
    return json_response(success(201), 201)


async def evict(h: "Handlers", request: Request, t: Target, q: dict[str, str]) -> Response:
    """policy/v1 Eviction: a pod delete honouring PodDisruptionBudgets (apiserver/eviction.py)."""
    from apiserver import eviction
    return await eviction.evict(h, request, t, q)


async def token_request(h: "Handlers", request: Request, t: Target) -> Response:
    """authentication.k8s.io/v1 TokenRequest on a ServiceAccount (`kubectl create token`)."""
    assert t.name is not None and h.token_signer is not None
    raw = await read_body(request)
    body = parse_object_body(raw, request.headers.get("content-type", ""), []) if raw.strip() else {}
    spec = body.get("spec") or {}
    if not isinstance(spec, dict):
        raise errors.bad_request("TokenRequest: spec must be an object")
    ref = spec.get("boundObjectRef")
    audiences = spec.get("audiences")
    if ref is not None and not isinstance(ref, dict):
        raise errors.bad_request("TokenRequest: spec.boundObjectRef must be an object")
    if audiences is not None and not (isinstance(audiences, list) and all(isinstance(a, str) for a in audiences)):
        raise errors.bad_request("TokenRequest: spec.audiences must be a list of strings")
    seconds = spec.get("expirationSeconds") or 3600
    if not isinstance(seconds, int) or seconds < 600 or seconds > 2 ** 32:
        raise errors.APIError(422, "Invalid", f'TokenRequest.authentication.k8s.io "{t.name}" is invalid: '
                              f"spec.expirationSeconds: Invalid value: {seconds}: may not specify a duration "
                              "less than 10 minutes", {"name": t.name, "group": "authentication.k8s.io",
                                                       "kind": "TokenRequest"})
    sa = await h.registry.get(t.resource, t.namespace, t.name)
    pod = None
    if ref:
        if ref.get("kind") != "Pod":
            raise errors.bad_request(f'cannot bind token to object of kind "{ref.get("kind")}": only Pod is supported')
        pod = await h.registry.get(by_kind("v1", "Pod"), t.namespace, ref.get("name", ""))
        if ref.get("uid") and ref["uid"] != pod["metadata"].get("uid"):
            raise errors.conflict(by_kind("v1", "Pod"), ref.get("name", ""),
                                  f"the UID in the bound object reference ({ref['uid']}) does not match the UID in record")
    token, exp = h.token_signer.issue(t.namespace or "", sa, spec.get("audiences"), seconds, pod)
    out_spec = {"audiences": spec.get("audiences") or list(h.token_signer.audiences),
                "expirationSeconds": seconds, "boundObjectRef": ref}
    return json_response({"kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1",
                          "metadata": {"name": t.name, "namespace": t.namespace, "creationTimestamp": now()},
                          "spec": {k: v for k, v in out_spec.items() if v is not None},
                          "status": {"token": token, "expirationTimestamp": datetime.fromtimestamp(
                              exp, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}}, 201)


def to_scale(resource: ResourceInfo, obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj["metadata"]
    spec_replicas, status_replicas, selector = strategies.for_resource(resource).scale_of(obj)
    return {"kind": "Scale", "apiVersion": "autoscaling/v1",
            "metadata": {"name": meta["name"], "namespace": meta.get("namespace"), "uid": meta.get("uid"),
                         "resourceVersion": meta["resourceVersion"],
                         "creationTimestamp": meta.get("creationTimestamp")},
            "spec": {"replicas": spec_replicas},
            "status": {"replicas": status_replicas, "selector": selector}}


def success(code: int) -> dict[str, Any]:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": code}
