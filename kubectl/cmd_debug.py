"""`pykubectl debug POD -it --image=IMAGE [--target=C] [-c NAME]`: placeholder, see below."""
from __future__ import annotations

import argparse

from kubectl.cli import Parser
from kubectl.context import Context
from kubectl.errors import CmdError


def configure(p: Parser) -> None:
    """Create debugging sessions for troubleshooting workloads and nodes."""
    p.add_argument("args", nargs="*", metavar="(POD | TYPE/NAME)")
    p.add_argument("--image", default="")


async def run(ctx: Context, args: argparse.Namespace) -> int:
    raise CmdError("not yet")


COMMANDS = {"debug": (configure, run)}
