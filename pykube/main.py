"""The `pykube` launcher: `server`, `agent`, `killall`, and each component on its own.

Owns only argument parsing, logging set-up and the hand-off to each command's `func`
(registered by pykube/commands.py); every component lives in its own folder.
"""
from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from pathlib import Path
from typing import Any, Awaitable, Callable

from pykube import commands
from pykube.logsetup import setup_logging

__all__ = ["main", "build_parser", "run_until_signal", "setup_logging"]


def run_until_signal(main: Callable[[], Awaitable[Any]]) -> int:
    """Run a component's coroutine; SIGINT/SIGTERM cancel it so its cleanup runs."""
    async def runner() -> int:
        loop = asyncio.get_running_loop()
        task = asyncio.create_task(main())
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, task.cancel)
        try:
            await task
        except asyncio.CancelledError:
            pass
        return 0
    return asyncio.run(runner())


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="pykube", description="pykube: a Kubernetes-style orchestrator in Python")
    p.add_argument("-v", "--verbose", action="count", default=0,
                   help="more log output: -v names loggers, -vv debug with tracebacks")
    sub = p.add_subparsers(dest="command", required=True)
    for register in commands.REGISTRARS:
        register(sub)
    for sp in sub.choices.values():   # `pykube server -v` as well as `pykube -v server`
        try:
            sp.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS,
                            help="more log output (-vv: debug with tracebacks)")
        except argparse.ArgumentError:
            pass
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args.verbose)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
