"""Resolving resource names the way kubectl does: through the server's discovery.

Built-in kinds resolve from the local table with no request. A command whose arguments name
a type pykubectl does not know, ask for `all` (categories may include CRDs), or read
manifests (`-f`, whose kinds may be custom) first learns what the server serves
(client/discovery.py), so the rest of the command resolves CRD kinds like built-in ones.
"""
from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from api.resources import UnknownResourceError, resolve

if TYPE_CHECKING:
    from kubectl.context import Context

_TYPE_ARGS = ("args", "resources", "resource", "type")


def type_words(args: argparse.Namespace) -> list[str]:
    """The resource types a command line names (`TYPE[,TYPE] NAME...` or `TYPE/NAME...`)."""
    for attr in _TYPE_ARGS:
        value = getattr(args, attr, None)
        words = [value] if isinstance(value, str) else list(value or [])
        words = [w for w in words if isinstance(w, str) and w]
        if not words:
            continue
        if any("/" in w for w in words):
            return [w.split("/", 1)[0] for w in words if "/" in w]
        return [t for t in words[0].split(",") if t]
    return []


def needs_discovery(args: argparse.Namespace) -> bool:
    if getattr(args, "filename", None):
        return True
    for word in type_words(args):
        if word == "all":
            return True
        try:
            resolve(word)
        except UnknownResourceError:
            return True
    return False


async def prepare(ctx: Context, args: argparse.Namespace) -> None:
    """Learn the server's resources when the command line needs them. A failure here is
    left for the command itself to meet and report."""
    if not needs_discovery(args):
        return
    from client.discovery import learn
    try:
        await learn(await ctx.client())
    except Exception:  # noqa: BLE001 - the command reports the server's error itself
        return
