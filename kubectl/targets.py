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

from api.resources import ResourceInfo, UnknownResourceError, by_kind, in_category, resolve
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


async def fetch(ctx: Context, targets: list[Target], *, all_namespaces: bool = False,
                label_selector: str | None = None, field_selector: str | None = None,
                client: Client | None = None) -> Fetched:
    """The objects targets point at, in order; NotFound for names is collected."""
    from client.errors import APIError
    client = client or await ctx.client()
    out = Fetched()
    for t in targets:
        ns = namespace_for(ctx, t)
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
