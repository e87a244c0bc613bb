"""`pykubectl explain TYPE[.FIELD...] [--recursive] [--max-depth N] [--api-version G/V]`: a
kind's or field's schema from the server's OpenAPI v3 document, printed as kubectl prints
it (the page itself is explain_render.py's; this module fetches the document).
"""
from __future__ import annotations

import argparse

from kubectl import explain_render, targets
from kubectl.cli import Parser
from kubectl.context import Context
from kubectl.errors import CmdError


def configure(p: Parser) -> None:
    """Get the documentation of a resource and its fields."""
    p.add_argument("args", nargs="*", metavar="TYPE[.FIELD...]")
    p.add_bool("--recursive", help="print every field, nested, with its type only")
    p.add_argument("--max-depth", type=int, default=0, help="how deep --recursive goes (0: no limit)")
    p.add_argument("--api-version", default="", help="the group/version of the resource")
    p.add_argument("-o", "--output", default="plaintext", help="plaintext (plaintext-openapiv2: not in pykubectl)")


async def run(ctx: Context, args: argparse.Namespace) -> int:
    if not args.args:
        raise CmdError("You must specify the type of resource to explain. Use \"pykubectl api-resources\" "
                       "for a complete list of supported resources.")
    if args.output != "plaintext":
        raise CmdError(f"unsupported output format {args.output!r} (pykubectl explains from OpenAPI v3 only)")
    if args.max_depth and not args.recursive:
        raise CmdError("--max-depth requires --recursive")
    word, *path = args.args[0].split(".")
    info = targets.resolve_type(word)
    group, version = info.group, info.version
    if args.api_version:
        group, _, version = args.api_version.rpartition("/")
    client = await ctx.client()
    root = (await client.request("GET", "/openapi/v3")).json()
    gv = f"apis/{group}/{version}" if group else f"api/{version}"
    entry = (root.get("paths") or {}).get(gv)
    if entry is None:
        raise CmdError(f"couldn't find resource for \"{args.api_version or info.api_version}, Kind={info.kind}\"")
    doc = (await client.request("GET", entry["serverRelativeURL"])).json()
    try:
        ctx.out(explain_render.render(doc, group, version, info.plural, path, args.recursive, args.max_depth))
    except explain_render.ExplainError as e:
        ctx.out(e.partial)
        raise CmdError(str(e)) from None
    return 0


COMMANDS = {"explain": (configure, run)}
