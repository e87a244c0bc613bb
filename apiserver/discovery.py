"""Discovery and OpenAPI documents, built from the resource table.

Owns: legacy discovery (`/api` APIVersions, `/apis` APIGroupList, `/api/v1` and
`/apis/<g>/<v>` APIResourceList), aggregated discovery v2 (`APIGroupDiscoveryList`, what
kubectl asks for first), `/version`, and the minimal `/openapi/v3` documents that let
`kubectl apply` run with its default (strict) validation, leaving validation to the
server (see shared/KUBECTL-COMPAT.md).
"""
from __future__ import annotations

import hashlib
import json
import platform
from typing import Any

from api.resources import RESOURCES, ResourceInfo
from apiserver.metrics_api import RESOURCES as METRICS_RESOURCES

# what discovery lists: the stored kinds, and the metrics API served beside them (metrics_api.py)
SERVED: tuple[ResourceInfo, ...] = RESOURCES + METRICS_RESOURCES

AGGREGATED_CT = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
GIT_VERSION = "v1.31.0-pykube"


def group_versions() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for r in SERVED:
        out.setdefault(r.group, [])
        if r.version not in out[r.group]:
            out[r.group].append(r.version)
    return out


def _sub_verbs(sub: str) -> list[str]:
    return {"status": ["get", "patch", "update"], "scale": ["get", "patch", "update"],
            "binding": ["create"], "eviction": ["create"], "log": ["get"],
            "exec": ["create", "get"]}.get(sub, ["get"])


def resource_list(group: str, version: str) -> dict[str, Any]:
    resources: list[dict[str, Any]] = []
    for r in SERVED:
        if r.group != group or r.version != version:
            continue
        entry: dict[str, Any] = {"name": r.plural, "singularName": r.singular,
                                 "namespaced": r.namespaced, "kind": r.kind, "verbs": list(r.verbs)}
        if r.short_names:
            entry["shortNames"] = list(r.short_names)
        if r.categories:
            entry["categories"] = list(r.categories)
        resources.append(entry)
        for sub in r.subresources:
            kind = "Scale" if sub == "scale" else "Binding" if sub == "binding" else r.kind
            resources.append({"name": f"{r.plural}/{sub}", "singularName": "", "namespaced": r.namespaced,
                              "kind": kind, "verbs": _sub_verbs(sub)})
    gv = f"{group}/{version}" if group else version
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}


def api_versions() -> dict[str, Any]:
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": ""}]}


def api_group_list() -> dict[str, Any]:
    groups = []
    for g, versions in group_versions().items():
        if not g:
            continue
        vs = [{"groupVersion": f"{g}/{v}", "version": v} for v in versions]
        groups.append({"name": g, "versions": vs, "preferredVersion": vs[0]})
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_group(group: str) -> dict[str, Any] | None:
    for g in api_group_list()["groups"]:
        if g["name"] == group:
            return {"kind": "APIGroup", "apiVersion": "v1", **g}
    return None


def _aggregated_resource(r: ResourceInfo) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "resource": r.plural, "singularResource": r.singular,
        "responseKind": {"group": r.group, "version": r.version, "kind": r.kind},
        "scope": "Namespaced" if r.namespaced else "Cluster", "verbs": list(r.verbs)}
    if r.short_names:
        entry["shortNames"] = list(r.short_names)
    if r.categories:
        entry["categories"] = list(r.categories)
    subs = []
    for sub in r.subresources:
        kind = "Scale" if sub == "scale" else "Binding" if sub == "binding" else r.kind
        grp, ver = ("autoscaling", "v1") if sub == "scale" else (r.group, r.version)
        subs.append({"subresource": sub, "responseKind": {"group": grp, "version": ver, "kind": kind},
                     "verbs": _sub_verbs(sub)})
    if subs:
        entry["subresources"] = subs
    return entry


def aggregated(core: bool) -> dict[str, Any]:
    items = []
    for g, versions in group_versions().items():
        if core != (g == ""):
            continue
        items.append({"metadata": {"name": g},
                      "versions": [{"version": v, "freshness": "Current", "resources": [
                          _aggregated_resource(r) for r in SERVED if r.group == g and r.version == v]}
                          for v in versions]})
    return {"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2",
            "metadata": {}, "items": items}


def version_info() -> dict[str, Any]:
    return {"major": "1", "minor": "31", "gitVersion": GIT_VERSION, "gitCommit": "",
            "gitTreeState": "clean", "buildDate": "2026-11-22T00:00:00Z",
            "goVersion": f"python{platform.python_version()}", "compiler": "cpython",
            "platform": f"linux/{platform.machine()}"}


# ----------------------------------------------------------------- openapi v3
def _gv_path(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def _openapi_gv(group: str, version: str) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for r in RESOURCES:
        if r.group != group or r.version != version:
            continue
        gvk = {"group": r.group, "version": r.version, "kind": r.kind}
        ns = "/namespaces/{namespace}" if r.namespaced else ""
        path = f"/{_gv_path(group, version)}{ns}/{r.plural}/{{name}}"
        params = [{"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}]
        op_params = [{"name": n, "in": "query", "schema": {"type": "string"}}
                     for n in ("dryRun", "fieldManager", "fieldValidation")]
        if r.namespaced:
            params.append({"name": "namespace", "in": "path", "required": True, "schema": {"type": "string"}})
        ref = f"io.k8s.pykube.{r.group or 'core'}.{r.version}.{r.kind}"
        schemas[ref] = {"type": "object", "x-kubernetes-group-version-kind": [gvk],
                        "x-kubernetes-preserve-unknown-fields": True}
        paths[path] = {"parameters": params, "patch": {
            "operationId": f"patch{r.kind}", "x-kubernetes-action": "patch", "parameters": op_params,
            "x-kubernetes-group-version-kind": gvk,
            "requestBody": {"content": {"application/merge-patch+json": {"schema": {"type": "object"}}}},
            "responses": {"200": {"description": "OK", "content": {"application/json": {
                "schema": {"$ref": f"#/components/schemas/{ref}"}}}}}}}
    return {"openapi": "3.0.0", "info": {"title": "pykube", "version": GIT_VERSION},
            "paths": paths, "components": {"schemas": schemas}}


_OPENAPI_CACHE: dict[str, bytes] = {}


def openapi_document(gv_path: str) -> bytes | None:
    if not _OPENAPI_CACHE:
        for g, versions in group_versions().items():
            for v in versions:
                _OPENAPI_CACHE[_gv_path(g, v)] = json.dumps(_openapi_gv(g, v)).encode()
    return _OPENAPI_CACHE.get(gv_path)


def openapi_root() -> dict[str, Any]:
    paths = {}
    for g, versions in group_versions().items():
        for v in versions:
            p = _gv_path(g, v)
            digest = hashlib.sha256(openapi_document(p) or b"").hexdigest()[:16].upper()
            paths[p] = {"serverRelativeURL": f"/openapi/v3/{p}?hash={digest}"}
    return {"paths": paths}
