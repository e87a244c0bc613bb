"""What a command's arguments point at: `TYPE [NAME...]`, `TYPE/NAME...`, `TYPE1,TYPE2`,
`all`, or the objects named in `-f` files; and fetching them.

Owns kubectl's resource-builder rules (and their error wording) and the reads that turn
targets into objects: one GET per name, one list per type (with `-l`, `--field-selector`,
`-A`). Errors for single names are collected, not raised, so a command prints what it
found and then the errors, as kubectl does.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from api.resources import (RESOURCES, ResourceInfo, UnknownResourceError, by_kind, in_category,
                           resolve)
from kubectl.errors import CmdError

if TYPE_CHECKING:
    from client.rest import Client
    from kubectl.context import Context
    from kubectl.manifests import Manifest

Obj = dict[str, Any]

SLASH_MIX = ("there is no need to specify a resource type as a separate argument when passing "
             "arguments in resource/name form (e.g. 'pykubectl get resource/<resource_name>' "
             "instead of 'pykubectl get resource resource/<resource_name>'")


@dataclass
class Target:
    info: ResourceInfo
    names: list[str] = field(default_factory=list)   # empty: every object of the type
    namespace: str | None = None                      # set for objects from files
    source: str = ""                                  # the file, for -f targets


def resolve_type(word: str) -> ResourceInfo:
    try:
        return resolve(word)
    except UnknownResourceError as e:
        raise CmdError(str(e)) from None


def _types(word: str) -> list[ResourceInfo]:
    out: list[ResourceInfo] = []
    for part in word.split(","):
        if not part:
            continue
        if part == "all":
            out.extend(r for r in in_category("all") if r not in out)
        else:
            r = resolve_type(part)
            if r not in out:
                out.append(r)
    return out


def parse_args(args: list[str]) -> list[Target]:
    """kubectl's `TYPE [NAME...]` / `TYPE/NAME...` rules. An empty list means no args."""
    if not args:
        return []
    if any("/" in a for a in args):
        if not all("/" in a for a in args):
            raise CmdError(SLASH_MIX)
        out: list[Target] = []
        for a in args:
            kind, _, name = a.partition("/")
            if not kind or not name:
                raise CmdError("arguments in resource/name form must have a single resource and name")
            info = resolve_type(kind)
            for t in out:
                if t.info == info:
                    t.names.append(name)
                    break
            else:
                out.append(Target(info, [name]))
        return out
    types, names = _types(args[0]), args[1:]
    return [Target(info, list(names)) for info in types]


def from_manifests(manifests: list[Manifest]) -> list[Target]:
    """One target per object in the files (kind must be known)."""
    out: list[Target] = []
    for m in manifests:
        try:
            info = by_kind(str(m.obj.get("apiVersion")), str(m.obj.get("kind")))
        except UnknownResourceError as e:
            raise CmdError(f'resource mapping not found for name: "{m.name}" namespace: '
                           f'"{m.namespace}" from "{m.source}": {e}') from None
        out.append(Target(info, [m.name], m.namespace or None, m.source))
    return out


@dataclass
class Fetched:
    objects: list[Obj] = field(default_factory=list)
    errors: list[Exception] = field(default_factory=list)
    listed: bool = False           # at least one target was a list (not names)
    tables: ServerTables = field(default_factory=lambda: ServerTables())


@dataclass
class ServerTables:
    """The server's Table columns (by kind) and cells (by object) for kinds pykubectl has no
    printer of its own for (custom resources): what kubectl prints for every kind."""

    columns: dict[str, list[Any]] = field(default_factory=dict)
    cells: dict[int, list[Any]] = field(default_factory=dict)

    def add(self, table: Obj) -> list[Obj]:
        """Take a Table answer (rows with includeObject=Object); its objects."""
        from api.tables import Column
        objs = []
        for row in table.get("rows") or []:
            obj = row.get("object") or {}
            if not obj.get("kind"):
                continue
            self.columns.setdefault(obj["kind"], [
                Column(c.get("name", ""), c.get("type", "string"), int(c.get("priority") or 0),
                       c.get("format", ""), c.get("description", ""))
                for c in table.get("columnDefinitions") or []])
            self.cells[id(obj)] = list(row.get("cells") or [])
            objs.append(obj)
        return objs


TABLE_ACCEPT = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"


def server_printed(info: ResourceInfo) -> bool:
    """Kinds whose table comes from the server: those without a printer in api.tables."""
    from api.tables import TABLES
    return info.kind not in TABLES or info not in RESOURCES


async def fetch(ctx: Context, targets: list[Target], *, all_namespaces: bool = False,
                label_selector: str | None = None, field_selector: str | None = None,
                client: Client | None = None, tables: bool = False) -> Fetched:
    """The objects targets point at, in order; NotFound for names is collected. `tables`:
    kinds printed by the server come as Tables (columns and cells in `Fetched.tables`)."""
    from client.errors import APIError
    client = client or await ctx.client()
    out = Fetched()
    for t in targets:
        ns = namespace_for(ctx, t)
        if tables and server_printed(t.info):
            await _fetch_table(client, t, None if all_namespaces or t.names else ns, ns,
                               label_selector, field_selector, out)
            continue
        if not t.names:
            out.listed = True
            lst = await client.list_all(t.info, None if all_namespaces else ns,
                                        label_selector=label_selector or None,
                                        field_selector=field_selector or None)
            out.objects.extend(lst.items)
            continue
        for name in t.names:
            try:
                obj = await client.get(t.info, name, namespace=ns)
            except APIError as e:
                out.errors.append(e)
                continue
            obj.setdefault("apiVersion", t.info.api_version)
            obj.setdefault("kind", t.info.kind)
            out.objects.append(obj)
    return out


async def _fetch_table(client: Client, t: Target, list_ns: str | None, ns: str | None,
                       label_selector: str | None, field_selector: str | None, out: Fetched) -> None:
    from client.errors import APIError
    headers = {"Accept": TABLE_ACCEPT}
    params = {"includeObject": "Object", "labelSelector": label_selector or None,
              "fieldSelector": field_selector or None}
    if not t.names:
        out.listed = True
        resp = await client.request("GET", t.info.path(list_ns), params=params, headers=headers)
        out.objects.extend(out.tables.add(resp.json()))
        return
    for name in t.names:
        try:
            resp = await client.request("GET", t.info.path(ns, name), headers=headers,
                                        params={"includeObject": "Object"})
        except APIError as e:
            out.errors.append(e)
            continue
        out.objects.extend(out.tables.add(resp.json()))


def namespace_for(ctx: Context, t: Target) -> str | None:
    if not t.info.namespaced:
        return None
    return t.namespace or ctx.namespace


def obj_namespace(obj: Obj) -> str | None:
    return (obj.get("metadata") or {}).get("namespace")


def obj_name(obj: Obj) -> str:
    return str((obj.get("metadata") or {}).get("name") or "")


def no_resources_message(ctx: Context, all_namespaces: bool, targets: list[Target]) -> str:
    """kubectl's `No resources found in default namespace.` (stderr, exit 0)."""
    if all_namespaces or not any(t.info.namespaced for t in targets):
        return "No resources found\n"
    return f"No resources found in {ctx.namespace} namespace.\n"
