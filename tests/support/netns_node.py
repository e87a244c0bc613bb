"""Test support: several nodes on one machine, each in its own network namespace (kind-style).

Owns, for tests that drive each node's containerd themselves (no kubelet), a lab as
NODE-STACK.md ("Several nodes on one machine") found working; the product's own lab
(`pykube lab`, pykube/lab/) shares its pieces (free subnet, cgroup re-mounts): a host bridge
`pkt<hex>` with `172.31.X.1/24` (X free on this host), and per node a network namespace
`pkt-<hex>-<i>` joined to it by a veth (`pkv<hex><i>` on the host, `eth0` inside, address
`172.31.X.(10+i)`, default route via the bridge), a long-lived anchor process holding
the node's mount + UTS namespaces (cgroup hierarchies re-mounted, private tmpfs on
/run/containerd and /var/lib/cni), and a private containerd started inside it with
`nsenter -t <anchor> -n -m -u`, its CNI config the kubelet's own (`kubelet.network`:
bridge `cni0`, host-local IPAM on the node's pod CIDR, portmap, loopback).

Everything a node makes (bridges, veths, routes, iptables chains, conntrack, pod network
namespaces) lives in its namespace; the host gets only the lab bridge, the veth ends, the
`/run/netns` entries and the pods' cgroups under `/pykube-<hex>`. `NetnsLab.cleanup()`
runs pass or fail and removes all of it (containerd removes its pods through CRI, shims
are killed by socket, anchors killed, namespaces and bridge deleted, cgroups and host dirs
removed); `leftovers()` then reports anything still on the host. `node.sh(...)` runs a
command inside a node's network namespace; `node.prefix` is that command prefix (give it
to kube-proxy's `Runner`).
"""
from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from kubelet.network import write_cni_config
from pykube.lab.netns import cgroup_mount_script
from pykube.lab.netns import free_lab_octet as _free_octet
from kubelet.runtime.containerd import Containerd, ContainerdOptions, find_shims
from kubelet.runtime.cri import CRIRuntime
from kubelet.runtime.interface import ContainerConfig, DNSConfig, SandboxConfig
from tests.support.runtime_node import _remove_cgroups, _remove_if_empty

HOST_DIRS = [Path("/run/containerd"), Path("/var/lib/cni")]


def _host(*argv: str) -> str:
    return subprocess.run(argv, capture_output=True, text=True, check=False).stdout


async def sh(*argv: str, stdin: str | None = None, check: bool = True,
             timeout: float = 60) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        *argv, stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        out, err = await asyncio.wait_for(proc.communicate(stdin.encode() if stdin else None), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    if check and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: exit {proc.returncode}: {err.decode().strip()}")
    return proc.returncode or 0, out.decode(errors="replace"), err.decode(errors="replace")


def free_lab_octet() -> int:
    return _free_octet(_host("ip", "-4", "-o", "addr") + _host("ip", "-4", "route"))


@dataclass
class PodHandle:
    name: str
    namespace: str
    uid: str
    sandbox_id: str
    container_id: str
    ip: str


class NetnsNode:
    def __init__(self, lab: NetnsLab, index: int, pod_cidr: str) -> None:
        self.lab, self.index, self.pod_cidr = lab, index, pod_cidr
        self.name = f"n{index}"
        self.netns = f"pkt-{lab.tag}-{index}"
        self.host_veth = f"pkv{lab.tag}{index}"
        self.ip = f"{lab.prefix}.{10 + index}"
        self.base = lab.base / self.name
        self.prefix = ["nsenter", f"--net=/run/netns/{self.netns}"]
        self.anchor: asyncio.subprocess.Process | None = None
        self.containerd: Containerd | None = None
        self._runtime: CRIRuntime | None = None

    async def sh(self, *argv: str, stdin: str | None = None, check: bool = True,
                 timeout: float = 60) -> tuple[int, str, str]:
        """Run a command in this node's network namespace."""
        return await sh(*self.prefix, *argv, stdin=stdin, check=check, timeout=timeout)

    async def start(self, images: Path | None) -> None:
        self.lab.made_netns.append(self.netns)
        await sh("ip", "netns", "add", self.netns)
        await sh("ip", "link", "add", self.host_veth, "type", "veth", "peer", "name", "eth0",
                 "netns", self.netns)
        await sh("ip", "link", "set", self.host_veth, "master", self.lab.bridge, "up")
        for cmd in (["ip", "addr", "add", f"{self.ip}/24", "dev", "eth0"], ["ip", "link", "set", "lo", "up"],
                    ["ip", "link", "set", "eth0", "up"], ["ip", "route", "add", "default", "via", self.lab.gateway]):
            await self.sh(*cmd)
        await self._start_anchor()
        await self._start_containerd(images)

    async def _start_anchor(self) -> None:
        script = (f"{cgroup_mount_script()} && mkdir -p /run/containerd /var/lib/cni && "
                  f"mount -t tmpfs -o mode=0711 tmpfs /run/containerd && "
                  f"mount -t tmpfs -o mode=0700 tmpfs /var/lib/cni && hostname {self.name} && "
                  f"echo ready && exec sleep infinity")
        self.anchor = await asyncio.create_subprocess_exec(
            "ip", "netns", "exec", self.netns, "unshare", "--mount", "--uts", "--propagation", "slave",
            "/bin/sh", "-c", script, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            stdin=asyncio.subprocess.DEVNULL, start_new_session=True)
        assert self.anchor.stdout is not None
        line = await asyncio.wait_for(self.anchor.stdout.readline(), 10)
        if line.strip() != b"ready":
            err = await self.anchor.stderr.read() if self.anchor.stderr else b""  # type: ignore[union-attr]
            raise RuntimeError(f"anchor of {self.name} failed: {err.decode()}")

    async def _start_containerd(self, images: Path | None) -> None:
        assert self.anchor is not None
        self.base.mkdir(parents=True, exist_ok=True)
        wrapper = self.base / "containerd-in-node.sh"
        wrapper.write_text(f'#!/bin/sh\nexec nsenter -t {self.anchor.pid} -n -m -u -- containerd "$@"\n')
        wrapper.chmod(0o755)
        opts = ContainerdOptions(data_dir=self.base / "containerd", cni_conf_dir=self.base / "cni" / "net.d",
                                 containerd_bin=str(wrapper))
        assert opts.cni_conf_dir is not None
        write_cni_config(opts.cni_conf_dir, self.pod_cidr, ipam_dir=self.base / "cni" / "ipam")
        self.containerd = Containerd(opts)
        await self.containerd.start()
        if images is not None:
            await self.containerd.import_images_dir(images)

    @property
    def runtime(self) -> CRIRuntime:
        assert self.containerd is not None
        if self._runtime is None:
            self._runtime = self.containerd.runtime()
        return self._runtime

    async def run_pod(self, name: str, image: str, command: list[str], *, namespace: str = "default",
                      uid: str | None = None, labels: dict[str, str] | None = None,
                      dns: DNSConfig | None = None) -> PodHandle:
        uid = uid or str(uuid.uuid4())
        cfg = SandboxConfig(name=name, namespace=namespace, uid=uid, hostname=name,
                            log_directory=str(self.base / "logs" / f"{namespace}_{name}_{uid}"),
                            dns=dns, labels=labels or {}, cgroup_parent=f"/{self.lab.cg_root}/{self.name}/pod{uid}")
        rt = self.runtime
        sid = await rt.run_pod_sandbox(cfg)
        ip = (await rt.pod_sandbox_status(sid)).ip
        cid = await rt.create_container(sid, ContainerConfig(name="main", image=image, command=command,
                                                             log_path="main/0.log"), cfg)
        await rt.start_container(cid)
        return PodHandle(name, namespace, uid, sid, cid, ip)

    async def remove_pod(self, pod: PodHandle) -> None:
        await self.runtime.stop_pod_sandbox(pod.sandbox_id)
        await self.runtime.remove_pod_sandbox(pod.sandbox_id)

    async def exec(self, pod: PodHandle, script: str, timeout: int = 60) -> tuple[int, str, str]:
        r = await self.runtime.exec_sync(pod.container_id, ["sh", "-c", script], timeout=timeout)
        return r.exit_code, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")

    async def stop(self) -> None:
        if self._runtime is not None:
            await self._runtime.close()
            self._runtime = None
        if self.containerd is not None:
            await self.containerd.stop()          # pods removed through CRI, shims killed, unmounted
            left = find_shims(self.containerd.socket)
            if left:
                raise RuntimeError(f"shims of {self.name} still alive: {left}")
        if self.anchor is not None and self.anchor.returncode is None:
            os.killpg(self.anchor.pid, signal.SIGKILL)
            await self.anchor.wait()


class NetnsLab:
    def __init__(self, base: Path) -> None:
        self.tag = uuid.uuid4().hex[:6]
        self.base = base
        self.octet = free_lab_octet()
        self.prefix = f"172.31.{self.octet}"
        self.subnet = f"{self.prefix}.0/24"
        self.gateway = f"{self.prefix}.1"
        self.bridge = f"pkt{self.tag}"
        self.cg_root = f"pykube-{self.tag}"
        self.nodes: list[NetnsNode] = []
        self.made_netns: list[str] = []
        self.host_dirs_before = {d: d.exists() for d in HOST_DIRS}

    async def create(self) -> None:
        await sh("ip", "link", "add", self.bridge, "type", "bridge")
        await sh("ip", "addr", "add", f"{self.gateway}/24", "dev", self.bridge)
        await sh("ip", "link", "set", self.bridge, "up")

    async def add_node(self, pod_cidr: str, images: Path | None) -> NetnsNode:
        node = NetnsNode(self, len(self.nodes) + 1, pod_cidr)
        self.nodes.append(node)
        await node.start(images)
        return node

    async def cleanup(self) -> list[str]:
        problems: list[str] = []
        steps = [(f"stop {n.name}", n.stop()) for n in self.nodes]
        steps += [(f"netns {ns}", sh("ip", "netns", "del", ns)) for ns in self.made_netns]
        steps += [("bridge", sh("ip", "link", "del", self.bridge, check=False)),
                  ("cgroups", asyncio.to_thread(_remove_cgroups, self.cg_root)),
                  ("host dirs", asyncio.to_thread(self._remove_host_dirs))]
        for name, step in steps:      # every step runs even when an earlier one failed
            try:
                await step
            except Exception as e:  # noqa: BLE001 - collected and reported
                problems.append(f"{name}: {e!r}")
        left = self.leftovers()
        for _ in range(50):          # the kernel frees a deleted namespace's devices asynchronously
            if not left:
                break
            await asyncio.sleep(0.1)
            left = self.leftovers()
        return problems + left

    def _remove_host_dirs(self) -> None:
        for d, existed in self.host_dirs_before.items():
            if not existed and d.exists():
                _remove_if_empty(d)

    def leftovers(self) -> list[str]:
        out = []
        netns = _host("ip", "netns", "list")
        out += [f"netns {ns}" for ns in self.made_netns if ns in netns]
        links = [ln for ln in _host("ip", "-o", "link").splitlines() if self.tag in ln]
        out += [f"link: {ln.split(':')[1].strip()}" for ln in links]
        out += [f"route: {r}" for r in _host("ip", "-4", "route").splitlines() if self.prefix + "." in r]
        out += [f"iptables: {r}" for r in _host("iptables-save").splitlines()
                if self.prefix + "." in r or self.bridge in r]
        mine = str(self.base)
        procs = [ln for ln in _host("ps", "-eo", "pid,args").splitlines() if mine in ln or self.tag in ln]
        out += [f"process: {p}" for p in procs if "ps -eo" not in p]
        mounts = [ln for ln in Path("/proc/self/mountinfo").read_text().splitlines()
                  if mine in ln or f"pkt-{self.tag}" in ln]
        out += [f"mount: {m}" for m in mounts]
        if any(Path("/sys/fs/cgroup").glob(f"*/{self.cg_root}")):
            out.append(f"cgroups {self.cg_root}")
        return out


@contextlib.asynccontextmanager
async def netns_lab(base: Path) -> AsyncIterator[NetnsLab]:
    """A lab bridge; add nodes with `add_node`. Cleaned up and checked on exit."""
    lab = NetnsLab(base)
    problems: list[str] = []
    try:
        await lab.create()
        yield lab
    finally:
        problems = await lab.cleanup()
    assert not problems, "netns lab left things behind:\n" + "\n".join(problems)
