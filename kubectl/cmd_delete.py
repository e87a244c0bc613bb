"""`pykubectl delete`: by `-f` files, `TYPE NAME...`, `TYPE/NAME`, `-l`, `--field-selector`
or `--all`, with `--cascade=background|foreground|orphan`, `--grace-period`, `--force`,
`--now`, and `--wait` (on by default: after every DELETE is sent, wait until the objects
are really gone — finalizers and graceful pod deletion can keep them for a while).
Messages as kubectl 1.3x prints them: `configmap "a" deleted from default namespace`.
"""
from __future__ import annotations

import argparse
import asyncio
from typing import Any

from kubectl import printers, targets
from kubectl.cli import Parser, parse_duration
from kubectl.context import Context
from kubectl.errors import CmdError, is_bug, wrap

NO_RESOURCES = ("You must provide one or more resources by argument or filename.\n"
                "Example resource specifications include:\n"
                "   '-f rsrc.yaml'\n"
                "   '--filename=rsrc.json'\n"
                "   '<resource> <name>'\n"
                "   '<resource>'")
CASCADE = {"background": "Background", "true": "Background", "foreground": "Foreground",
           "orphan": "Orphan", "false": "Orphan"}
FORCE_WARNING = ("Immediate deletion does not wait for confirmation that the running resource "
                 "has been terminated. The resource may continue to run on the cluster indefinitely.")


def configure(p: Parser) -> None:
    """Delete resources by file names, stdin, resources and names, or by resources and label selector."""
    p.add_argument("args", nargs="*", metavar="TYPE [NAME...] | TYPE/NAME...")
    p.add_argument("-f", "--filename", action="append", default=[], help="files identifying the resources")
    p.add_bool("-R", "--recursive", help="process the directory used in -f recursively")
    p.add_argument("-l", "--selector", default="", help="label selector")
    p.add_argument("--field-selector", default="", help="field selector")
    p.add_bool("--all", help="delete all resources of the given types in the namespace")
    p.add_bool("-A", "--all-namespaces", help="with --all or -l: across all namespaces")
    p.add_argument("--cascade", nargs="?", const="background", default="background",
                   help="background (default), foreground or orphan")
    p.add_argument("--grace-period", type=int, default=-1, help="seconds given to the resource to terminate gracefully")
    p.add_bool("--force", help="delete immediately (grace period 0)")
    p.add_bool("--now", help="signal the resource for immediate shutdown (grace period 1)")
    p.add_bool("--wait", default=True, help="wait for the resources to be gone before returning")
    p.add_argument("--timeout", default="0s", help="how long to wait (0: a week)")
    p.add_bool("--ignore-not-found", help="treat \"resource not found\" as a successful delete")
    p.add_argument("-o", "--output", default="", help="name: print kind/name only")


def grace_period(args: argparse.Namespace) -> int:
    """kubectl's rules for --grace-period, --now and --force (-1: the object's default)."""
    grace = args.grace_period
    if args.now:
        if grace != -1:
            raise CmdError("--now and --grace-period cannot be specified together")
        grace = 1
    if grace == 0 and not args.force:
        grace = 1
    if args.force and grace < 0:
        grace = 0
    return grace


def deleted_message(obj_or_info: Any, name: str, namespace: str | None, force: bool,
                    output: str = "") -> str:
    prefix = printers.kind_prefix(obj_or_info)
    if output == "name":
        return f"{prefix}/{name}\n"
    what = "force deleted" if force else "deleted"
    where = f" from {namespace} namespace" if namespace else ""
    return f'{prefix} "{name}" {what}{where}\n'


async def run(ctx: Context, args: argparse.Namespace) -> int:
    from client.errors import NotFound
    try:
        policy = CASCADE[str(args.cascade).lower()]
    except KeyError:
        raise CmdError(f'invalid cascade value ({args.cascade}). Must be "background", '
                       '"foreground", or "orphan"') from None
    grace = grace_period(args)
    selecting = bool(args.all or args.selector or args.field_selector)
    ignore_missing = args.ignore_not_found or selecting
    if args.filename:
        from kubectl import manifests
        tgts = targets.from_manifests(manifests.load(args.filename, args.recursive, ctx.stdin))
    elif args.args:
        tgts = targets.parse_args(args.args)
        if not selecting and any(not t.names for t in tgts):
            raise CmdError("resource(s) were provided, but no name was specified")
        if selecting and any(t.names for t in tgts):
            raise CmdError("name cannot be provided when a selector is specified")
    else:
        raise CmdError(NO_RESOURCES)
    if args.force:
        ctx.warn(FORCE_WARNING)
    client = await ctx.client()
    victims: list[tuple[Any, str, str | None, str]] = []   # (info, name, namespace, source)
    for t in tgts:
        if t.names:
            ns = targets.namespace_for(ctx, t)
            victims.extend((t.info, n, ns, t.source) for n in t.names)
            continue
        lst = await client.list_all(t.info, None if args.all_namespaces else targets.namespace_for(ctx, t),
                                    label_selector=args.selector or None,
                                    field_selector=args.field_selector or None)
        victims.extend((t.info, targets.obj_name(o), targets.obj_namespace(o), "") for o in lst.items)
    if not victims:
        if selecting:
            ctx.out("No resources found\n")
        return 0
    gone: list[tuple[Any, str, str | None, str | None]] = []   # waiting list: (info, name, ns, uid)
    for info, name, ns, source in victims:
        try:
            result = await client.delete(info, name, namespace=ns, propagation_policy=policy,
                                         grace_period_seconds=None if grace < 0 else grace)
        except NotFound as e:
            if not ignore_missing:
                ctx.error(wrap(e, f'error when deleting "{source}": ') if source else e)
            continue
        except Exception as e:
            if is_bug(e):
                raise
            ctx.error(wrap(e, f'error when deleting "{source}": ') if source else e)
            continue
        ctx.out(deleted_message(info, name, ns, grace == 0, args.output))
        uid = None
        if isinstance(result, dict):
            holder = result.get("metadata") if result.get("kind") == info.kind else result.get("details")
            uid = (holder or {}).get("uid")
        gone.append((info, name, ns, uid))
    if args.wait and gone:
        timeout = parse_duration(args.timeout, "--timeout")
        await wait_deleted(ctx, gone, timeout if timeout > 0 else 7 * 24 * 3600.0)
    return 0


async def wait_deleted(ctx: Context, items: list[tuple[Any, str, str | None, str | None]],
                       timeout: float) -> None:
    """Poll until each object is gone (404, or the name now holds a different uid)."""
    from client.errors import NotFound
    client = await ctx.client()
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    delay = 0.05
    pending = list(items)
    while pending:
        still = []
        for info, name, ns, uid in pending:
            try:
                obj = await client.get(info, name, namespace=ns)
            except NotFound:
                continue
            if uid and (obj.get("metadata") or {}).get("uid") != uid:
                continue
            still.append((info, name, ns, uid))
        pending = still
        if not pending:
            return
        if loop.time() >= end:
            for info, name, _, _ in pending:
                ctx.error(CmdError(f"timed out waiting for the condition on {info.plural}/{name}"))
            return
        await asyncio.sleep(min(delay, max(0.0, end - loop.time())))
        delay = min(delay * 2, 1.0)


COMMANDS = {"delete": (configure, run)}
