"""`pykube killall [--data-dir DIR] [--purge]`: stop a data dir's server or agent and remove
everything it made on the host, as k3s-killall.sh does.

Steps, each logged, each run even when an earlier one failed:
1. systemd units (`/etc/systemd/system/pykube*.service`) serving this data dir: stopped;
2. processes: those the data dir's pid files name (the server's or agent's, and the
   containerd it runs), with every process below them; never a match on names or command
   lines (a `tail -f` of the log or an `sqlite3 state.db` is left alone), never ourselves
   or our ancestors; SIGTERM, then SIGKILL after `--timeout`;
3. pods: the data dir's containerd is started once more, every sandbox is stopped and
   removed through CRI (so the CNI plugins release addresses and their NAT chains), then
   stopped, its shims killed, its mounts (network namespaces too) unmounted;
4. network: the CNI bridge the data dir's conflist names, routes into the pod range,
   kube-proxy's chains, leftover per-pod CNI NAT chains of this network;
5. mounts under the data dir, the empty cgroups under the kubelet's cgroup parent, the
   pid files; with `--purge`, the data dir itself.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shutil
import signal
from pathlib import Path
from typing import Any

from pykube import hostnet, procs, runstate
from pykube.runstate import HostState

log = logging.getLogger("pykube.killall")

SYSTEMD_DIR = Path("/etc/systemd/system")


def default_data_dir() -> Path:
    if env := os.environ.get("PYKUBE_DATA_DIR"):
        return Path(env)
    return Path("/var/lib/pykube") if os.geteuid() == 0 else Path.home() / ".local/share/pykube"


def register(sub: Any) -> None:
    p = sub.add_parser("killall", help="stop the server/agent of a data dir and remove its "
                                       "containers, bridge, routes, rules and mounts")
    p.add_argument("-d", "--data-dir", type=Path, default=None,
                   help="the server's or agent's data dir (default /var/lib/pykube as root, or $PYKUBE_DATA_DIR)")
    p.add_argument("--purge", action="store_true", help="also delete the data dir")
    p.add_argument("--timeout", type=float, default=20.0, help="seconds before SIGKILL")

    def run(args: argparse.Namespace) -> int:
        data_dir = (args.data_dir or default_data_dir()).resolve()
        return asyncio.run(killall(data_dir, purge=args.purge, timeout=args.timeout))
    p.set_defaults(func=run)


def states(data_dir: Path) -> list[HostState]:
    found = [s for role in runstate.ROLES if (s := HostState.read(data_dir, role)) is not None]
    if not found and (data_dir / "agent").is_dir():  # nothing recorded: the defaults
        agent = data_dir / "agent"
        found.append(HostState(role="agent", data_dir=str(data_dir), cni_bridge="cni0",
                               cni_network="pykube", cni_conf_dir=str(agent / "etc/cni/net.d"),
                               containerd_dir=str(agent / "containerd"), managed_containerd=True,
                               cgroup_parent="/pykube/kubepods"))
    return found


# ------------------------------------------------------------------ 1. systemd units
def units_for(data_dir: Path, unit_dir: Path = SYSTEMD_DIR) -> list[str]:
    """pykube units whose ExecStart names this data dir (or none, for the default one)."""
    out = []
    for unit in sorted(unit_dir.glob("pykube*.service")) if unit_dir.is_dir() else []:
        try:
            text = unit.read_text()
        except OSError:
            continue
        exec_lines = [line for line in text.splitlines() if line.strip().startswith("ExecStart=")]
        names_dir = any(procs.refers_to(line.split(), data_dir) for line in exec_lines)
        no_dir = not any("--data-dir" in line or " -d " in line for line in exec_lines)
        if names_dir or (no_dir and data_dir == Path("/var/lib/pykube")):
            out.append(unit.name)
    return out


async def stop_units(data_dir: Path) -> None:
    if not Path("/run/systemd/system").is_dir():
        return
    for unit in units_for(data_dir):
        code, _, err = await hostnet.run("systemctl", "stop", unit, timeout=120)
        log.info("systemctl stop %s%s", unit, "" if code == 0 else f": {err.strip()}")


# ------------------------------------------------------------------ 2. processes
def pid_files(data_dir: Path) -> list[Path]:
    """The pid files of what a data dir runs: the server/agent, and containerd (each
    HostState names its containerd dir)."""
    files = [runstate.pid_file(data_dir, role) for role in runstate.ROLES]
    for st in states(data_dir):
        if st.managed_containerd and st.containerd_dir:
            files.append(Path(st.containerd_dir) / "containerd.pid")
    return files


def target_pids(data_dir: Path) -> list[int]:
    roots = [p for f in pid_files(data_dir) if (p := procs.pid_from_file(f)) is not None]
    pids = set(roots)
    for root in roots:
        pids |= {p for p in procs.descendants(root) if not procs.is_shim(procs.argv_of(p))}
    pids -= procs.ancestors(os.getpid())
    return sorted(pids)


async def stop_processes(data_dir: Path, timeout: float) -> list[int]:
    """Stop what the data dir's pid files name; the pids signalled."""
    signalled = target_pids(data_dir)
    pids = list(signalled)
    if not pids:
        return []
    for pid in pids:
        _signal(pid, signal.SIGTERM)
    log.info("sent SIGTERM to %s", ", ".join(map(str, pids)))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        pids = [p for p in pids if runstate.pid_alive(p)]
        if not pids:
            break
        await asyncio.sleep(0.1)
    if pids:
        log.warning("still alive after %.0fs, sending SIGKILL: %s", timeout, ", ".join(map(str, pids)))
        for pid in pids:
            _signal(pid, signal.SIGKILL)
        await asyncio.sleep(0.2)
    # what they started meanwhile
    late = [p for p in target_pids(data_dir) if p not in signalled]
    for pid in late:
        _signal(pid, signal.SIGKILL)
    return signalled + late


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


# ------------------------------------------------------------------ 3. pods
async def remove_pods(state: HostState) -> None:
    if not state.managed_containerd or not state.containerd_dir:
        return
    from kubelet.runtime.containerd import Containerd, ContainerdOptions, kill_shims, unmount_all
    from kubelet.runtime.interface import RuntimeServiceError
    cdir = Path(state.containerd_dir)
    if not (cdir / "containerd.toml").exists():
        return
    opts = ContainerdOptions(data_dir=cdir, cni_conf_dir=Path(state.cni_conf_dir) if state.cni_conf_dir else None)
    if os.geteuid() == 0 and shutil.which(opts.containerd_bin):
        ctd = Containerd(opts)
        try:
            await ctd.start()
            rt = ctd.runtime()
            try:
                sandboxes = await rt.list_pod_sandboxes()
            finally:
                await rt.close()
            await ctd.stop(keep_pods=False)
            log.info("removed %d pod sandbox(es) through CRI (%s)", len(sandboxes), opts.socket)
        except RuntimeServiceError as e:
            log.warning("could not remove pods through CRI: %s", str(e).splitlines()[0])
            await ctd.stop(keep_pods=True)
    left = await kill_shims(opts.socket)
    if left:
        log.warning("shims still alive: %s", left)
    await unmount_all(cdir)


# ------------------------------------------------------------------ 4. network
async def clean_network(state: HostState) -> None:
    conf_dir = Path(state.cni_conf_dir) if state.cni_conf_dir else None
    bridges = hostnet.bridges_in_conflists(conf_dir) if conf_dir else []
    if state.cni_bridge and state.cni_bridge not in bridges and conf_dir is not None:
        bridges.append(state.cni_bridge)
    for br in bridges:
        if await hostnet.delete_link(br):
            log.info("deleted bridge %s", br)
    networks = (hostnet.networks_in_conflists(conf_dir) if conf_dir else []) or \
        ([state.cni_network] if state.cni_network else [])
    chains = await hostnet.delete_cni_nat_leftovers(networks)
    if chains:
        log.info("deleted %d leftover CNI NAT chain(s) of %s", len(chains), ", ".join(networks))
    if state.cluster_cidr:
        removed = await hostnet.delete_routes_within([state.cluster_cidr])
        if removed:
            log.info("deleted routes %s", ", ".join(removed))
    from pykube import components
    try:
        await components.proxy_cleanup(state)
    except Exception as e:  # noqa: BLE001 - reported, the rest still runs
        log.warning("kube-proxy cleanup: %s", e)
    try:
        await components.netpol_cleanup(state)
    except Exception as e:  # noqa: BLE001 - reported, the rest still runs
        log.warning("network policy cleanup: %s", e)


# ------------------------------------------------------------------ 5. the rest
def remove_empty_cgroups(parent: str, root: Path = Path("/sys/fs/cgroup")) -> int:
    """rmdir the empty cgroups at and below the top of `parent` (e.g. /pykube), deepest first."""
    top = parent.strip("/").split("/")[0]
    if not top:
        return 0
    bases = [root / top] + [d / top for d in root.iterdir() if d.is_dir()] if root.is_dir() else []
    removed = 0
    for base in bases:
        if not base.is_dir():
            continue
        # os.walk bottom-up, not rglob: a lab's nodes stop at once and remove each other's
        # cgroups under a shared parent while this walks (a vanished directory is skipped)
        dirs = [Path(d) for d, _, _ in os.walk(base, topdown=False)]
        for d in dirs:
            try:
                d.rmdir()
                removed += 1
            except OSError:
                pass
    return removed


async def killall(data_dir: Path, purge: bool = False, timeout: float = 20.0) -> int:
    if not data_dir.exists():
        log.info("%s does not exist: nothing to do", data_dir)
        return 0
    found = states(data_dir)
    problems: list[str] = []

    async def step(name: str, coro: Any) -> None:
        try:
            await coro
        except Exception as e:  # noqa: BLE001 - every step runs
            problems.append(f"{name}: {e}")
            log.error("%s failed: %s", name, e)

    await step("systemd", stop_units(data_dir))
    await step("processes", stop_processes(data_dir, timeout))
    for st in found:
        await step(f"{st.role} pods", remove_pods(st))
    for st in found:
        await step(f"{st.role} network", clean_network(st))
    from kubelet.runtime.containerd import mounts_under, unmount_all
    await step("mounts", unmount_all(data_dir))
    for st in found:
        if st.cgroup_parent:
            n = remove_empty_cgroups(st.cgroup_parent)
            if n:
                log.info("removed %d empty cgroup(s) under %s", n, st.cgroup_parent)
    for role in runstate.ROLES:
        runstate.pid_file(data_dir, role).unlink(missing_ok=True)
    left = target_pids(data_dir)
    if left:
        problems.append(f"processes still running: {left}")
    mounts = mounts_under(data_dir)
    if mounts:
        problems.append(f"still mounted: {mounts}")
    if purge and not mounts:
        shutil.rmtree(data_dir, ignore_errors=True)
        log.info("removed %s", data_dir)
    for p in problems:
        log.error("%s", p)
    log.info("killall %s: %s", data_dir, "done" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0
