"""`pykubectl edit TYPE NAME`: open the live object in `$KUBE_EDITOR` / `$EDITOR` (default
`vi`) as YAML (or `-o json`), then send what changed as a strategic merge patch computed
from the object as fetched and as edited. An unchanged or emptied file cancels; a file
that does not parse or that the server rejects is reopened with the error on top, and
reopening it unchanged gives up, as kubectl does.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import shlex
import tempfile
from typing import Any

from kubectl import printers, targets
from kubectl.cli import Parser
from kubectl.context import Context
from kubectl.errors import CmdError, format_error

Obj = dict[str, Any]
HEADER = ("# Please edit the object below. Lines beginning with a '#' will be ignored,\n"
          "# and an empty file will abort the edit. If an error occurs while saving this file will be\n"
          "# reopened with the relevant failures.\n#\n")


def configure(p: Parser) -> None:
    """Edit a resource on the server."""
    p.add_argument("args", nargs="*", metavar="(TYPE NAME | TYPE/NAME)")
    p.add_argument("-o", "--output", default="yaml", choices=["yaml", "json"], help="the format to edit in")
    p.add_argument("-f", "--filename", action="append", default=[], help="files identifying the resources")


def editor_command() -> list[str]:
    for var in ("KUBE_EDITOR", "EDITOR"):
        value = os.environ.get(var, "").strip()
        if value:
            return shlex.split(value)
    return ["vi"]


def strip_comments(text: str) -> str:
    return "".join(line for line in text.splitlines(keepends=True) if not line.lstrip().startswith("#"))


def parse_edited(text: str, fmt: str) -> Obj | None:
    """The edited object, or None when the file was emptied."""
    body = strip_comments(text)
    if not body.strip():
        return None
    if fmt == "json":
        doc = json.loads(body)
    else:
        import yaml
        doc = yaml.safe_load(body)
    if not isinstance(doc, dict):
        raise ValueError("the edited file is not an object")
    return doc


def check_identity(original: Obj, edited: Obj) -> None:
    for field in ("apiVersion", "kind"):
        if original.get(field) != edited.get(field):
            raise CmdError("At least one of apiVersion, kind and name was changed")
    if (original.get("metadata") or {}).get("name") != (edited.get("metadata") or {}).get("name"):
        raise CmdError("At least one of apiVersion, kind and name was changed")


async def _run_editor(path: str) -> None:
    cmd = editor_command()
    try:
        proc = await asyncio.create_subprocess_exec(*cmd, path)
    except OSError as e:
        raise CmdError(f"unable to launch the editor \"{' '.join(cmd)}\": {e.strerror}") from None
    code = await proc.wait()
    if code != 0:
        raise CmdError(f"there was a problem with the editor \"{' '.join(cmd)}\"")


async def run(ctx: Context, args: argparse.Namespace) -> int:
    if args.filename:
        from kubectl import manifests
        tgts = targets.from_manifests(manifests.load(args.filename, False, ctx.stdin))
    elif args.args:
        tgts = targets.parse_args(args.args)
        if any(not t.names for t in tgts):
            raise CmdError("resource(s) were provided, but no name was specified")
    else:
        raise CmdError("You must provide one or more resources by argument or filename.")
    got = await targets.fetch(ctx, tgts)
    for e in got.errors:
        ctx.error(e)
    for obj in got.objects:
        await edit_one(ctx, obj, args.output)
    return 0


def _render(obj: Obj, fmt: str) -> str:
    return printers.to_json(obj) if fmt == "json" else printers.to_yaml(obj)


async def edit_one(ctx: Context, original: Obj, fmt: str) -> None:
    from api.patch import three_way_merge
    client = await ctx.client()
    info = printers.info_of(original)
    meta = original.get("metadata") or {}
    fd, path = tempfile.mkstemp(prefix="pykubectl-edit-", suffix=f".{fmt}")
    os.close(fd)
    try:
        text = HEADER + _render(original, fmt)
        last_attempt: str | None = None
        while True:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            await _run_editor(path)
            with open(path, encoding="utf-8") as f:
                edited_text = f.read()
            if last_attempt is not None and strip_comments(edited_text) == strip_comments(last_attempt):
                raise CmdError("Edit cancelled, no valid changes were saved.")
            try:
                edited = parse_edited(edited_text, fmt)
            except Exception as e:  # noqa: BLE001 - any parse failure goes back to the user
                text = _with_error(edited_text, f"The edited file had a syntax error: {e}")
                last_attempt = edited_text
                continue
            if edited is None:
                ctx.err("Edit cancelled, no changes made.\n")
                return
            check_identity(original, edited)
            patch = three_way_merge(original, edited, original, strategic=True, kind=original.get("kind"))
            if not patch:
                ctx.err("Edit cancelled, no changes made.\n")
                return
            try:
                await client.patch(info, meta.get("name", ""), patch, namespace=meta.get("namespace"),
                                   patch_type="strategic")
            except Exception as e:
                from client.errors import APIError
                if not isinstance(e, APIError):
                    raise
                text = _with_error(edited_text, format_error(e))
                last_attempt = edited_text
                continue
            ctx.out(f"{printers.qualified_name(original)} edited\n")
            return
    finally:
        os.unlink(path)


def _with_error(edited_text: str, message: str) -> str:
    body = strip_comments(edited_text)
    lines = "".join(f"# {line}\n" for line in message.splitlines())
    return HEADER + lines + "#\n" + body


COMMANDS = {"edit": (configure, run)}
