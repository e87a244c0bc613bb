"""`pykubectl get`: list or fetch objects and print them (tables, wide, yaml, json, name,
jsonpath, custom-columns), with `-l`, `--field-selector`, `-A`, `--show-labels`, `-L`,
`--sort-by`, `-f`, and `-w` (watch) — kubectl's output, byte for byte where we can.
"""
from __future__ import annotations

import argparse
import asyncio
import math
from typing import Any

from kubectl import printers, targets
from kubectl.cli import Parser, split_csv
from kubectl.context import Context
from kubectl.errors import CmdError

NO_TYPE = ("You must specify the type of resource to get. Use \"pykubectl api-resources\" "
           "for a complete list of supported resources.\n\n")


def configure(p: Parser) -> None:
    """Display one or many resources."""
    p.add_argument("args", nargs="*", metavar="TYPE[.VERSION][.GROUP] [NAME | -l label] | TYPE[.VERSION][.GROUP]/NAME ...")
    add_output_flags(p)
    p.add_bool("-A", "--all-namespaces", help="list the requested objects across all namespaces")
    p.add_argument("-l", "--selector", default="", help="label selector (e.g. -l key1=value1,key2=value2)")
    p.add_argument("--field-selector", default="", help="field selector (e.g. --field-selector key1=value1)")
    p.add_bool("-w", "--watch", help="after listing/getting, watch for changes")
    p.add_bool("--watch-only", help="watch for changes without listing/getting first")
    p.add_bool("--output-watch-events", help="output watch event objects with -w")
    p.add_bool("--show-kind", help="list the resource type for the requested objects")
    p.add_bool("--ignore-not-found", help="treat \"resource not found\" as a successful retrieval")
    p.add_argument("-f", "--filename", action="append", default=[], help="files identifying the resources")
    p.add_bool("-R", "--recursive", help="process the directory used in -f recursively")
    p.add_argument("--chunk-size", default="500", help="accepted for compatibility")


def add_output_flags(p: Parser) -> None:
    p.add_argument("-o", "--output", default="", help="output format: json|yaml|name|wide|jsonpath=...|custom-columns=...")
    p.add_bool("--show-labels", help="show all labels as the last column")
    p.add_argument("-L", "--label-columns", action="append", default=[], help="labels to show as columns")
    p.add_bool("--no-headers", help="do not print headers")
    p.add_argument("--sort-by", default="", help="sort by this JSONPath expression")


def print_options(args: argparse.Namespace, targets_: list[targets.Target],
                  objs: list[dict[str, Any]], raw_args: list[str]) -> printers.PrintOptions:
    kinds = {o.get("kind") for o in objs}
    first = raw_args[0] if raw_args else ""
    # kubectl prefixes names with their kind when several types were asked for or shown
    requested = len(targets_) > 1 or "," in first or first == "all"
    return printers.PrintOptions(
        output=args.output, all_namespaces=args.all_namespaces,
        show_kind=bool(args.show_kind or requested or len(kinds) > 1),
        show_labels=args.show_labels, label_columns=split_csv(args.label_columns),
        no_headers=args.no_headers, sort_by=args.sort_by)


async def run(ctx: Context, args: argparse.Namespace) -> int:
    try:
        args.output = printers.inline_files(args.output)
        printers.check_output(args.output)
    except printers.PrinterError as e:
        raise CmdError(str(e)) from None
    if args.filename:
        from kubectl import manifests
        tgts = targets.from_manifests(manifests.load(args.filename, args.recursive, ctx.stdin))
    else:
        if not args.args:
            ctx.err(NO_TYPE)
            raise CmdError("Required resource not specified.",
                           "Use \"pykubectl explain <resource>\" for a detailed description of that "
                           "resource (e.g. pykubectl explain pods).\nSee 'pykubectl get -h' for help and examples")
        tgts = targets.parse_args(args.args)
    # one object named by the user prints as itself in yaml/json/jsonpath, not as a List
    single = len(tgts) == 1 if args.filename else len(tgts) == 1 and len(tgts[0].names) == 1
    if args.watch or args.watch_only:
        return await _watch(ctx, args, tgts)
    got = await targets.fetch(ctx, tgts, all_namespaces=args.all_namespaces,
                              label_selector=args.selector, field_selector=args.field_selector,
                              tables=printers.check_table(args.output))
    from client.errors import NotFound
    errors = [e for e in got.errors if not (args.ignore_not_found and isinstance(e, NotFound))]
    opts = print_options(args, tgts, got.objects, args.args)
    if got.objects:
        ctx.out(printers.render(got.objects, opts, single=single and not got.listed, server=got.tables))
    elif not errors and opts.format in ("", "wide", "custom-columns") and not args.ignore_not_found:
        ctx.err(targets.no_resources_message(ctx, args.all_namespaces, tgts))
    elif not errors and opts.format in ("yaml", "json") and not single:
        ctx.out(printers.render([], opts))
    for e in errors:
        ctx.error(e)
    return 1 if errors else 0


# ---------------------------------------------------------------- watch
async def _watch(ctx: Context, args: argparse.Namespace, tgts: list[targets.Target]) -> int:
    if len(tgts) != 1 or len(tgts[0].names) > 1:
        raise CmdError("you may only specify a single resource type")
    t = tgts[0]
    client = await ctx.client()
    ns = None if args.all_namespaces else targets.namespace_for(ctx, t)
    field_sel = args.field_selector
    if t.names:
        field_sel = ",".join(x for x in (f"metadata.name={t.names[0]}", field_sel) if x)
    lst = await client.list_all(t.info, ns, label_selector=args.selector or None,
                                field_selector=field_sel or None)
    opts = print_options(args, tgts, lst.items, args.args)
    opts.watch_events = bool(args.output_watch_events)
    table = printers.TablePrinter(opts)
    fmt = opts.format
    if not args.watch_only:
        if lst.items:
            ctx.out(_watch_render(table, lst.items, opts, None))
        elif fmt in ("", "wide"):
            ctx.err(targets.no_resources_message(ctx, args.all_namespaces, tgts))
    from client.errors import Gone
    rv = lst.resource_version
    deadline = ctx.request_timeout
    loop = asyncio.get_running_loop()
    end = loop.time() + deadline if deadline else None

    from client.errors import ConnectionFailed, ServerError
    delay = 0.2

    async def follow() -> None:
        nonlocal rv, delay
        while True:
            remaining = None if end is None else max(1, math.ceil(end - loop.time()))
            stream = client.watch(t.info, ns, resource_version=rv,
                                  label_selector=args.selector or None,
                                  field_selector=field_sel or None, timeout_seconds=remaining,
                                  allow_bookmarks=True)
            try:
                async with stream:
                    async for ev in stream:
                        rv = ev.resource_version or rv
                        delay = 0.2
                        if ev.type == "BOOKMARK":
                            continue
                        obj = ev.object
                        obj.setdefault("apiVersion", t.info.api_version)
                        obj.setdefault("kind", t.info.kind)
                        ctx.out(_watch_render(table, [obj], opts, ev.type))
            except Gone:       # too far behind: start again from the present
                rv = (await client.list(t.info, ns, label_selector=args.selector or None,
                                        field_selector=field_sel or None, limit=1)).resource_version
            except (ConnectionFailed, ServerError):   # the apiserver is restarting: wait for it
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
            if end is not None and loop.time() >= end:
                return
    try:
        if end is None:
            await follow()
        else:
            await asyncio.wait_for(follow(), timeout=max(0.0, end - loop.time()) + 0.5)
    except asyncio.TimeoutError:
        pass
    return 0


def _watch_render(table: printers.TablePrinter, objs: list[dict[str, Any]],
                  opts: printers.PrintOptions, event: str | None) -> str:
    fmt = opts.format
    if fmt in ("", "wide"):
        return table.print(objs, event=event or "ADDED")
    out = []
    for o in objs:
        if fmt == "yaml":
            out.append("---\n" + printers.render([o], opts, single=True))
        else:
            out.append(printers.render([o], opts, single=True))
    return "".join(out)


COMMANDS = {"get": (configure, run)}
