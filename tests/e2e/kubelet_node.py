"""A real node for the kubelet e2e tests: the kubelet as its own process, its containerd, cleanup.

`KubeletNode` runs `python -m kubelet.cli` (as root) against an apiserver, with a data dir
under the test's tmp dir. The kubelet finds no containerd there, starts its own (k3s'
way) and imports the offline images the test put into `<data dir>/agent/images`. Names
are unique per run: the CNI bridge `pke<hex>`, network `pke-<hex>`, a free
`10.89.x.0/24`, the cgroup parent `/pykube-e2e-<hex>/kubepods`.

`cleanup()` runs pass or fail: SIGKILL the kubelet, remove every pod through CRI (which
releases IPs and the CNI plugin's iptables chains), stop containerd (by its pid file),
kill leftover shims, unmount, delete the bridge, restore ip_forward, remove the cgroups
and the host dirs containerd created, then `leftovers()` reports anything still there
(processes naming our socket, the bridge, iptables rules naming bridge/subnet/network).
"""
from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import uuid
from pathlib import Path

from kubelet.runtime.containerd import ContainerdOptions, find_shims, kill_shims, unmount_all
from kubelet.runtime.cri import CRIRuntime
from kubelet.runtime.interface import RuntimeServiceError
from tests.support.runtime_node import (HOST_DIRS, IP_FORWARD, _cleanup_host, _drop_empty_nat_table,
                                        _nat_table_exists, _no_rules)

REPO = Path(__file__).resolve().parents[2]


def _sh(*argv: str) -> str:
    return subprocess.run(argv, capture_output=True, text=True, check=False).stdout


def free_subnet() -> str:
    used = _sh("ip", "-4", "-o", "addr") + _sh("ip", "-4", "route")
    for x in random.sample(range(1, 255), 254):
        if f"10.89.{x}." not in used:
            return f"10.89.{x}.0/24"
    raise RuntimeError("no free 10.89.x.0/24")


def _gone(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


class KubeletNode:
    def __init__(self, base: Path, kubeconfig: Path, node_name: str = "e2e-node") -> None:
        tag = uuid.uuid4().hex[:6]
        self.base, self.kubeconfig, self.node_name = base, kubeconfig, node_name
        self.data_dir = base / "data"
        self.bridge, self.network, self.cg_root = f"pke{tag}", f"pke-{tag}", f"pykube-e2e-{tag}"
        self.subnet = free_subnet()
        self.opts = ContainerdOptions(data_dir=self.data_dir / "agent" / "containerd",
                                      cni_conf_dir=self.data_dir / "agent" / "etc" / "cni" / "net.d")
        self.images_dir = self.data_dir / "agent" / "images"
        self.proc: asyncio.subprocess.Process | None = None
        self.log_path = base / "kubelet.log"
        self.forward = IP_FORWARD.read_text().strip()
        self.host_dirs_before = {d: d.exists() for d in HOST_DIRS}
        self.nat_before = _nat_table_exists()
        self.starts = 0

    @property
    def address(self) -> str:
        return f"unix://{self.opts.socket}"

    def runtime(self) -> CRIRuntime:
        return CRIRuntime(self.address)

    async def start(self, *extra: str) -> None:
        self.starts += 1
        argv = [sys.executable, "-m", "kubelet.cli", "--kubeconfig", str(self.kubeconfig),
                "--node-name", self.node_name, "--data-dir", str(self.data_dir), "--port", "0",
                "--pod-cidr", self.subnet, "--cni-bridge", self.bridge, "--cni-network", self.network,
                "--cgroup-parent", f"/{self.cg_root}/kubepods", "--crashloop-backoff-base", "1", *extra]
        log = self.log_path.open("ab")
        log.write(f"\n---- start {self.starts}: {' '.join(argv)}\n".encode())
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        self.proc = await asyncio.create_subprocess_exec(*argv, stdout=log, stderr=log, env=env, cwd=str(REPO))
        log.close()

    async def kill(self) -> None:
        """SIGKILL the kubelet (its containerd, in its own session, lives on)."""
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGKILL)
            await self.proc.wait()

    def log_tail(self, n: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-n:]
        except OSError:
            return ""

    async def cleanup(self) -> list[str]:
        problems: list[str] = []
        steps = [("kill kubelet", self.kill()), ("remove pods", self._remove_pods()),
                 ("stop containerd", self._stop_containerd()), ("kill shims", self._kill_shims()),
                 ("unmount", unmount_all(self.base)),
                 ("host", _cleanup_host(self.bridge, self.cg_root, self.forward, self.host_dirs_before)),
                 ("nat table", _drop_empty_nat_table(self.nat_before))]
        for name, step in steps:  # every step runs even when an earlier one failed
            try:
                await step
            except Exception as e:  # noqa: BLE001 - collected and reported
                problems.append(f"{name}: {e!r}")
        return problems + await self.leftovers()

    async def _remove_pods(self) -> None:
        if not self.opts.socket.exists():
            return
        rt = CRIRuntime(self.address, timeout=10)
        try:
            for sb in await rt.list_pod_sandboxes():
                await rt.stop_pod_sandbox(sb.id)
                await rt.remove_pod_sandbox(sb.id)
        except RuntimeServiceError:
            pass
        finally:
            await rt.close()

    async def _stop_containerd(self) -> None:
        try:
            pid = int(self.opts.pid_file.read_text().split()[0])
        except (OSError, ValueError):
            return
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        for _ in range(100):
            if _gone(pid):
                return
            await asyncio.sleep(0.05)
        os.kill(pid, signal.SIGKILL)

    async def _kill_shims(self) -> None:
        left = await kill_shims(self.opts.socket)
        if left:
            raise RuntimeError(f"shims still alive: {left}")

    async def leftovers(self) -> list[str]:
        out = []
        if find_shims(self.opts.socket):
            out.append(f"shims for {self.opts.socket}")
        ps = [line for line in _sh("ps", "-eo", "pid,args").splitlines() if str(self.data_dir) in line]
        if ps:
            out.append(f"processes: {ps}")
        try:
            await _no_rules(self.bridge, self.network, self.subnet)
        except RuntimeError as e:
            out.append(str(e))
        mounts = [line for line in Path("/proc/self/mountinfo").read_text().splitlines() if str(self.base) in line]
        if mounts:
            out.append(f"mounts: {mounts}")
        if any(Path("/sys/fs/cgroup").glob(f"*/{self.cg_root}")):
            out.append(f"cgroups {self.cg_root}")
        return out
