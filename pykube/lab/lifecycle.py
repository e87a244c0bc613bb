"""Bringing a lab up and down, and one node at a time: the I/O behind `pykube lab`.

Owns the order of things. Up: record the plan (lab.json), make the bridge, per node its
namespace and anchor, the etcd member when asked, then run `deploy/vagrant/provision.sh`
inside each node (`server` first, then any more servers one by one, each joining the
first's embedded etcd, then the agents together), exactly the script a Vagrant VM
runs, which runs `deploy/install.sh server|agent` with the token shared through
`<lab>/shared`; then wait for every Node to be Ready and write the kubeconfig.
A node is stopped with `pykube killall` run inside it (its processes, pods, bridge,
chains: a machine switched off) and started again by provisioning it again.
Down: killall --purge inside every node, anchors, namespaces, veths, bridge, rule,
cgroups, the lab dir; then `leftovers()` says what, if anything, is still on the host.
"""
from __future__ import annotations

import asyncio
import logging
import os
import shutil
import sys
import time
from pathlib import Path

from pykube import procs
from pykube.hostnet import run
from pykube.lab import netns
from pykube.lab.state import Lab, LabNode

log = logging.getLogger("pykube.lab")

REPO = Path(__file__).resolve().parents[2]
PROVISION = REPO / "deploy" / "vagrant" / "provision.sh"


class LabError(RuntimeError):
    pass


def pykube_cmd() -> list[str]:
    return [sys.executable, "-m", "pykube.main"]


# ------------------------------------------------------------------ up
async def up(lab: Lab, timeout: float = 300.0) -> None:
    lab.write()
    lab.shared.mkdir(parents=True, exist_ok=True)
    (lab.path / "logs").mkdir(exist_ok=True)
    await netns.create_bridge(lab.bridge, lab.prefix)
    for node in lab.nodes:
        await netns.create_node_net(node.netns, node.host_veth, lab.bridge, node.ip, lab.gateway)
        node.anchor_pid = await netns.start_anchor(node.netns, node.name)
        lab.write()
        log.info("node %s: namespace %s, address %s", node.name, node.netns, node.ip)
    if lab.datastore == "etcd":
        lab.etcd_pid = await start_etcd(lab)
        lab.write()
    deadline = time.monotonic() + timeout
    await provision(lab, lab.server)
    for n in lab.nodes:          # more servers one at a time: etcd adds one member at a time
        if n.is_server and n is not lab.server:
            await provision(lab, n)
    await asyncio.gather(*(provision(lab, n) for n in lab.nodes if not n.is_server))
    shutil.copyfile(lab.shared / "admin.kubeconfig", lab.kubeconfig)
    lab.kubeconfig.chmod(0o600)
    await wait_ready(lab, [n.name for n in lab.nodes], deadline - time.monotonic())


def provision_env(lab: Lab, node: LabNode) -> dict[str, str]:
    return {**os.environ, "NODE_IP": node.ip, "NODE_NAME": node.name, "SHARED": str(lab.shared),
            "DATA_DIR": node.data_dir, "VENV": sys.prefix, "MODE": "background", "WAIT": "180",
            "EXTRA_ARGS": lab.extra_args(node), "REGISTRY": "1" if lab.registry else "0",
            "REGISTRIES": str(lab.registries_file(node)), "CLUSTER": lab.cluster_role(node)}


async def provision(lab: Lab, node: LabNode) -> None:
    """Run provision.sh inside the node, as a Vagrant VM runs it."""
    logfile = lab.path / "logs" / f"{node.name}.provision.log"
    log.info("node %s: provision.sh %s", node.name, node.role)
    with logfile.open("ab") as out:
        proc = await asyncio.create_subprocess_exec(
            *netns.enter_prefix(node.anchor_pid), "bash", str(PROVISION), node.role,
            env=provision_env(lab, node), stdout=out, stderr=out, stdin=asyncio.subprocess.DEVNULL)
        code = await proc.wait()
    if code != 0:
        tail = logfile.read_text(errors="replace")[-3000:]
        raise LabError(f"provisioning {node.name} failed (exit {code}); {logfile}:\n{tail}")


async def start_etcd(lab: Lab) -> int:
    """One etcd member inside the server node, listening on its lab address."""
    node, url = lab.server, f"http://{lab.server.ip}:2379"
    data, logfile = lab.path / "etcd", lab.path / "logs" / "etcd.log"
    script = (f'etcd --name {node.name} --data-dir "{data}" --listen-client-urls {url} '
              f"--advertise-client-urls {url} --listen-peer-urls http://127.0.0.1:2380 "
              f'>>"{logfile}" 2>&1 </dev/null & echo $!')
    out = await netns.must(*netns.enter_prefix(node.anchor_pid), "setsid", "/bin/sh", "-c", script)
    pid = int(out.split()[0])
    for _ in range(100):
        code, body, _ = await run(*netns.enter_prefix(node.anchor_pid), "etcdctl", "--endpoints", url,
                                  "endpoint", "health")
        if code == 0:
            return pid
        await asyncio.sleep(0.2)
    raise LabError(f"etcd did not become healthy; {logfile}")


# ------------------------------------------------------------------ nodes
async def node_states(lab: Lab) -> dict[str, tuple[str, str]]:
    """Node name -> (Ready status, kubelet version) as the apiserver has them."""
    from client import kubeconfig
    from client.rest import Client
    from api.resources import by_kind
    if not lab.kubeconfig.exists():
        return {}
    out: dict[str, tuple[str, str]] = {}
    async with Client(kubeconfig.load(str(lab.kubeconfig)), component="pykube-lab") as client:
        items = (await client.list(by_kind("v1", "Node"))).items
    for item in items:
        ready = "Unknown"
        for c in item.get("status", {}).get("conditions") or []:
            if c.get("type") == "Ready":
                ready = {"True": "Ready", "False": "NotReady"}.get(c.get("status"), "Unknown")
        out[item["metadata"]["name"]] = (ready, item.get("status", {}).get("nodeInfo", {}).get("kubeletVersion", ""))
    return out


async def wait_ready(lab: Lab, names: list[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last: dict[str, tuple[str, str]] = {}
    while True:
        try:
            last = await node_states(lab)
        except Exception as e:  # noqa: BLE001 - the apiserver may still be starting
            log.debug("nodes: %s", e)
        if all(last.get(n, ("",))[0] == "Ready" for n in names):
            return
        if time.monotonic() > deadline:
            seen = {n: last.get(n, ("absent",))[0] for n in names}
            raise LabError(f"nodes not Ready after {timeout:.0f}s: {seen}; logs in {lab.path / 'nodes'}/*/logs")
        await asyncio.sleep(0.5)


def agent_running(node: LabNode) -> bool:
    from pykube.runstate import read_pid
    return read_pid(Path(node.data_dir), node.role) is not None


async def stop_node(lab: Lab, node: LabNode) -> None:
    """Switch the node off: its pykube, containers and node network go (killall inside it)."""
    if not netns.anchor_alive(node.anchor_pid):
        raise LabError(f"node {node.name} has no namespace anchor (was the lab brought down?)")
    code, out, err = await run(*netns.enter_prefix(node.anchor_pid), *pykube_cmd(), "killall",
                               "-d", node.data_dir, "--timeout", "10", timeout=180)
    if code != 0:
        raise LabError(f"killall on {node.name} failed:\n{err[-2000:]}")


async def start_node(lab: Lab, node: LabNode, timeout: float = 120.0) -> None:
    if not netns.anchor_alive(node.anchor_pid):
        raise LabError(f"node {node.name} has no namespace anchor (was the lab brought down?)")
    await provision(lab, node)
    await wait_ready(lab, [node.name], timeout)


# ------------------------------------------------------------------ down
async def down(lab: Lab) -> list[str]:
    """Remove everything the lab made; the problems met (empty when all went)."""
    problems: list[str] = []

    async def step(what: str, coro: object) -> None:
        try:
            await coro  # type: ignore[misc]
        except Exception as e:  # noqa: BLE001 - every step runs
            problems.append(f"{what}: {e}")

    async def killall(node: LabNode) -> None:
        if not netns.anchor_alive(node.anchor_pid) or not Path(node.data_dir).exists():
            return
        code, _, err = await run(*netns.enter_prefix(node.anchor_pid), *pykube_cmd(), "killall",
                                 "-d", node.data_dir, "--purge", "--timeout", "10", timeout=180)
        if code != 0:
            raise LabError(err.strip()[-1500:])

    await asyncio.gather(*(step(f"killall {n.name}", killall(n)) for n in lab.nodes))
    if lab.etcd_pid:
        await step("etcd", _stop_pid(lab.etcd_pid, lab.path))
    for node in lab.nodes:
        netns.stop_anchor(node.anchor_pid)
        await step(f"network of {node.name}", netns.delete_node_net(node.netns, node.host_veth))
    await step("bridge", netns.delete_bridge(lab.bridge))
    from pykube.killall import remove_empty_cgroups
    remove_empty_cgroups(f"/{lab.cgroup_top}")
    left = leftovers(lab)
    for _ in range(50):       # the kernel frees a deleted namespace's devices asynchronously
        if not left:
            break
        await asyncio.sleep(0.1)
        left = leftovers(lab)
    if not left and not problems:
        shutil.rmtree(lab.path, ignore_errors=True)
    return problems + left


def lab_processes(lab_dir: Path) -> list[int]:
    """Processes whose command line names a path in the lab dir: a report of what is left,
    never a list to kill (killall stops pid-file trees only); this `pykube lab` and its
    parents are not counted."""
    mine = procs.ancestors(os.getpid())
    return [p for p in procs.all_pids() if p not in mine and procs.refers_to(procs.argv_of(p), lab_dir)]


def _ours(pid: int, owner: Path) -> bool:
    return procs.refers_to(procs.argv_of(pid), owner)


async def _stop_pid(pid: int, owner: Path) -> None:
    """SIGTERM a process we started, when it is still ours (its command line names the lab)."""
    import signal
    if not _ours(pid, owner):
        return
    os.kill(pid, signal.SIGTERM)
    for _ in range(100):
        if not _ours(pid, owner):
            return
        await asyncio.sleep(0.1)
    os.kill(pid, signal.SIGKILL)


def leftovers(lab: Lab) -> list[str]:
    """What of this lab is still on the host: namespaces, links, rules, sets, processes, mounts, cgroups."""
    import subprocess

    def sh(*argv: str) -> str:
        return subprocess.run(argv, capture_output=True, text=True, check=False).stdout
    out = [f"netns {n.netns}" for n in lab.nodes if n.netns in sh("ip", "netns", "list").split()]
    out += [f"link {ln.split(':')[1].strip()}" for ln in sh("ip", "-o", "link").splitlines()
            if f"pklbr{lab.tag}" in ln or f"pklv{lab.tag}" in ln]
    out += [f"route {r}" for r in sh("ip", "-4", "route").splitlines() if f"{lab.prefix}." in r]
    out += [f"iptables {r}" for r in sh("iptables-save").splitlines() if lab.bridge in r or f"{lab.prefix}." in r]
    out += [f"process {p}: {' '.join(procs.argv_of(p))}" for p in lab_processes(lab.path)]
    out += [f"ipset {ln}" for ln in sh("ipset", "save").splitlines() if f"{lab.prefix}." in ln]
    out += [f"anchor {n.anchor_pid}" for n in lab.nodes if netns.anchor_alive(n.anchor_pid)]
    out += [f"mount {ln.split()[4]}" for ln in Path("/proc/self/mountinfo").read_text().splitlines()
            if lab.dir in ln.split()[4]]
    if any(Path("/sys/fs/cgroup").glob(f"*/{lab.cgroup_top}")) or Path(f"/sys/fs/cgroup/{lab.cgroup_top}").exists():
        out.append(f"cgroups /{lab.cgroup_top}")
    return out
