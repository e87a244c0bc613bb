"""Finding a data dir's processes through /proc, never by name or command line.

Owns helpers over `/proc/<pid>/stat` and `/proc/<pid>/cmdline`: the process a pid file
names (only if it started before the file was written, so a recycled pid is never taken
for ours), a process tree (`descendants`), a process's ancestors (so killall never signals
itself or the shell that ran it), whether a systemd unit's command line refers to a data
dir, and `containerd` shims, whose pods killall removes through CRI rather than by signal.
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


def start_time(pid: int) -> float | None:
    """When `pid` started, as a Unix time (None: no such process)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        ticks = int(stat.rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    import time
    return time.time() - uptime + ticks / os.sysconf("SC_CLK_TCK")


def pid_from_file(path: Path) -> int | None:
    """The live process a pid file names, if it is the one that wrote it (started before
    the file's last change, with a second's slack for clock granularity)."""
    try:
        pid = int(path.read_text().split()[0])
        written = path.stat().st_mtime
    except (OSError, ValueError, IndexError):
        return None
    started = start_time(pid)
    if started is None or started > written + 1.0:
        return None
    return pid


def descendants(root: int) -> list[int]:
    """Every process below `root`, nearest first."""
    parents = {pid: ppid_of(pid) for pid in all_pids()}
    out: list[int] = []
    frontier = {root}
    while frontier:
        nxt = {p for p, pp in parents.items() if pp in frontier and p not in out}
        out.extend(sorted(nxt))
        frontier = nxt
    return out
