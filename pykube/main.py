"""The `pykube` launcher: `server`, `agent`, `killall`, and each component on its own.

Owns only argument parsing, logging set-up and the hand-off to each command's `func`
(registered by pykube/commands.py); every component lives in its own folder.
"""
from __future__ import annotations

import argparse
import sys

from component_base.logs import setup_logging
from component_base.signals import run_until_signal
from pykube import commands

__all__ = ["main", "build_parser", "run_until_signal", "setup_logging"]


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
