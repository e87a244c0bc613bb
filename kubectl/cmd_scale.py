"""`pykubectl scale`: set spec.replicas through the scale subresource (a merge patch of
`{"spec":{"replicas":N}}`, as kubectl sends), for `TYPE NAME`, `TYPE/NAME`, `-f`, `-l` or
`--all`, with the `--current-replicas` precondition. Prints `deployment.apps/x scaled`.
"""
from __future__ import annotations

import argparse

from kubectl import printers, targets
from kubectl.cli import Parser
from kubectl.context import Context
from kubectl.errors import CmdError, is_bug


def configure(p: Parser) -> None:
    """Set a new size for a deployment, replica set, or replication controller."""
    p.add_argument("args", nargs="*", metavar="TYPE NAME | TYPE/NAME")
    p.add_argument("--replicas", type=int, default=None, help="the new desired number of replicas (required)")
    p.add_argument("--current-replicas", type=int, default=-1, help="precondition: the current size")
    p.add_argument("-f", "--filename", action="append", default=[], help="files identifying the resources")
    p.add_bool("-R", "--recursive", help="process the directory used in -f recursively")
    p.add_argument("-l", "--selector", default="", help="label selector")
    p.add_bool("--all", help="every resource of the given type in the namespace")
    p.add_argument("-o", "--output", default="", help="name: print kind/name only")


async def run(ctx: Context, args: argparse.Namespace) -> int:
    if args.replicas is None:
        raise CmdError('required flag(s) "replicas" not set')
    if args.replicas < 0:
        raise CmdError("The --replicas=COUNT flag is required, and COUNT must be greater than or equal to 0")
    if args.filename:
        from kubectl import manifests
        tgts = targets.from_manifests(manifests.load(args.filename, args.recursive, ctx.stdin))
    elif args.args:
        tgts = targets.parse_args(args.args)
        if not (args.all or args.selector) and any(not t.names for t in tgts):
            raise CmdError("resource(s) were provided, but no name was specified")
    else:
        raise CmdError("You must provide one or more resources by argument or filename.")
    for t in tgts:
        if "scale" not in t.info.subresources:
            raise CmdError(f"cannot scale {t.info.group_resource}: it has no scale subresource")
    got = await targets.fetch(ctx, tgts, label_selector=args.selector)
    client = await ctx.client()
    for e in got.errors:
        ctx.error(e)
    if not got.objects and not got.errors:
        raise CmdError("no objects passed to scale")
    for obj in got.objects:
        info = printers.info_of(obj)
        assert info is not None
        meta = obj.get("metadata") or {}
        if args.current_replicas >= 0:
            have = (obj.get("spec") or {}).get("replicas", 0)
            if have != args.current_replicas:
                ctx.error(CmdError(f"Expected replicas to be {args.current_replicas}, was {have}"))
                continue
        try:
            await client.patch(info, meta["name"], {"spec": {"replicas": args.replicas}},
                               namespace=meta.get("namespace"), subresource="scale")
        except Exception as e:
            if is_bug(e):
                raise
            ctx.error(e)
            continue
        name = printers.qualified_name(obj)
        ctx.out(f"{name}\n" if args.output == "name" else f"{name} scaled\n")
    return 0


COMMANDS = {"scale": (configure, run)}
