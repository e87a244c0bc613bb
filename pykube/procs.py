"""Which processes name a data dir on their command line: an outside observer's view.

Owns `refers_to` (an argument equal to the data dir, below it, or `--flag=<it...>`) and
`processes_of`, which tests use to look for leftovers after `pykube killall`, and which
`killall` uses to recognise its own systemd units. killall never chooses a process to stop
this way: see `component_base.procs` (pid files and process trees).
"""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from component_base.procs import all_pids, ancestors, argv_of


def refers_to(argv: Iterable[str], data_dir: Path | str) -> bool:
    """True when an argument is `data_dir`, a path below it, or `--x=<one of those>`."""
    root = str(data_dir).rstrip("/") or "/"
    for arg in argv:
        for value in (arg, arg.partition("=")[2]):
            if value == root or value.startswith(root + "/"):
                return True
    return False


def processes_of(data_dir: Path | str, exclude: set[int] | None = None) -> list[int]:
    """Processes whose command line refers to `data_dir` (never ourselves or our parents)."""
    import os
    skip = (exclude or set()) | ancestors(os.getpid())
    return [pid for pid in all_pids()
            if pid not in skip and (argv := argv_of(pid)) and refers_to(argv, data_dir)]
