"""`pykubectl explain TYPE[.FIELD...] [--recursive]`: a kind's or field's schema from the
server's OpenAPI v3 document, printed as kubectl prints it (GROUP/KIND/VERSION, FIELD with
its type, DESCRIPTION, then FIELDS, each with its type and `-required-`).

`field_type` and `render` are pure over the OpenAPI document; `run` fetches it.
"""
from __future__ import annotations

import argparse
from typing import Any

from kubectl import targets
from kubectl.cli import Parser
from kubectl.context import Context
from kubectl.errors import CmdError

Obj = dict[str, Any]


def configure(p: Parser) -> None:
    """Get the documentation of a resource and its fields."""
    p.add_argument("args", nargs="*", metavar="TYPE[.FIELD...]")
    p.add_bool("--recursive", help="print every field, nested, with its type only")
    p.add_argument("--api-version", default="", help="the group/version of the resource")


def _deref(schema: Obj, doc: Obj) -> Obj:
    """Follow `$ref` and a single `allOf` to the schema they name."""
    while True:
        if "$ref" in schema:
            schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
        elif len(schema.get("allOf") or []) == 1 and not schema.get("properties"):
            schema = schema["allOf"][0]
        else:
            return schema


def _ref_name(schema: Obj) -> str | None:
    if "$ref" in schema:
        return str(schema["$ref"].rsplit("/", 1)[-1].rsplit(".", 1)[-1])
    if len(schema.get("allOf") or []) == 1:
        return _ref_name(schema["allOf"][0])
    return None


def field_type(schema: Obj, doc: Obj) -> str:
    """kubectl's type guess: `[]Container`, `map[string]string`, `DeploymentStrategy`, `string`."""
    if schema.get("items"):
        return "[]" + field_type(schema["items"], doc)
    if isinstance(schema.get("additionalProperties"), dict) and schema["additionalProperties"]:
        return "map[string]" + field_type(schema["additionalProperties"], doc)
    name = _ref_name(schema)
    if name is not None:
        target = _deref(schema, doc)
        if not target.get("type") or target.get("type") == "object":
            return name
        return str(target["type"])
    return str(schema.get("type") or "Object")


def _fields(schema: Obj, doc: Obj, indent: int, recursive: bool, seen: tuple[str, ...] = ()) -> list[str]:
    target = _deref(schema, doc)
    if target.get("items"):
        target = _deref(target["items"], doc)
    props = target.get("properties") or {}
    required = set(target.get("required") or [])
    out = []
    for name in sorted(props):
        sub = props[name]
        req = " -required-" if name in required else ""
        out.append(f"{' ' * indent}{name}\t<{field_type(sub, doc)}>{req}")
        if recursive:
            ref = _ref_name(sub if not sub.get("items") else sub["items"]) or ""
            if ref and ref in seen:
                continue
            out += _fields(sub, doc, indent + 2, True, seen + ((ref,) if ref else ()))
        else:
            desc = sub.get("description") or _deref(sub, doc).get("description") or "<no description>"
            out += [f"{' ' * (indent + 2)}{line}" for line in desc.splitlines()] + [""]
    return out


def render(doc: Obj, kind_schema: Obj, group: str, kind: str, version: str, path: list[str],
           recursive: bool) -> str:
    schema = kind_schema
    for i, part in enumerate(path):
        target = _deref(schema, doc)
        if target.get("items"):
            target = _deref(target["items"], doc)
        props = target.get("properties") or {}
        if part not in props:
            raise CmdError(f'field "{part}" does not exist')
        schema = props[part]
    head = (f"GROUP:      {group}\n" if group else "") + f"KIND:       {kind}\nVERSION:    {version}\n\n"
    if path:
        head += f"FIELD: {path[-1]} <{field_type(schema, doc)}>\n\n"
    desc = schema.get("description") or _deref(schema, doc).get("description") or "<empty>"
    body = "\nDESCRIPTION:\n" + "".join(f"    {line}\n" for line in desc.splitlines())
    fields = _fields(schema, doc, 2, recursive)
    if fields:
        body += "FIELDS:\n" + "\n".join(fields) + "\n"
    return head + body + "\n"


async def run(ctx: Context, args: argparse.Namespace) -> int:
    if not args.args:
        raise CmdError("You must specify the type of resource to explain. Use \"pykubectl api-resources\" "
                       "for a complete list of supported resources.")
    word, *path = args.args[0].split(".")
    info = targets.resolve_type(word)
    client = await ctx.client()
    root = (await client.request("GET", "/openapi/v3")).json()
    gv = f"apis/{info.group}/{info.version}" if info.group else f"api/{info.version}"
    entry = (root.get("paths") or {}).get(gv)
    if entry is None:
        raise CmdError(f"couldn't find resource for \"{info.api_version}, Kind={info.kind}\"")
    doc = (await client.request("GET", entry["serverRelativeURL"])).json()
    want = {"group": info.group, "version": info.version, "kind": info.kind}
    for schema in doc["components"]["schemas"].values():
        if want in schema.get("x-kubernetes-group-version-kind", []):
            ctx.out(render(doc, schema, info.group, info.kind, info.version, path, args.recursive))
            return 0
    raise CmdError(f"couldn't find resource for \"{info.api_version}, Kind={info.kind}\"")


COMMANDS = {"explain": (configure, run)}
