"""Finding a data dir's processes through /proc, never by name.

Owns pure helpers over `/proc/<pid>/cmdline` and `/proc/<pid>/stat`: whether a command
line refers to a data dir (an argument equal to it, below it, or `--flag=<it...>`),
a process's ancestors (so killall never signals itself or the shell that ran it), and
`containerd` shims (`-address <socket>` on their command line), whose pods killall
removes through CRI rather than by signal.
"""
from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path


def argv_of(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [a.decode(errors="replace") for a in raw.split(b"\0") if a]


def ppid_of(pid: int) -> int:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    return int(stat.rsplit(")", 1)[1].split()[1])


def all_pids() -> list[int]:
    return sorted(int(p) for p in os.listdir("/proc") if p.isdigit())


def refers_to(argv: Iterable[str], data_dir: Path | str) -> bool:
    """True when an argument is `data_dir`, a path below it, or `--x=<one of those>`."""
    root = str(data_dir).rstrip("/") or "/"
    for arg in argv:
        for value in (arg, arg.partition("=")[2]):
            if value == root or value.startswith(root + "/"):
                return True
    return False


def is_shim(argv: list[str]) -> bool:
    return "-address" in argv and ("-id" in argv or any("containerd-shim" in a for a in argv[:1]))


def ancestors(pid: int) -> set[int]:
    out: set[int] = set()
    while pid > 1 and pid not in out:
        out.add(pid)
        pid = ppid_of(pid)
    return out


def processes_of(data_dir: Path | str, exclude: set[int] | None = None) -> list[int]:
    """Processes (not shims) whose command line refers to `data_dir`."""
    skip = (exclude or set()) | ancestors(os.getpid())
    found = []
    for pid in all_pids():
        if pid in skip:
            continue
        argv = argv_of(pid)
        if argv and not is_shim(argv) and refers_to(argv, data_dir):
            found.append(pid)
    return found
