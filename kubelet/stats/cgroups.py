"""Resource usage read from cgroups and /proc: what cAdvisor gives the kubelet, in small.

Owns `CgroupReader`, which reads one cgroup's cumulative CPU time and memory:
- cgroup v2 (a unified hierarchy at the root: `cgroup.controllers` exists): `cpu.stat`
  `usage_usec`, `memory.current`, `memory.stat` (`inactive_file`, `anon`, `pgfault`,
  `pgmajfault`);
- cgroup v1 (one hierarchy per controller, as on Debian machines booted hybrid):
  `cpuacct/<path>/cpuacct.usage`, `memory/<path>/memory.usage_in_bytes` and `memory.stat`
  (`total_inactive_file`, `total_rss`, `total_pgfault`, `total_pgmajfault`);
and the node's own usage from `/proc/stat` (every CPU state but idle and iowait) and
`/proc/meminfo`. The working set is usage minus inactive file pages, as cAdvisor and the
kubelet's eviction manager count it. Parsers are pure; the reader only opens files, and
answers None for a cgroup that does not exist (a container that just went away).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
_CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass(frozen=True)
class MemoryUsage:
    usage_bytes: int
    working_set_bytes: int
    rss_bytes: int
    page_faults: int
    major_page_faults: int


@dataclass(frozen=True)
class Usage:
    """One cgroup (or the node) at one moment: cumulative CPU nanoseconds and memory."""

    cpu_ns: int
    memory: MemoryUsage | None


def parse_flat_keyed(text: str) -> dict[str, int]:
    """`key value` lines (cpu.stat, memory.stat) as a dict; unparsable lines skipped."""
    out: dict[str, int] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].lstrip("-").isdigit():
            out[parts[0]] = int(parts[1])
    return out


def memory_from(usage: int, stat: dict[str, int], v2: bool) -> MemoryUsage:
    prefix = "" if v2 else "total_"
    inactive = stat.get(f"{prefix}inactive_file", 0)
    rss = stat.get("anon", 0) if v2 else stat.get("total_rss", 0)
    return MemoryUsage(usage_bytes=usage, working_set_bytes=max(0, usage - inactive), rss_bytes=rss,
                       page_faults=stat.get(f"{prefix}pgfault", 0), major_page_faults=stat.get(f"{prefix}pgmajfault", 0))


def proc_stat_cpu_ns(text: str, clk_tck: int = _CLK_TCK) -> int:
    """Busy CPU time of the whole node from /proc/stat's `cpu` line, in nanoseconds."""
    for line in text.splitlines():
        if line.startswith("cpu "):
            ticks = [int(x) for x in line.split()[1:]]
            busy = sum(ticks[:8]) - ticks[3] - (ticks[4] if len(ticks) > 4 else 0)  # minus idle, iowait
            return busy * 1_000_000_000 // clk_tck
    raise ValueError("no cpu line in /proc/stat")


def meminfo(text: str) -> dict[str, int]:
    """/proc/meminfo in bytes."""
    out = {}
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[0].isdigit():
            out[name] = int(parts[0]) * 1024
    return out


def meminfo_usage(text: str) -> MemoryUsage:
    """The node's memory from /proc/meminfo: usage = total - free (page cache included, as
    the root cgroup counts it), working set = usage - inactive file pages."""
    kb = meminfo(text)
    usage = kb.get("MemTotal", 0) - kb.get("MemFree", 0)
    rss = kb.get("AnonPages", 0)
    return MemoryUsage(usage, max(0, usage - kb.get("Inactive(file)", 0)), rss, 0, 0)


class CgroupReader:
    def __init__(self, root: Path = CGROUP_ROOT, proc: Path = Path("/proc")) -> None:
        self.root, self.proc = Path(root), Path(proc)
        self.v2 = (self.root / "cgroup.controllers").exists()

    def _file(self, controller: str, cgroup: str, name: str) -> Path:
        rel = cgroup.strip("/")
        base = self.root if self.v2 else self.root / controller
        return base / rel / name

    def usage(self, cgroup: str) -> Usage | None:
        """A cgroup's usage, None when it does not exist (or is not readable)."""
        try:
            if self.v2:
                cpu_ns = parse_flat_keyed(self._file("", cgroup, "cpu.stat").read_text())["usage_usec"] * 1000
                mem_usage = int(self._file("", cgroup, "memory.current").read_text())
            else:
                cpu_ns = int(self._file("cpuacct", cgroup, "cpuacct.usage").read_text())
                mem_usage = int(self._file("memory", cgroup, "memory.usage_in_bytes").read_text())
            stat = parse_flat_keyed(self._file("memory", cgroup, "memory.stat").read_text())
        except (OSError, KeyError, ValueError):
            return None
        return Usage(cpu_ns, memory_from(mem_usage, stat, self.v2))

    def node_usage(self) -> tuple[Usage, int]:
        """The node's usage and its memory capacity (MemTotal)."""
        cpu_ns = proc_stat_cpu_ns((self.proc / "stat").read_text())
        text = (self.proc / "meminfo").read_text()
        return Usage(cpu_ns, meminfo_usage(text)), meminfo(text).get("MemTotal", 0)
