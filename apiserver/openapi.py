"""OpenAPI v3 (`/openapi/v3`, `/openapi/v3/<group/version>`) and v2 (`/openapi/v2`) documents
with real schemas, generated from the project's models (api/models) and, for kinds without
a model (CRDs), from their strategy's `openapi_schema()`.

Definition names are Kubernetes' (`io.k8s.api.apps.v1.Deployment`,
`io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta`); each kind carries
`x-kubernetes-group-version-kind`; list fields carry the strategic-merge annotations of
api/patch_schema.py (`x-kubernetes-patch-merge-key`, `-patch-strategy`, `-list-type`,
`-list-map-keys`), so `kubectl explain` prints the fields and client-side apply merges lists
as it does against Kubernetes. Paths list every verb of every resource with the
`fieldValidation`, `fieldManager` and `dryRun` parameters (kubectl then validates
server-side). Documents are built on first request and cached; `invalidate()` drops them
when the served resources change (a CRD is established or removed).
"""
from __future__ import annotations

import hashlib
import json
from typing import Any

from pydantic import BaseModel

from api import patch_schema
from api.models import MODELS
from api.resources import ResourceInfo, all_resources, generation
from apiserver import strategies

Obj = dict[str, Any]
META = "io.k8s.apimachinery.pkg.apis.meta.v1"
#: api.models module -> the Kubernetes package its types live in
PACKAGES = {"base": META, "core": "io.k8s.api.core.v1", "pod": "io.k8s.api.core.v1",
            "quota": "io.k8s.api.core.v1", "apps": "io.k8s.api.apps.v1",
            "coordination": "io.k8s.api.coordination.v1", "rbac": "io.k8s.api.rbac.v1",
            "certificates": "io.k8s.api.certificates.v1", "networking": "io.k8s.api.networking.v1",
            "batch": "io.k8s.api.batch.v1", "policy": "io.k8s.api.policy.v1",
            "storage": "io.k8s.api.storage.v1", "autoscaling": "io.k8s.api.autoscaling.v2",
            "discovery": "io.k8s.api.discovery.v1", "replication": "io.k8s.api.core.v1",
            "persistentvolume": "io.k8s.api.core.v1", "apps_sets": "io.k8s.api.apps.v1"}

INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
_cache: dict[str, bytes] = {}


def invalidate() -> None:
    _cache.clear()


def _package(model: type[BaseModel]) -> str:
    mod = model.__module__.rsplit(".", 1)[-1]
    return PACKAGES.get(mod, f"io.k8s.pykube.{mod}")


def _model_classes(root: type[BaseModel], out: dict[str, type[BaseModel]]) -> None:
    """Every model class reachable from `root`, by class name."""
    import typing
    if root.__name__ in out:
        return
    out[root.__name__] = root
    for f in root.model_fields.values():
        stack = [f.annotation]
        while stack:
            tp = stack.pop()
            if isinstance(tp, type) and issubclass(tp, BaseModel):
                _model_classes(tp, out)
            stack.extend(typing.get_args(tp))


def _convert(node: Any, names: dict[str, str], owner: str | None = None, field: str = "") -> Any:
    """A pydantic JSON-schema node in Kubernetes' OpenAPI v3 style."""
    if isinstance(node, list):
        return [_convert(n, names) for n in node]
    if not isinstance(node, dict):
        return node
    if "anyOf" in node:
        opts = [o for o in node["anyOf"] if o.get("type") != "null"]
        types = sorted(o.get("type", "") for o in opts)
        if types == ["integer", "string"]:
            return {"allOf": [{"$ref": f"#/components/schemas/{INT_OR_STRING}"}]}
        if len(opts) == 1:
            return _convert({**{k: v for k, v in node.items() if k != "anyOf"}, **opts[0]}, names, owner, field)
    out: Obj = {}
    for k, v in node.items():
        if k in ("title", "default") and not isinstance(v, dict):
            continue
        if k == "$ref":
            return {"allOf": [{"$ref": "#/components/schemas/" + names[v.rsplit("/", 1)[-1]]}]}
        if k == "const":
            out["type"] = "string"
            continue
        if k == "properties":
            out[k] = {p: _convert(s, names, node.get("title"), p) for p, s in v.items()}
        elif k == "additionalProperties":
            out[k] = _convert(v, names) if isinstance(v, dict) and v else {"x-kubernetes-preserve-unknown-fields": True}
        else:
            out[k] = _convert(v, names)
    meta = patch_schema.lookup(owner, field) if owner else patch_schema.PLAIN
    if out.get("type") == "array" and meta.strategy:
        out["x-kubernetes-patch-strategy"] = "merge" + (",retainKeys" if meta.retain_keys else "")
        if meta.key:
            out["x-kubernetes-patch-merge-key"] = meta.key
            out["x-kubernetes-list-type"] = "map"
            out["x-kubernetes-list-map-keys"] = [meta.key]
        else:
            out["x-kubernetes-list-type"] = "set"
    if out == {}:
        return {"x-kubernetes-preserve-unknown-fields": True}
    return out


def schemas_for(resources: list[ResourceInfo]) -> Obj:
    """components.schemas for these resources: their models and everything they use."""
    by_resource = {m.RESOURCE: m for m in MODELS if hasattr(m, "RESOURCE")}
    schemas: Obj = {INT_OR_STRING: {"x-kubernetes-int-or-string": True, "format": "int-or-string",
                                    "anyOf": [{"type": "integer"}, {"type": "string"}]}}
    for r in resources:
        custom = strategies.for_resource(r).openapi_schema()
        gvk = [{"group": r.group, "version": r.version, "kind": r.kind}]
        if custom is not None or r not in by_resource:
            name = f"{'.'.join(reversed(r.group.split('.'))) if r.group else 'io.k8s.api.core'}.{r.version}.{r.kind}"
            schemas[name] = {**_with_standard_fields(custom or {"type": "object",
                                                                "x-kubernetes-preserve-unknown-fields": True}),
                             "x-kubernetes-group-version-kind": gvk}
            _add_object_meta(schemas)
            _list_schema(schemas, name, r)
            continue
        model = by_resource[r]
        classes: dict[str, type[BaseModel]] = {}
        _model_classes(model, classes)
        names = {n: f"{_package(c)}.{n}" for n, c in classes.items()}
        raw = model.model_json_schema(by_alias=True, ref_template="#/$defs/{model}")
        for n, d in raw.pop("$defs", {}).items():
            schemas.setdefault(names[n], _convert(d, names))
        top = _convert(raw, names)
        top["x-kubernetes-group-version-kind"] = gvk
        name = names[model.__name__]
        schemas[name] = top
        _list_schema(schemas, name, r)
    return schemas


def _with_standard_fields(schema: Obj) -> Obj:
    """A CRD's schema as kube-apiserver publishes it: apiVersion, kind and metadata added
    (clients computing patches look metadata up in it)."""
    props = dict(schema.get("properties") or {})
    props.setdefault("apiVersion", {"type": "string"})
    props.setdefault("kind", {"type": "string"})
    props["metadata"] = {"allOf": [{"$ref": f"#/components/schemas/{META}.ObjectMeta"}]}
    return {**schema, "type": "object", "properties": props}


def _add_object_meta(schemas: Obj) -> None:
    if f"{META}.ObjectMeta" in schemas:
        return
    from api.models.base import ObjectMeta
    classes: dict[str, type[BaseModel]] = {}
    _model_classes(ObjectMeta, classes)
    names = {n: f"{_package(c)}.{n}" for n, c in classes.items()}
    raw = ObjectMeta.model_json_schema(by_alias=True, ref_template="#/$defs/{model}")
    for n, d in raw.pop("$defs", {}).items():
        schemas.setdefault(names[n], _convert(d, names))
    schemas[names["ObjectMeta"]] = _convert(raw, names)


def _list_schema(schemas: Obj, item_name: str, r: ResourceInfo) -> None:
    schemas[item_name + "List"] = {
        "type": "object", "required": ["items"],
        "properties": {"apiVersion": {"type": "string"}, "kind": {"type": "string"},
                       "metadata": {"allOf": [{"$ref": f"#/components/schemas/{META}.ListMeta"}]},
                       "items": {"type": "array", "items": {"allOf": [{"$ref": f"#/components/schemas/{item_name}"}]}}},
        "x-kubernetes-group-version-kind": [{"group": r.group, "version": r.version, "kind": r.list_kind}]}
    schemas.setdefault(f"{META}.ListMeta", {"type": "object", "properties": {
        "resourceVersion": {"type": "string"}, "continue": {"type": "string"},
        "remainingItemCount": {"type": "integer", "format": "int64"}}})


def _gv_path(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def _operations(r: ResourceInfo, ref: str) -> Obj:
    gvk = {"group": r.group, "version": r.version, "kind": r.kind}
    body = {"content": {"application/json": {"schema": {"$ref": ref}}}}
    ok = {"200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": ref}}}}}
    write_params = [{"name": n, "in": "query", "schema": {"type": "string", "uniqueItems": True}}
                    for n in ("dryRun", "fieldManager", "fieldValidation")]
    ns = "/namespaces/{namespace}" if r.namespaced else ""
    base = f"/{_gv_path(r.group, r.version)}{ns}/{r.plural}"
    path_params = [{"name": "namespace", "in": "path", "required": True, "schema": {"type": "string"}}] \
        if r.namespaced else []
    name_param = [{"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}]

    def op(verb: str, action: str, **extra: Any) -> Obj:
        return {"operationId": f"{verb}{r.kind}", "x-kubernetes-action": action,
                "x-kubernetes-group-version-kind": gvk, "responses": ok, **extra}
    patch_body = {"content": {ct: {"schema": {"type": "object"}} for ct in (
        "application/json-patch+json", "application/merge-patch+json",
        "application/strategic-merge-patch+json", "application/apply-patch+yaml")}}
    return {
        base: {"parameters": path_params,
               "get": op("list", "list"), "post": op("create", "post", parameters=write_params, requestBody=body),
               "delete": op("deletecollection", "deletecollection")},
        base + "/{name}": {"parameters": path_params + name_param,
                           "get": op("read", "get"),
                           "put": op("replace", "put", parameters=write_params, requestBody=body),
                           "patch": op("patch", "patch", parameters=write_params, requestBody=patch_body),
                           "delete": op("delete", "delete")},
    }


def _resources() -> list[ResourceInfo]:
    return list(all_resources())


_generation = -1


def _fresh() -> None:
    """Drop the cached documents when the served resources changed (a CRD came or went)."""
    global _generation
    if _generation != generation():
        _cache.clear()
        _generation = generation()


def group_versions() -> list[tuple[str, str]]:
    seen: list[tuple[str, str]] = []
    for r in _resources():
        if (r.group, r.version) not in seen:
            seen.append((r.group, r.version))
    return seen


def v3_document(gv_path: str) -> bytes | None:
    _fresh()
    if gv_path in _cache:
        return _cache[gv_path]
    res = [r for r in _resources() if _gv_path(r.group, r.version) == gv_path]
    if not res:
        return None
    schemas = schemas_for(res)
    paths: Obj = {}
    for r in res:
        item = next(n for n, s in schemas.items()
                    if {"group": r.group, "version": r.version, "kind": r.kind}
                    in s.get("x-kubernetes-group-version-kind", []))
        paths.update(_operations(r, f"#/components/schemas/{item}"))
    doc = {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": "v1.31.0"},
           "paths": paths, "components": {"schemas": schemas}}
    _cache[gv_path] = json.dumps(doc).encode()
    return _cache[gv_path]


def v3_root() -> Obj:
    paths = {}
    for g, v in group_versions():
        p = _gv_path(g, v)
        digest = hashlib.sha512(v3_document(p) or b"").hexdigest()[:128].upper()
        paths[p] = {"serverRelativeURL": f"/openapi/v3/{p}?hash={digest}"}
    return {"paths": paths}


def v2_document() -> bytes:
    """Swagger 2.0: the same definitions (refs rewritten to #/definitions/)."""
    _fresh()
    if "v2" in _cache:
        return _cache["v2"]
    definitions: Obj = {}
    paths: Obj = {}
    for g, v in group_versions():
        doc = json.loads(v3_document(_gv_path(g, v)) or b"{}")
        definitions.update(doc.get("components", {}).get("schemas", {}))
        for p, ops in doc.get("paths", {}).items():
            paths[p] = {k: v2_op(o) if isinstance(o, dict) else o for k, o in ops.items() if k != "parameters"}
    text = json.dumps({"swagger": "2.0", "info": {"title": "Kubernetes", "version": "v1.31.0"},
                       "paths": paths, "definitions": definitions})
    _cache["v2"] = text.replace("#/components/schemas/", "#/definitions/").encode()
    return _cache["v2"]


def v2_op(op: Obj) -> Obj:
    return {k: v for k, v in op.items() if k not in ("requestBody", "responses")} | {
        "responses": {"200": {"description": "OK"}}}
