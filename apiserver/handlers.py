"""The REST handlers: one dispatcher for every resource path, verbs mapped to the registry.

Owns the mapping from (HTTP method, path shape, query) to registry calls: get, list, watch,
create, update, patch, delete and deletecollection, with `dryRun=All` honoured on every
write; subresources go to `subresources.py`. Pure translation: the write semantics live in
`registry.py`, the read side in `reads.py`.
"""
from __future__ import annotations

from typing import Any, Callable

from starlette.requests import Request
from starlette.responses import Response

from api import patch as api_patch
from api.resources import ResourceInfo
from api.validation import InvalidError
from apiserver import errors, fieldmanager, fieldvalidation, reads, strategies, subresources
from apiserver.registry import DeleteOptions, Registry, is_dry_run, now
from apiserver.request import (PATCH_TYPES, Target, json_response, parse_object,
                               parse_object_body, read_body, table_include, warning_headers)
from apiserver.watchcache import WatchCache
from apiserver.wire import dumps

Mutate = Callable[[dict[str, Any]], dict[str, Any]]


class Handlers:
    def __init__(self, registry: Registry, cache: WatchCache) -> None:
        self.registry, self.cache = registry, cache
        self.kubelet_proxy: Callable[..., Any] | None = None   # set by the server (logs, exec)
        self.token_signer: Any = None   # set by the server: auth.serviceaccount.TokenSigner

    async def dispatch(self, request: Request, t: Target) -> Response:
        method = request.method
        q = dict(request.query_params) if request.scope.get("query_string") else {}
        if method in ("POST", "PUT", "PATCH"):
            manager = fieldmanager.manager_for(q, request.headers.get("user-agent", ""))
            apply = request.headers.get("content-type", "").startswith("application/apply-patch")
            token = fieldmanager.current_manager.set((manager, "Apply" if apply else "Update"))
            try:
                return await self._dispatch(request, t, q, method)
            finally:
                fieldmanager.current_manager.reset(token)
        return await self._dispatch(request, t, q, method)

    async def _dispatch(self, request: Request, t: Target, q: dict[str, str], method: str) -> Response:
        if t.name is None:
            if method == "GET":
                table = table_include(request, q)
                if q.get("watch") in ("1", "true"):
                    return await reads.watch_objects(self.cache, t.resource, t.namespace, q, table=table)
                return await reads.list_objects(self.cache, t.resource, t.namespace, q, table)
            if method == "POST":
                return await self.create(request, t, q)
            if method == "DELETE":
                return await self.delete_collection(request, t, q)
            raise errors.method_not_allowed()
        if t.subresource:
            return await subresources.handle(self, request, t, q)
        if method == "GET":
            table = table_include(request, q)
            if q.get("watch") in ("1", "true"):   # legacy watch on a single object
                q["fieldSelector"] = f"metadata.name={t.name}"
                return await reads.watch_objects(self.cache, t.resource, t.namespace, q, table=table)
            obj = await self.registry.get(t.resource, t.namespace, t.name)
            if table:
                return json_response(reads.make_table(t.resource, [obj], {
                    "resourceVersion": obj["metadata"]["resourceVersion"]}, table))
            return json_response(obj)
        if method == "PUT":
            return await self.update(request, t, q)
        if method == "PATCH":
            return await self.patch(request, t, q)
        if method == "DELETE":
            return await self.delete(request, t, q)
        raise errors.method_not_allowed()

    # ------------------------------------------------------------------ decoding
    async def decode(self, request: Request, t: Target, q: dict[str, str] | None = None
                     ) -> tuple[dict[str, Any], list[str]]:
        """The clean object and the warnings to send, after `fieldValidation` (400 under
        Strict for unknown or duplicate fields)."""
        how = fieldvalidation.mode(q or {})
        dropped: list[str] = []
        raw = await read_body(request)
        ctype = request.headers.get("content-type", "")
        body = parse_object_body(raw, ctype, dropped)
        clean, warnings = self.clean(t.resource, body)
        return clean, dropped + fieldvalidation.body_warnings(t.resource, how, raw, ctype, warnings)

    @staticmethod
    def clean(resource: ResourceInfo, body: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        kind, av = body.get("kind"), body.get("apiVersion")
        if kind and kind != resource.kind or av and av != resource.api_version:
            raise errors.bad_request(
                f"the API version in the data ({av}) and kind ({kind}) do not match the "
                f"resource {resource.api_version}/{resource.kind}")
        body.setdefault("kind", resource.kind)
        body.setdefault("apiVersion", resource.api_version)
        try:
            return strategies.for_resource(resource).decode(body)
        except InvalidError as e:
            meta = body.get("metadata")
            name = meta.get("name") if isinstance(meta, dict) else ""
            raise errors.invalid(resource, resource.kind, name if isinstance(name, str) else "", e.errors) from None

    # ------------------------------------------------------------------ writes
    async def create(self, request: Request, t: Target, q: dict[str, str]) -> Response:
        dry_run = is_dry_run(q.get("dryRun"))
        obj, warnings = await self.decode(request, t, q)
        created = await self.registry.create(t.resource, t.namespace, obj, dry_run=dry_run)
        return json_response(created, 201, warning_headers(warnings))

    async def update(self, request: Request, t: Target, q: dict[str, str], sub: str | None = None) -> Response:
        dry_run = is_dry_run(q.get("dryRun"))
        obj, warnings = await self.decode(request, t, q)
        assert t.name is not None
        updated = await self.registry.update(t.resource, t.namespace, t.name, obj, sub, dry_run=dry_run)
        return json_response(updated, 200, warning_headers(warnings))

    def patcher(self, request_ctype: str, raw: bytes, resource: ResourceInfo, warnings: list[str],
                how: str = "Warn") -> Mutate:
        ctype = request_ctype.split(";")[0].strip()
        ptype = PATCH_TYPES.get(ctype)
        if ptype is None or ptype == "apply":   # apply to a subresource is not supported
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
            clean, w = self.clean(resource, new)
            warnings[:] = fieldvalidation.patch_warnings(resource, how, ptype, raw, patch, new, w)
            return clean
        return mutate

    async def apply(self, request: Request, t: Target, q: dict[str, str], raw: bytes) -> Response:
        """Server-side apply (`application/apply-patch+yaml`): create or merge, owning what
        the configuration names."""
        assert t.name is not None
        if not q.get("fieldManager"):
            raise errors.bad_request("PATCH " + request.url.path + ": fieldManager is required for apply requests")
        force = q.get("force") in ("true", "1")
        if q.get("force") and not force and q.get("force") != "false":
            raise errors.bad_request(f'invalid value for force: "{q.get("force")}"')
        dry_run = is_dry_run(q.get("dryRun"))
        how = fieldvalidation.mode(q)
        applied = fieldmanager.parse_applied(raw, t.resource, t.name)
        repeated = fieldvalidation.apply_warnings(how, raw)
        warnings: list[str] = []

        def clean(obj: dict[str, Any]) -> dict[str, Any]:
            out, w = self.clean(t.resource, obj)
            warnings[:] = repeated + fieldvalidation.decide(t.resource, how, w)
            return out
        mutate = fieldmanager.applier(applied, t.resource, q["fieldManager"], force, now, clean)
        try:
            out = await self.registry.guaranteed_update(t.resource, t.namespace, t.name, mutate, dry_run=dry_run)
            return json_response(out, 200, warning_headers(warnings))
        except errors.APIError as e:
            if e.code != 404 or (e.details or {}).get("name") != t.name:
                raise
        created = await self.registry.create(t.resource, t.namespace, mutate(None), dry_run=dry_run)
        return json_response(created, 201, warning_headers(warnings))

    async def patch(self, request: Request, t: Target, q: dict[str, str], sub: str | None = None) -> Response:
        dry_run = is_dry_run(q.get("dryRun"))
        raw = await read_body(request)
        if request.headers.get("content-type", "").startswith("application/apply-patch") and sub is None:
            return await self.apply(request, t, q, raw)
        warnings: list[str] = []
        mutate = self.patcher(request.headers.get("content-type", ""), raw, t.resource, warnings,
                              fieldvalidation.mode(q))
        assert t.name is not None
        out = await self.registry.guaranteed_update(t.resource, t.namespace, t.name, mutate, sub,
                                                    dry_run=dry_run)
        return json_response(out, 200, warning_headers(warnings))

    async def delete_options(self, request: Request, q: dict[str, str]) -> DeleteOptions:
        """DeleteOptions from the body (JSON, or protobuf as kubectl drain sends it) and query."""
        raw = await read_body(request)
        body = parse_object_body(raw, request.headers.get("content-type", ""),
                                 default_kind="DeleteOptions") if raw.strip() else {}
        return DeleteOptions.from_body(body, q)

    async def delete(self, request: Request, t: Target, q: dict[str, str]) -> Response:
        opts = await self.delete_options(request, q)
        assert t.name is not None
        obj = await self.registry.delete(t.resource, t.namespace, t.name, opts)
        return json_response(obj)

    async def delete_collection(self, request: Request, t: Target, q: dict[str, str]) -> Response:
        opts = await self.delete_options(request, q)
        sel = reads.Selection(t.resource, t.namespace, q)
        await self.cache.sync()
        items: list[bytes] = []    # each deleted object serialised at once: thousands of
        for co in sel.objects(self.cache):   # pods as dicts would take hundreds of MiB
            ns = co.namespace
            name = co.key.rsplit("/", 1)[-1]
            try:
                items.append(dumps(await self.registry.delete(t.resource, ns, name, opts)))
            except errors.APIError as e:
                if e.code != 404:
                    raise
        head = dumps({"kind": t.resource.list_kind, "apiVersion": t.resource.api_version,
                      "metadata": {"resourceVersion": str(self.cache.rv)}})
        return json_response(head[:-1] + b',"items":[' + b",".join(items) + b"]}")
