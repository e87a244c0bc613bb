"""Discovery documents, built from the resource table as it is now (built-in rows and
the CRDs served at run time; versions of a group in Kubernetes' priority order, the first
preferred).

Owns: legacy discovery (`/api` APIVersions, `/apis` APIGroupList, `/api/v1` and
`/apis/<g>/<v>` APIResourceList), aggregated discovery v2 (`APIGroupDiscoveryList`, what
kubectl asks for first) and `/version` (see shared/KUBECTL-COMPAT.md). OpenAPI lives in
apiserver/openapi/.
"""
from __future__ import annotations

import platform
from typing import Any

from api.resources import ResourceInfo, all_resources, version_priority
from apiserver.metrics_api import RESOURCES as METRICS_RESOURCES


def served() -> list[ResourceInfo]:
    """What discovery lists: the stored kinds (built-in and registered), and the metrics API
    served beside them (metrics_api.py)."""
    return [*all_resources(), *METRICS_RESOURCES]

AGGREGATED_CT = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
GIT_VERSION = "v1.31.0-pykube"


def group_versions() -> dict[str, list[str]]:
    """Each served group and its versions, highest priority first."""
    out: dict[str, list[str]] = {}
    for r in served():
        out.setdefault(r.group, [])
        if r.version not in out[r.group]:
            out[r.group].append(r.version)
    for versions in out.values():
        versions.sort(key=version_priority)
    return out


#: subresources whose kind lives in another group: (group, version, kind)
_OTHER_GROUP = {"scale": ("autoscaling", "v1", "Scale"), "eviction": ("policy", "v1", "Eviction")}


def _sub_verbs(sub: str) -> list[str]:
    return {"status": ["get", "patch", "update"], "scale": ["get", "patch", "update"],
            "ephemeralcontainers": ["get", "patch", "update"],
            "binding": ["create"], "eviction": ["create"], "log": ["get"],
            "exec": ["create", "get"], "attach": ["create", "get"], "portforward": ["create", "get"],
            "proxy": ["create", "delete", "get", "patch", "update"]}.get(sub, ["get"])


def resource_list(group: str, version: str) -> dict[str, Any]:
    resources: list[dict[str, Any]] = []
    for r in served():
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
            sub_entry: dict[str, Any] = {"name": f"{r.plural}/{sub}", "singularName": "",
                                         "namespaced": r.namespaced}
            if sub in _OTHER_GROUP:   # as kube-apiserver lists them (kubectl drain looks for this)
                grp, ver, kind = _OTHER_GROUP[sub]
                sub_entry.update({"group": grp, "version": ver})
            resources.append({**sub_entry, "kind": kind, "verbs": _sub_verbs(sub)})
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
        grp, ver = (r.group, r.version)
        if sub in _OTHER_GROUP:
            grp, ver, kind = _OTHER_GROUP[sub]
        subs.append({"subresource": sub, "responseKind": {"group": grp, "version": ver, "kind": kind},
                     "verbs": _sub_verbs(sub)})
    if subs:
        entry["subresources"] = subs
    return entry


def aggregated(core: bool) -> dict[str, Any]:
    items = []
    rows = served()
    for g, versions in group_versions().items():
        if core != (g == ""):
            continue
        items.append({"metadata": {"name": g},
                      "versions": [{"version": v, "freshness": "Current", "resources": [
                          _aggregated_resource(r) for r in rows if r.group == g and r.version == v]}
                          for v in versions]})
    return {"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2",
            "metadata": {}, "items": items}


def version_info() -> dict[str, Any]:
    return {"major": "1", "minor": "31", "gitVersion": GIT_VERSION, "gitCommit": "",
            "gitTreeState": "clean", "buildDate": "2026-11-22T00:00:00Z",
            "goVersion": f"python{platform.python_version()}", "compiler": "cpython",
            "platform": f"linux/{platform.machine()}"}
