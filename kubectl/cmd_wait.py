"""`pykubectl wait --for=condition=C[=V] | --for=delete | --for=jsonpath='{...}'=V`:
poll the named objects until the condition holds for each or `--timeout` (default 30s)
passes. Prints `deployment.apps/x condition met`; on timeout `timed out waiting for the
condition on deployments/x` (one failure gets kubectl's `error: ` prefix, several do not).
"""
from __future__ import annotations

import argparse
import asyncio
from dataclasses import dataclass
from typing import Any

from api import jsonpath
from kubectl import printers, targets
from kubectl.cli import Parser, parse_duration
from kubectl.context import Context
from kubectl.errors import CmdError, Silent

Obj = dict[str, Any]


def configure(p: Parser) -> None:
    """Wait for a specific condition on one or many resources."""
    p.add_argument("args", nargs="*", metavar="(TYPE NAME | TYPE/NAME)")
    p.add_argument("--for", dest="for_", default="", help="condition=NAME[=VALUE], delete, or jsonpath='{...}'=VALUE")
    p.add_argument("--timeout", default="30s", help="how long to wait (negative: a week)")
    p.add_argument("-l", "--selector", default="", help="label selector")
    p.add_argument("--field-selector", default="", help="field selector")
    p.add_bool("--all", help="every resource of the given types in the namespace")
    p.add_bool("-A", "--all-namespaces", help="across all namespaces")
    p.add_argument("-f", "--filename", action="append", default=[], help="files identifying the resources")
    p.add_bool("-R", "--recursive", help="process the directory used in -f recursively")


@dataclass
class Condition:
    kind: str                 # "condition", "delete", "jsonpath"
    name: str = ""
    value: str = "true"
    path: list[Any] | None = None


def parse_for(text: str) -> Condition:
    """`--for` into a Condition (kubectl's wording for bad values)."""
    if not text:
        raise CmdError("unrecognized condition: []")
    low = text.lower()
    if low == "delete":
        return Condition("delete")
    if low.startswith("condition="):
        body = text[len("condition="):]
        name, _, value = body.partition("=")
        return Condition("condition", name, value or "true")
    if low.startswith("jsonpath="):
        body = text[len("jsonpath="):]
        if "}=" in body:
            i = body.rindex("}=")
            expr, value = body[:i + 1], body[i + 2:]
        elif body.startswith("{"):
            expr, value = body, ""
        else:
            expr, _, value = body.partition("=")
        try:
            nodes = jsonpath.parse(jsonpath.relaxed(expr) if not expr.startswith("{") else expr)
        except jsonpath.JSONPathError as e:
            raise CmdError(f"unrecognized condition: {e}") from None
        exprs = [n for n in nodes if isinstance(n, jsonpath.Expr)]
        if len(exprs) != 1:
            raise CmdError('jsonpath wait format must be --for=jsonpath=\'{.status.readyReplicas}\'=3')
        return Condition("jsonpath", expr, value, exprs[0].path)
    raise CmdError(f'unrecognized condition: "{text}"')


def condition_met(obj: Obj, cond: Condition) -> bool:
    if cond.kind == "jsonpath":
        vals = jsonpath.evaluate(cond.path or [], obj)
        if not vals:
            return False
        if cond.value == "":
            return True
        return any(jsonpath.text_of(v) == cond.value for v in vals)
    meta = obj.get("metadata") or {}
    for c in (obj.get("status") or {}).get("conditions") or []:
        if str(c.get("type", "")).lower() != cond.name.lower():
            continue
        og = c.get("observedGeneration")
        if og is not None and meta.get("generation") is not None and og < meta["generation"]:
            return False
        return str(c.get("status", "")).lower() == cond.value.lower()
    return False


async def run(ctx: Context, args: argparse.Namespace) -> int:
    from client.errors import NotFound
    cond = parse_for(args.for_)
    if args.filename:
        from kubectl import manifests
        tgts = targets.from_manifests(manifests.load(args.filename, args.recursive, ctx.stdin))
    elif args.args:
        tgts = targets.parse_args(args.args)
        if not (args.all or args.selector or args.field_selector) and any(not t.names for t in tgts):
            raise CmdError("resource(s) were provided, but no name was specified")
    else:
        raise CmdError("resource name may not be empty")
    timeout = parse_duration(args.timeout, "--timeout")
    if timeout < 0:
        timeout = 7 * 24 * 3600.0
    got = await targets.fetch(ctx, tgts, all_namespaces=args.all_namespaces,
                              label_selector=args.selector, field_selector=args.field_selector)
    if cond.kind != "delete":
        for e in got.errors:
            ctx.error(e)
        if got.errors:
            return 1
    elif any(not isinstance(e, NotFound) for e in got.errors):
        for e in got.errors:
            ctx.error(e)
        return 1
    if not got.objects and got.listed and cond.kind != "delete":
        raise CmdError("no matching resources found")
    client = await ctx.client()
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    pending = list(got.objects)
    delay = 0.05
    while True:
        still = []
        for obj in pending:
            info = printers.info_of(obj)
            meta = obj.get("metadata") or {}
            try:
                cur = await client.get(info, meta.get("name", ""), namespace=meta.get("namespace"))
            except NotFound:
                if cond.kind == "delete":
                    ctx.out(f"{printers.qualified_name(obj)} condition met\n")
                    continue
                raise
            if cond.kind == "delete":
                if (cur.get("metadata") or {}).get("uid") != meta.get("uid"):
                    ctx.out(f"{printers.qualified_name(obj)} condition met\n")
                    continue
            elif condition_met(cur, cond):
                ctx.out(f"{printers.qualified_name(obj)} condition met\n")
                continue
            still.append(obj)
        pending = still
        if not pending:
            return 0
        if loop.time() >= end:
            break
        await asyncio.sleep(min(delay, max(0.0, end - loop.time())))
        delay = min(delay * 2, 0.5)
    lines = [f"timed out waiting for the condition on {printers.info_of(o).plural}/"  # type: ignore[union-attr]
             f"{targets.obj_name(o)}" for o in pending]
    if len(lines) == 1:
        raise CmdError(lines[0])
    ctx.err("".join(line + "\n" for line in lines))
    raise Silent()


COMMANDS = {"wait": (configure, run)}
