"""Processes through /proc, for whoever must stop what it started: pid files and trees.

Owns `pid_in_file` (the live process a pid file names, only if it started before the file
was written, so a stale file whose pid was reused names nothing), `descendants` (a process tree, from the ppid links in
`/proc/<pid>/stat`), `ancestors` (so a process never signals itself or the shell that ran
it), `alive` and `start_time`. Nothing here matches a command line to choose a process.
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


def start_time(pid: int) -> float | None:
    """When the process started (seconds since the epoch), None if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        ticks = int(stat.rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None
    return _boot_time() + ticks / os.sysconf("SC_CLK_TCK")


def _boot_time() -> float:
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith("btime "):
            return float(line.split()[1])
    return 0.0


# a process writes its pid file right after it starts; the clock behind start times has
# whole-second and tick granularity, so allow this much
PID_FILE_SLACK = 2.0


def pid_in_file(path: Path) -> int | None:
    """The live process `path` names, if it started before the file was last written."""
    try:
        pid = int(path.read_text().split()[0])
        written = path.stat().st_mtime
    except (OSError, ValueError, IndexError):
        return None
    started = start_time(pid)
    if pid <= 1 or started is None or not alive(pid) or started > written + PID_FILE_SLACK:
        return None
    return pid


def alive(pid: int) -> bool:
    """True unless the process is gone or a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def descendants(roots: Iterable[int]) -> list[int]:
    """Every process below `roots` (not the roots themselves), nearest first."""
    parents = {pid: ppid_of(pid) for pid in all_pids()}
    out: list[int] = []
    seen = frontier = set(roots)
    while frontier:
        nxt = {p for p, pp in parents.items() if pp in frontier and p not in seen}
        out.extend(sorted(nxt))
        seen = seen | nxt
        frontier = nxt
    return out


def all_pids() -> list[int]:
    return sorted(int(p) for p in os.listdir("/proc") if p.isdigit())


def ancestors(pid: int) -> set[int]:
    out: set[int] = set()
    while pid > 1 and pid not in out:
        out.add(pid)
        pid = ppid_of(pid)
    return out
