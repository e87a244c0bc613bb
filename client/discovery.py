"""What the server serves, read from its discovery documents (as kubectl's RESTMapper does).

Owns `server_resources(client)`: every resource of every served group version, as
`ResourceInfo` rows, from aggregated discovery (`/api` and `/apis` asked for
`APIGroupDiscoveryList`) or, from a server without it, legacy discovery (`/api/v1`,
`/apis`, `/apis/<g>/<v>`); and `learn(client)`, which adds the rows the local table lacks
(CRDs) to api.resources, so `resolve`, `by_kind` and the typed verbs work for them in this
process. A resource's preferred version comes first, as the server lists it.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from api import resources
from api.resources import ResourceInfo

if TYPE_CHECKING:
    from client.rest import Client

AGGREGATED = ("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
              "application/json")


def _aggregated_rows(doc: dict[str, Any]) -> list[ResourceInfo]:
    rows = []
    for item in doc.get("items") or []:
        group = (item.get("metadata") or {}).get("name", "")
        for v in item.get("versions") or []:
            for r in v.get("resources") or []:
                kind = (r.get("responseKind") or {}).get("kind", "")
                subs = tuple(s.get("subresource", "") for s in r.get("subresources") or [])
                rows.append(ResourceInfo(
                    group, v.get("version", ""), kind, r.get("resource", ""),
                    r.get("scope") == "Namespaced", tuple(r.get("shortNames") or ()), subs,
                    tuple(r.get("categories") or ()), tuple(r.get("verbs") or ()),
                    singular_name=r.get("singularResource") or ""))
    return rows


def _legacy_rows(group: str, version: str, doc: dict[str, Any]) -> list[ResourceInfo]:
    entries = doc.get("resources") or []
    subs: dict[str, list[str]] = {}
    for r in entries:
        name = r.get("name", "")
        if "/" in name:
            base, sub = name.split("/", 1)
            subs.setdefault(base, []).append(sub)
    return [ResourceInfo(group, version, r.get("kind", ""), r["name"], bool(r.get("namespaced")),
                         tuple(r.get("shortNames") or ()), tuple(subs.get(r["name"], ())),
                         tuple(r.get("categories") or ()), tuple(r.get("verbs") or ()),
                         singular_name=r.get("singularName") or "")
            for r in entries if "/" not in r.get("name", "")]


async def server_resources(client: Client) -> list[ResourceInfo]:
    """Every resource the server serves, each group's versions in its preferred order."""
    rows: list[ResourceInfo] = []
    for path in ("/api", "/apis"):
        resp = await client.request("GET", path, headers={"Accept": AGGREGATED})
        doc = resp.json()
        if doc.get("kind") == "APIGroupDiscoveryList":
            rows.extend(_aggregated_rows(doc))
            continue
        if path == "/api":
            for v in doc.get("versions") or []:
                rows.extend(_legacy_rows("", v, (await client.request("GET", f"/api/{v}")).json()))
        else:
            for g in doc.get("groups") or []:
                for v in g.get("versions") or []:
                    gv = v.get("groupVersion", "")
                    listed = (await client.request("GET", f"/apis/{gv}")).json()
                    rows.extend(_legacy_rows(g.get("name", ""), v.get("version", ""), listed))
    return rows


async def learn(client: Client) -> list[ResourceInfo]:
    """Register in api.resources every served resource this process does not know yet (a
    CRD's), as the server serves it now; the rows registered."""
    by_resource: dict[tuple[str, str], list[ResourceInfo]] = {}
    for r in await server_resources(client):
        if resources.by_plural(r.group, r.plural) is None or (r.group, r.plural) in by_resource:
            by_resource.setdefault((r.group, r.plural), []).append(r)
    added: list[ResourceInfo] = []
    for rows in by_resource.values():
        resources.register(rows)
        added.extend(rows)
    return added
