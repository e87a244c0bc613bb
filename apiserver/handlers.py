"""The REST handlers: one dispatcher for every resource path, verbs mapped to the registry.

Owns the mapping from (HTTP method, path shape, query) to registry calls: get, list, watch,
create, update, patch, delete, deletecollection, and the subresources status, scale,
binding, eviction and namespaces' finalize. Pure translation: the write semantics live
in `registry.py`, the read side in `reads.py`.
"""
from __future__ import annotations

from typing import Any, Callable

from starlette.requests import Request
from starlette.responses import Response

from api import patch as api_patch
from api import scheme
from api.resources import ResourceInfo
from api.validation import InvalidError
from apiserver import errors, reads
from apiserver.registry import DeleteOptions, Registry, now
from apiserver.request import (Target, json_response, parse_object, parse_object_body,
                               read_body, wants_table, warning_headers)
from apiserver.watchcache import WatchCache

PATCH_TYPES = {"application/merge-patch+json": "merge", "application/json-patch+json": "json",
               "application/strategic-merge-patch+json": "strategic"}


class Handlers:
    def __init__(self, registry: Registry, cache: WatchCache) -> None:
        self.registry, self.cache = registry, cache
        self.kubelet_proxy: Callable[..., Any] | None = None   # set by the server (logs, exec)

    async def dispatch(self, request: Request, t: Target) -> Response:
        method = request.method
        q = dict(request.query_params)
        if t.name is None:
            if method == "GET":
                if q.get("watch") in ("1", "true"):
                    return await reads.watch_objects(self.cache, t.resource, t.namespace, q)
                return await reads.list_objects(self.cache, t.resource, t.namespace, q, wants_table(request))
            if method == "POST":
                return await self.create(request, t)
            if method == "DELETE":
                return await self.delete_collection(request, t, q)
            raise errors.method_not_allowed()
        if t.subresource:
            return await self.subresource(request, t, q)
        if method == "GET":
            if q.get("watch") in ("1", "true"):   # legacy watch on a single object
                q["fieldSelector"] = f"metadata.name={t.name}"
                return await reads.watch_objects(self.cache, t.resource, t.namespace, q)
            obj = await self.registry.get(t.resource, t.namespace, t.name)
            if wants_table(request):
                return json_response(reads.make_table(t.resource, [obj], {
                    "resourceVersion": obj["metadata"]["resourceVersion"]}))
            return json_response(obj)
        if method == "PUT":
            return await self.update(request, t)
        if method == "PATCH":
            return await self.patch(request, t, q)
        if method == "DELETE":
            return await self.delete(request, t, q)
        raise errors.method_not_allowed()

    # ------------------------------------------------------------------ decoding
    async def _decode(self, request: Request, t: Target) -> tuple[dict[str, Any], list[str]]:
        body = parse_object_body(await read_body(request), request.headers.get("content-type", ""))
        return self._clean(t.resource, body)

    @staticmethod
    def _clean(resource: ResourceInfo, body: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        kind, av = body.get("kind"), body.get("apiVersion")
        if kind and kind != resource.kind or av and av != resource.api_version:
            raise errors.bad_request(
                f"the API version in the data ({av}) and kind ({kind}) do not match the "
                f"resource {resource.api_version}/{resource.kind}")
        body.setdefault("kind", resource.kind)
        body.setdefault("apiVersion", resource.api_version)
        try:
            return scheme.decode(resource, body)
        except InvalidError as e:
            name = (body.get("metadata") or {}).get("name") or ""
            raise errors.invalid(resource, resource.kind, name, e.errors) from None

    # ------------------------------------------------------------------ writes
    async def create(self, request: Request, t: Target) -> Response:
        obj, warnings = await self._decode(request, t)
        created = await self.registry.create(t.resource, t.namespace, obj)
        return json_response(created, 201, warning_headers(warnings))

    async def update(self, request: Request, t: Target, sub: str | None = None) -> Response:
        obj, warnings = await self._decode(request, t)
        assert t.name is not None
        updated = await self.registry.update(t.resource, t.namespace, t.name, obj, sub)
        return json_response(updated, 200, warning_headers(warnings))

    def _patcher(self, request_ctype: str, raw: bytes, resource: ResourceInfo,
                 warnings: list[str]) -> Callable[[dict[str, Any]], dict[str, Any]]:
        ctype = request_ctype.split(";")[0].strip()
        ptype = PATCH_TYPES.get(ctype)
        if ptype is None:
            raise errors.unsupported_media_type(ctype)
        patch = parse_object(raw, "application/json")
        if ptype != "json" and not isinstance(patch, dict):
            raise errors.bad_request("the patch must be a JSON object")
        if ptype == "json" and not isinstance(patch, list):
            raise errors.bad_request("a JSON patch must be a list of operations")
        want_rv = ((patch.get("metadata") or {}).get("resourceVersion")
                   if isinstance(patch, dict) else None)

        def mutate(cur: dict[str, Any]) -> dict[str, Any]:
            if want_rv and str(want_rv) != cur["metadata"]["resourceVersion"]:
                raise errors.conflict(resource, cur["metadata"]["name"])
            try:
                if ptype == "merge":
                    new = api_patch.json_merge_patch(cur, patch)
                elif ptype == "json":
                    new = api_patch.json_patch(cur, patch)
                else:
                    new = api_patch.strategic_merge_patch(cur, patch, resource.kind)
            except (ValueError, KeyError, IndexError, TypeError) as e:
                raise errors.APIError(422 if ptype == "json" else 400,
                                      "Invalid" if ptype == "json" else "BadRequest",
                                      f"the server rejected our request due to an error in our request: {e}") from None
            if not isinstance(new, dict):
                raise errors.bad_request("the patch produced something that is not an object")
            new.setdefault("metadata", {})["resourceVersion"] = cur["metadata"]["resourceVersion"]
            clean, w = self._clean(resource, new)
            warnings[:] = w
            return clean
        return mutate

    async def patch(self, request: Request, t: Target, q: dict[str, str], sub: str | None = None) -> Response:
        raw = await read_body(request)
        warnings: list[str] = []
        mutate = self._patcher(request.headers.get("content-type", ""), raw, t.resource, warnings)
        assert t.name is not None
        out = await self.registry.guaranteed_update(t.resource, t.namespace, t.name, mutate, sub)
        return json_response(out, 200, warning_headers(warnings))

    async def delete(self, request: Request, t: Target, q: dict[str, str]) -> Response:
        raw = await read_body(request)
        body = parse_object_body(raw, "application/json") if raw.strip() else {}
        assert t.name is not None
        obj = await self.registry.delete(t.resource, t.namespace, t.name, DeleteOptions.from_body(body, q))
        return json_response(obj)

    async def delete_collection(self, request: Request, t: Target, q: dict[str, str]) -> Response:
        raw = await read_body(request)
        body = parse_object_body(raw, "application/json") if raw.strip() else {}
        opts = DeleteOptions.from_body(body, q)
        sel = reads.Selection(t.resource, t.namespace, q)
        await self.cache.sync()
        items = []
        for co in sel.objects(self.cache):
            meta = co.obj["metadata"]
            try:
                items.append(await self.registry.delete(t.resource, meta.get("namespace"), meta["name"], opts))
            except errors.APIError as e:
                if e.code != 404:
                    raise
        return json_response({"kind": t.resource.list_kind, "apiVersion": t.resource.api_version,
                              "metadata": {"resourceVersion": str(self.cache.rv)}, "items": items})

    # ------------------------------------------------------------------ subresources
    async def subresource(self, request: Request, t: Target, q: dict[str, str]) -> Response:
        sub, method = t.subresource, request.method
        assert t.name is not None
        if sub == "status":
            if method == "GET":
                return json_response(await self.registry.get(t.resource, t.namespace, t.name))
            if method == "PUT":
                return await self.update(request, t, "status")
            if method == "PATCH":
                return await self.patch(request, t, q, "status")
        elif sub == "scale":
            return await self.scale(request, t)
        elif sub == "binding" and method == "POST":
            return await self.bind(request, t)
        elif sub == "eviction" and method == "POST":
            await self.registry.delete(t.resource, t.namespace, t.name, DeleteOptions())
            return json_response(_success(201), 201)
        elif sub == "finalize" and method == "PUT":
            body = parse_object_body(await read_body(request), request.headers.get("content-type", ""))
            fins = (body.get("spec") or {}).get("finalizers") or []

            def set_fins(cur: dict[str, Any]) -> dict[str, Any]:
                cur.setdefault("spec", {})["finalizers"] = fins
                return cur
            return json_response(await self.registry.guaranteed_update(
                t.resource, None, t.name, set_fins, "finalize"))
        elif sub in ("log", "exec") and self.kubelet_proxy is not None:
            return await self.kubelet_proxy(request, t)
        raise errors.method_not_allowed()

    async def scale(self, request: Request, t: Target) -> Response:
        assert t.name is not None
        if request.method == "GET":
            return json_response(_to_scale(await self.registry.get(t.resource, t.namespace, t.name)))
        if request.method not in ("PUT", "PATCH"):
            raise errors.method_not_allowed()
        raw = await read_body(request)
        ctype = request.headers.get("content-type", "")

        def mutate(cur: dict[str, Any]) -> dict[str, Any]:
            scale = _to_scale(cur)
            if request.method == "PUT":
                new_scale = parse_object_body(raw, ctype)
                want_rv = (new_scale.get("metadata") or {}).get("resourceVersion")
                if want_rv and want_rv != cur["metadata"]["resourceVersion"]:
                    raise errors.conflict(t.resource, t.name or "")
            else:
                p = parse_object(raw, "application/json")
                pt = PATCH_TYPES.get(ctype.split(";")[0].strip())
                if pt is None:
                    raise errors.unsupported_media_type(ctype)
                new_scale = (api_patch.json_patch(scale, p) if pt == "json"
                             else api_patch.json_merge_patch(scale, p))
            replicas = (new_scale.get("spec") or {}).get("replicas")
            if not isinstance(replicas, int) or replicas < 0:
                raise errors.APIError(422, "Invalid", f'Scale.autoscaling "{t.name}" is invalid: '
                                      f"spec.replicas: Invalid value: {replicas}: must be greater than or equal to 0")
            cur.setdefault("spec", {})["replicas"] = replicas
            return cur
        out = await self.registry.guaranteed_update(t.resource, t.namespace, t.name, mutate)
        return json_response(_to_scale(out))

    async def bind(self, request: Request, t: Target) -> Response:
        body = parse_object_body(await read_body(request), request.headers.get("content-type", ""))
        node = (body.get("target") or {}).get("name")
        if not node:
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
            conds.append({"type": "PodScheduled", "status": "True", "lastProbeTime": None,
                          "lastTransitionTime": now()})
            conds[-1].pop("lastProbeTime")
            status["conditions"] = conds
            return pod
        # binding changes spec.nodeName, which plain updates may not; write through the
        # status path so validation of pod-spec immutability does not apply
        await self.registry.guaranteed_update(t.resource, t.namespace, t.name, assign, "binding")
        return json_response(_success(201), 201)


def _to_scale(obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj["metadata"]
    sel = (obj.get("spec") or {}).get("selector") or {}
    from api.tables import format_label_selector
    selector = format_label_selector(sel) if sel else ""
    return {"kind": "Scale", "apiVersion": "autoscaling/v1",
            "metadata": {"name": meta["name"], "namespace": meta.get("namespace"), "uid": meta.get("uid"),
                         "resourceVersion": meta["resourceVersion"],
                         "creationTimestamp": meta.get("creationTimestamp")},
            "spec": {"replicas": (obj.get("spec") or {}).get("replicas", 0)},
            "status": {"replicas": (obj.get("status") or {}).get("replicas", 0),
                       "selector": selector if selector != "<none>" else ""}}


def _success(code: int) -> dict[str, Any]:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": code}
