"""What a pykube cluster may leave on the host, looked for after `make down` / killall.

`leftovers(...)` lists, as readable lines, anything still there that names the cluster's
data dir, bridge, CNI network, pod or service range, or Service: processes (and shims of
its containerd socket), the bridge, iptables rules, routes, mounts and cgroups. Empty
means clean. `kube_chains()` lists kube-proxy's chains (to compare before and after).
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

from kubelet.runtime.containerd import find_shims
from pykube import procs


def sh(*argv: str) -> str:
    return subprocess.run(argv, capture_output=True, text=True, check=False).stdout


def prefix_of(cidr: str) -> str:
    """`10.77.0.0/16` -> `10.77.` (what addresses in the range start with)."""
    addr, bits = cidr.split("/")
    keep = max(1, int(bits) // 8)
    return ".".join(addr.split(".")[:keep]) + "."


def kube_chains() -> set[str]:
    """kube-proxy's and network policy's chains on the host."""
    return {line.split()[0][1:] for line in sh("iptables-save").splitlines()
            if line.startswith((":KUBE-", ":PYKUBE-"))}


def processes_naming(data_dir: Path) -> list[int]:
    """Processes (not shims) whose command line names the data dir: a leak detector for
    the tests only (killall itself never picks processes this way)."""
    me = procs.ancestors(os.getpid())
    return [p for p in procs.all_pids() if p not in me and (argv := procs.argv_of(p))
            and not procs.is_shim(argv) and procs.refers_to(argv, data_dir)]


def leftovers(data_dir: Path, bridge: str, network: str, cidrs: list[str], names: list[str],
              cgroup_top: str | None = None) -> list[str]:
    out = []
    pids = processes_naming(data_dir)
    if pids:
        out.append(f"processes: {[' '.join(procs.argv_of(p)) for p in pids]}")
    shims = find_shims(data_dir / "agent" / "containerd" / "run" / "containerd.sock")
    if shims:
        out.append(f"shims: {shims}")
    if Path(f"/sys/class/net/{bridge}").exists():
        out.append(f"bridge {bridge}")
    needles = [bridge, f'\\"{network}\\"', *map(prefix_of, cidrs), *names]
    rules = [line for line in sh("iptables-save").splitlines() if any(n in line for n in needles)]
    if rules:
        out.append(f"iptables: {rules}")
    routes = [line for line in sh("ip", "-4", "route").splitlines()
              if any(line.startswith(prefix_of(c)) for c in cidrs) or bridge in line]
    if routes:
        out.append(f"routes: {routes}")
    mounts = [line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines()
              if str(data_dir) in line.split()[4]]
    if mounts:
        out.append(f"mounts: {mounts}")
    if cgroup_top and any(Path("/sys/fs/cgroup").glob(f"*/{cgroup_top}")):
        out.append(f"cgroups /{cgroup_top}")
    return out
