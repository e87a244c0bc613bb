"""The `pykube` launcher: one subcommand per component, plus `server` and `agent` later.

Owns only argument parsing, logging set-up and the hand-off to each component's own
`run(...)`; every component lives in its own folder.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path
from typing import Any, Awaitable, Callable

from pykube import commands

LOG_FORMAT = "%(asctime)s %(levelname).1s %(name)s: %(message)s"


def setup_logging(verbosity: int) -> None:
    level = logging.DEBUG if verbosity >= 2 else logging.INFO if verbosity >= 0 else logging.WARNING
    logging.basicConfig(level=level, format=LOG_FORMAT, stream=sys.stderr)
    for noisy in ("httpx", "httpcore", "uvicorn.error", "grpc"):
        logging.getLogger(noisy).setLevel(logging.WARNING if verbosity < 3 else logging.DEBUG)


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
    p.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    sub = p.add_subparsers(dest="command", required=True)
    for register in commands.REGISTRARS:
        register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args.verbose)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
