"""`pykubectl label` and `pykubectl annotate`: add (`k=v`), overwrite (`--overwrite`) or
remove (`k-`) labels or annotations on objects named by `TYPE NAME`, `TYPE/NAME`, `-f`,
`-l` or `--all`; `--list` prints them. The change is a JSON merge patch of
metadata.labels / metadata.annotations. Messages and errors as kubectl prints them
(`labeled`, `unlabeled`, `not labeled`; `annotated` always).
"""
from __future__ import annotations

import argparse
from typing import Any

from kubectl import printers, targets
from kubectl.cli import Parser
from kubectl.context import Context
from kubectl.errors import CmdError, is_bug


def _configure(p: Parser, what: str) -> None:
    p.add_argument("args", nargs="*", metavar="TYPE NAME KEY_1=VAL_1 ... KEY_N=VAL_N")
    p.add_bool("--overwrite", help=f"allow {what}s to be overwritten")
    p.add_bool("--all", help="every resource of the given types in the namespace")
    p.add_bool("-A", "--all-namespaces", help="with --all or -l: across all namespaces")
    p.add_argument("-l", "--selector", default="", help="label selector")
    p.add_argument("--field-selector", default="", help="field selector")
    p.add_argument("-f", "--filename", action="append", default=[], help="files identifying the resources")
    p.add_bool("-R", "--recursive", help="process the directory used in -f recursively")
    p.add_bool("--list", help=f"print the {what}s of the objects")
    p.add_argument("--resource-version", default="", help="only change the object at this resourceVersion")
    p.add_argument("--dry-run", nargs="?", const="client", default="none", choices=["none", "client", "server"])
    p.add_argument("-o", "--output", default="", help="name|yaml|json")


def configure_label(p: Parser) -> None:
    """Update the labels on a resource."""
    _configure(p, "label")


def configure_annotate(p: Parser) -> None:
    """Update the annotations on a resource."""
    _configure(p, "annotation")


def split_changes(words: list[str], what: str) -> tuple[list[str], dict[str, str], list[str]]:
    """(resource words, keys to set, keys to remove) from the positional arguments."""
    resources: list[str] = []
    new: dict[str, str] = {}
    remove: list[str] = []
    for w in words:
        if "=" in w:
            key, _, value = w.partition("=")
            if not key:
                raise CmdError(f"invalid {what} spec: {w}")
            new[key] = value
        elif w.endswith("-") and (resources or new or remove):
            remove.append(w[:-1])
        else:
            if new or remove:
                raise CmdError(f"invalid {what} spec: {w}")
            resources.append(w)
    for k in remove:
        if k in new:
            raise CmdError(f"can not both modify and remove {what}s in the same command")
    return resources, new, remove


def updated(current: dict[str, str], new: dict[str, str], remove: list[str],
            overwrite: bool, what: str) -> tuple[dict[str, Any], list[str]]:
    """(merge patch of the map, notes for removed keys that were absent). Raises on a
    clash without --overwrite."""
    if not overwrite:
        clashes = [k for k, v in new.items() if k in current and current[k] != v]
        if clashes:
            k = clashes[0]
            if what == "label":
                raise CmdError(f"'{k}' already has a value ({current[k]}), and --overwrite is false")
            raise CmdError("--overwrite is false but found the following declared annotation(s): "
                           + ", ".join(f"'{c}' already has a value ({current[c]})" for c in clashes))
    patch: dict[str, Any] = {}
    notes: list[str] = []
    for k, v in new.items():
        if current.get(k) != v:
            patch[k] = v
    for k in remove:
        if k in current:
            patch[k] = None
        elif what == "label":
            notes.append(f'label "{k}" not found.')
    return patch, notes


async def _run(ctx: Context, args: argparse.Namespace, what: str) -> int:
    field = "labels" if what == "label" else "annotations"
    resources, new, remove = split_changes(args.args, what)
    if args.filename:
        from kubectl import manifests
        tgts = targets.from_manifests(manifests.load(args.filename, args.recursive, ctx.stdin))
    elif resources:
        tgts = targets.parse_args(resources)
        if not (args.all or args.selector or args.field_selector) and any(not t.names for t in tgts):
            raise CmdError("resource(s) were provided, but no name was specified")
    else:
        raise CmdError("one or more resources must be specified as <resource> <name> or <resource>/<name>")
    if not args.list and not new and not remove:
        raise CmdError(f"at least one {what} update is required")
    got = await targets.fetch(ctx, tgts, all_namespaces=args.all_namespaces,
                              label_selector=args.selector, field_selector=args.field_selector)
    client = await ctx.client()
    for obj in got.objects:
        meta = obj.get("metadata") or {}
        current = dict(meta.get(field) or {})
        if args.list:
            ctx.out("".join(f"{k}={v}\n" for k, v in current.items()))
            continue
        try:
            change, notes = updated(current, new, remove, args.overwrite, what)
        except CmdError as e:
            ctx.error(e)
            continue
        for n in notes:
            ctx.out(n + "\n")
        result = obj
        if change and args.dry_run == "none":
            patch: dict[str, Any] = {"metadata": {field: change}}
            if args.resource_version:
                patch["metadata"]["resourceVersion"] = args.resource_version
            info = printers.info_of(obj)
            try:
                result = await client.patch(info, meta["name"], patch, namespace=meta.get("namespace"))
            except Exception as e:
                if is_bug(e):
                    raise
                ctx.error(e)
                continue
        ctx.out(_message(result, what, change, args))
    for e in got.errors:
        ctx.error(e)
    return 0


def _message(obj: dict[str, Any], what: str, change: dict[str, Any], args: argparse.Namespace) -> str:
    if args.output in ("yaml", "json"):
        return printers.render([obj], printers.PrintOptions(output=args.output), single=True)
    name = printers.qualified_name(obj)
    if args.output == "name":
        return name + "\n"
    if what == "annotation":
        verb = "annotated"
    elif not change:
        verb = "not labeled"
    elif not args.overwrite and all(v is None for v in change.values()):
        verb = "unlabeled"
    else:
        verb = "labeled"
    suffix = {"client": " (dry run)", "server": " (server dry run)"}.get(args.dry_run, "")
    return f"{name} {verb}{suffix}\n"


async def run_label(ctx: Context, args: argparse.Namespace) -> int:
    return await _run(ctx, args, "label")


async def run_annotate(ctx: Context, args: argparse.Namespace) -> int:
    return await _run(ctx, args, "annotation")


COMMANDS = {"label": (configure_label, run_label), "annotate": (configure_annotate, run_annotate)}
