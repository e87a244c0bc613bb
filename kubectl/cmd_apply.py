"""`pykubectl apply -f`: client-side apply, as kubectl does it.

For each object in the files: GET it; absent → create it carrying the
`last-applied-configuration` annotation (`created`); present → compute the three-way
patch (last applied, this file, live object) with `api.patch.three_way_merge` and send it
as a strategic merge patch (`configured`), or send nothing when the patch is empty
(`unchanged`). A field removed from the file is thereby removed from the object. Every
file is parsed before anything is written; one object's failure does not stop the rest.
"""
from __future__ import annotations

import argparse
from typing import Any

from kubectl import objects, printers
from kubectl.cli import Parser
from kubectl.context import Context
from kubectl.errors import CmdError, is_bug, wrap

MISSING_ANNOTATION = (
    "resource {res}/{name} is missing the kubectl.kubernetes.io/last-applied-configuration "
    "annotation which is required by pykubectl apply. pykubectl apply should only be used on "
    "resources created declaratively by either pykubectl create --save-config or pykubectl "
    "apply. The missing annotation will be patched automatically.")


def configure(p: Parser) -> None:
    """Apply a configuration to a resource by file name or stdin."""
    p.add_argument("-f", "--filename", action="append", default=[], help="files, directories or - for stdin")
    p.add_bool("-R", "--recursive", help="process the directory used in -f recursively")
    p.add_argument("-o", "--output", default="", help="name: print only kind/name")
    p.add_argument("--dry-run", nargs="?", const="client", default="none",
                   choices=["none", "client", "server"], help="only print what would be done")
    p.add_argument("--validate", nargs="?", const="strict", default="strict",
                   help="accepted for compatibility (the server validates)")
    p.add_argument("--field-manager", default=None,
                   help="the manager owning the fields (kubectl-client-side-apply, or kubectl with --server-side)")
    p.add_bool("--server-side", help="apply on the server (server-side apply with field ownership)")
    p.add_bool("--force-conflicts", help="with --server-side: take fields other managers own")
    p.add_argument("-l", "--selector", default="", help="apply only objects with these labels")


async def run(ctx: Context, args: argparse.Namespace) -> int:
    if args.force_conflicts and not args.server_side:
        raise CmdError("--force-conflicts only works with --server-side")
    if args.output not in ("", "name"):
        raise CmdError(f'unable to match a printer suitable for the output format "{args.output}", allowed formats are: name')
    from kubectl import manifests
    loaded = manifests.load(args.filename, args.recursive, ctx.stdin)
    if args.selector:
        from api.selectors import parse_label_selector
        sel = parse_label_selector(args.selector)
        loaded = [m for m in loaded if sel.matches((m.obj.get("metadata") or {}).get("labels") or {})]
    if not loaded:
        raise CmdError("no objects passed to apply")
    for m in loaded:
        try:
            await (apply_server_side(ctx, m, args) if args.server_side else apply_one(ctx, m, args))
        except Exception as e:
            if is_bug(e):
                raise
            ctx.error(e)
    return 0


async def apply_one(ctx: Context, m: Any, args: argparse.Namespace) -> None:
    from api.patch import three_way_merge
    from client.errors import APIError, NotFound
    info, obj = objects.prepared(ctx, m)
    client = await ctx.client()
    name = obj["metadata"].get("name", "")
    ns = obj["metadata"].get("namespace")
    if not name:
        raise CmdError(f'from {m.source}: cannot use generate name with apply')
    modified = objects.with_last_applied(obj)
    suffix = {"client": " (dry run)", "server": " (server dry run)"}.get(args.dry_run, "")
    dry = args.dry_run != "none"
    try:
        live = await client.get(info, name, namespace=ns)
    except NotFound:
        live = None
    except APIError as e:
        raise wrap(e, f'error when retrieving current configuration of "{m.source}": ') from None
    if live is None:
        created = modified
        if not dry:
            try:
                created = await client.create(modified, namespace=ns)
            except APIError as e:
                raise wrap(e, f'error when creating "{m.source}": ') from None
        _report(ctx, args, created, "created" + suffix)
        return
    original = objects.original_configuration(live)
    if original is None:
        ctx.warn(MISSING_ANNOTATION.format(res=info.plural, name=name))
    try:
        patch = three_way_merge(original, modified, live, strategic=True, kind=info.kind)
    except ValueError as e:
        raise CmdError(f'error computing the patch for "{m.source}": {e}') from None
    if not patch:
        _report(ctx, args, live, "unchanged" + suffix)
        return
    result = live
    if not dry:
        try:
            result = await client.patch(info, name, patch, namespace=ns, patch_type="strategic")
        except APIError as e:
            raise wrap(e, f'error when patching "{m.source}": ') from None
    _report(ctx, args, result, "configured" + suffix)


CONFLICT_HELP = """Please review the fields above--they currently have other managers. Here
are the ways you can resolve this warning:
* If you intend to manage all of these fields, please re-run the apply
  command with the `--force-conflicts` flag.
* If you do not intend to manage all of the fields, please edit your
  manifest to remove references to the fields that should keep their
  current managers.
* You may co-own fields by updating your manifest to match the existing
  value; in this case, you'll become the manager if the other manager(s)
  stop managing the field (remove it from their configuration).
See https://kubernetes.io/docs/reference/using-api/server-side-apply/#conflicts"""


async def apply_server_side(ctx: Context, m: Any, args: argparse.Namespace) -> None:
    """One object through server-side apply (a PATCH of type apply-patch+yaml, as kubectl
    sends it), reported as `<kind>/<name> serverside-applied`."""
    import json

    from client.errors import APIError
    info, obj = objects.prepared(ctx, m)
    name, ns = obj["metadata"].get("name", ""), obj["metadata"].get("namespace")
    if not name:
        raise CmdError(f'from {m.source}: cannot use generate name with apply')
    params = {"fieldManager": args.field_manager or "kubectl", "force": "true" if args.force_conflicts else "false",
              "fieldValidation": "Ignore" if args.validate in ("false", "ignore") else
              ("Warn" if args.validate == "warn" else "Strict")}
    if args.dry_run == "server":
        params["dryRun"] = "All"
    elif args.dry_run == "client":
        raise CmdError("--dry-run=client doesn't work with --server-side (did you mean --dry-run=server instead?)")
    client = await ctx.client()
    try:
        resp = await client.request("PATCH", info.path(ns if info.namespaced else None, name), params=params,
                                    content=json.dumps(obj).encode(),
                                    headers={"Content-Type": "application/apply-patch+yaml"})
    except APIError as e:
        if e.code == 409 and e.message.startswith("Apply failed"):
            raise CmdError(f"{e.message}\n{CONFLICT_HELP}") from None
        raise wrap(e, f'error when patching "{m.source}": ') from None
    suffix = " (server dry run)" if args.dry_run == "server" else ""
    _report(ctx, args, resp.json(), "serverside-applied" + suffix)


def _report(ctx: Context, args: argparse.Namespace, obj: dict[str, Any], what: str) -> None:
    if args.output == "name":
        ctx.out(printers.qualified_name(obj) + "\n")
    else:
        ctx.out(f"{printers.qualified_name(obj)} {what}\n")


COMMANDS = {"apply": (configure, run)}
